/*
 * spool.c — staging files of regular files being written.
 *
 * A spool file is named after its inode and lives as long as the inode's
 * content is ENRP_CONTENT_SPOOL.  Creation is lazy (first open), so an inode
 * whose create was lost in a crash leaves at most a file that
 * enrp_ns_recover() removes; removal waits until the metadata that freed the
 * inode is durable (spool_unlink_hook), so a crash can never leave an inode
 * pointing at a removed spool file.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <enrp/enrp.h>
#include <enrp/spool.h>

#include "spool_int.h"

void spool_name(char *buf, uint64_t ino)
{
	snprintf(buf, SPOOL_NAME_LEN + 1, "%016" PRIx64, ino);
}

bool spool_parse_name(const char *name, uint64_t *ino)
{
	if (strlen(name) != SPOOL_NAME_LEN)
		return false;
	uint64_t v = 0;
	for (int i = 0; i < SPOOL_NAME_LEN; i++) {
		char c = name[i];
		int d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			return false;
		v = v << 4 | (uint64_t)d;
	}
	*ino = v;
	return true;
}

int enrp_spool_open(enrp_store *st, uint64_t ino, int create)
{
	char name[SPOOL_NAME_LEN + 1];
	spool_name(name, ino);
	int fd = openat(store_spool_dirfd(st), name,
	                O_RDWR | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT : 0), 0600);
	return fd < 0 ? -errno : fd;
}

int enrp_spool_sync(enrp_store *st, int fd)
{
	if (fdatasync(fd) < 0)
		return -errno;
	/* The file may be new: its directory entry must be durable too. */
	if (fsync(store_spool_dirfd(st)) < 0)
		return -errno;
	return 0;
}

void spool_unlink_hook(enrp_store *st, uint64_t ino)
{
	char name[SPOOL_NAME_LEN + 1];
	spool_name(name, ino);
	if (unlinkat(store_spool_dirfd(st), name, 0) < 0 && errno != ENOENT)
		enrp_log(ENRP_LOG_WARNING, "cannot remove spool file %s: %s", name, strerror(errno));
}

int spool_truncate(enrp_store *st, uint64_t ino, uint64_t size)
{
	int fd = enrp_spool_open(st, ino, 1);
	if (fd < 0)
		return fd;
	int rc = ftruncate(fd, (off_t)size) < 0 ? -errno : 0;
	close(fd);
	return rc;
}
