/*
 * audit.c — the daemon's mount and unmount in the audit journal
 * (enrp/lifecycle.h): what main() knows, gathered into the records.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/enrp.h>
#include <enrp/lifecycle.h>

#include "fs.h"

/* The -o options of ARGV as given ("-o a,b -o c" -> "a,b,c"), into BUF. */
static void options_of(int argc, char **argv, char *buf, size_t size)
{
	size_t len = 0;
	buf[0] = '\0';
	for (int i = 1; i < argc; i++) {
		const char *o = NULL;
		if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			o = argv[++i];
		else if (strncmp(argv[i], "-o", 2) == 0 && argv[i][2])
			o = argv[i] + 2;
		if (!o)
			continue;
		size_t n = strlen(o);
		if (len + n + 2 > size)
			break; /* cut: the record says as much as fits */
		if (len)
			buf[len++] = ',';
		memcpy(buf + len, o, n + 1);
		len += n;
	}
}

void audit_mount(struct fs *fs, int argc, char **argv, const char *mnt, const char *keyfile,
                 uint64_t orphans, uint64_t spools)
{
	char options[1024], key[PATH_MAX];
	struct enrp_recovery r = { .orphans_freed = orphans, .spools_removed = spools };
	options_of(argc, argv, options, sizeof(options));
	if (keyfile && realpath(keyfile, key))
		keyfile = key;
	int rc = enrp_lifecycle_mount(fs->st, &fs->actor, fs->store_path, mnt, options, keyfile,
	                              &r);
	if (rc)
		enrp_log(ENRP_LOG_ERR, "cannot journal the mount of '%s': %s", fs->store_path,
		         enrp_strerror(rc));
}

void audit_unmount(struct fs *fs, const char *mnt)
{
	int rc = enrp_lifecycle_unmount(fs->st, &fs->actor, fs->store_path, mnt);
	if (rc)
		enrp_log(ENRP_LOG_ERR, "cannot journal the unmount of '%s': %s", fs->store_path,
		         enrp_strerror(rc));
}
