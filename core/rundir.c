/*
 * rundir.c — STORE/run/: the daemon's pid lock and the control socket.
 *
 * The lock is flock(2) on run/enrpfs.pid, held by the serving enrpfs for its
 * lifetime.  flock locks die with the process, so a crashed daemon never
 * leaves a stale lock behind, whatever the file still says; the pid inside is
 * only informational (messages, `enrpctl status`).  Probes (daemon_pid) take
 * a shared lock for an instant: it conflicts with the daemon's exclusive lock
 * and not with other probes.
 *
 * The control socket is served by one daemon thread, one connection at a
 * time: requests are tiny and the answers are "ok" once the daemon has done
 * its cache invalidations, which is exactly what makes an enrpctl change
 * take effect before enrpctl returns (DESIGN §2).  Every read and write on
 * either side is bounded in time, so a stuck peer cannot wedge the other.
 * The socket is 0600 inside the 0700 store: only the store's owner talks to
 * the daemon.
 *
 * Snapshot mount locks (run/snapshot-EIRID-GEN.mount) follow the pid lock's
 * reasoning: a flock dies with its process, so a crashed snapshot mount
 * never blocks a deletion, and the file's text (the mount point) only
 * serves messages.  The files are never removed: unlinking a file that
 * another process may be about to lock would let two processes lock two
 * different files of one name.  One file per snapshot ever mounted, a few
 * bytes each, is what that costs.
 */
#include <errno.h>
#include <fcntl.h>
#include <mntent.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <enrp/rundir.h>

#define RUN_DIR "run"
#define PID_FILE "run/enrpfs.pid"
#define MOUNT_FILE "run/enrpfs.mount"
#define MOUNT_TMP "run/enrpfs.mount.tmp"
#define SOCK_FILE "run/control.sock"
#define LINE_MAX_LEN 1024
/* How long the daemon waits for a connected client's request line. */
#define SERVE_TIMEOUT_MS 2000
#define NOTIFY_TIMEOUT_MS 10000
/* A killed daemon closes its listening socket a moment after the
 * connections it was serving: ask a few times before calling it alive. */
#define NOTIFY_RETRIES 5
#define NOTIFY_RETRY_PAUSE_MS 50

static int run_path(char *buf, size_t size, const char *store_path, const char *name)
{
	int n = snprintf(buf, size, "%s/%s", store_path, name);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

/* The pid written in the lock file, 0 if none or unreadable. */
static pid_t read_pid(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	char *end;
	long v = strtol(buf, &end, 10);
	if (end == buf || v <= 0 || v > INT32_MAX)
		return 0;
	return (pid_t)v;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

int enrp_rundir_lock(const char *store_path, pid_t *holder)
{
	char path[4096];
	int fd, rc;

	if (holder)
		*holder = 0;
	rc = run_path(path, sizeof(path), store_path, RUN_DIR);
	if (rc)
		return rc;
	/* Stores made before run/ existed, or run/ removed by hand. */
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return -errno;
	rc = run_path(path, sizeof(path), store_path, PID_FILE);
	if (rc)
		return rc;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1)
		return -errno;
	/* A probe (daemon_pid) holds a shared lock for microseconds; retry
	 * briefly so it is not mistaken for a running daemon. */
	for (int tries = 0;; tries++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK) {
			rc = -errno;
			goto out_close;
		}
		pid_t pid = read_pid(fd);
		if (pid || tries >= 50) {
			if (holder)
				*holder = pid;
			rc = -EBUSY;
			goto out_close;
		}
		sleep_ms(10);
	}
out_close:
	close(fd);
	return rc;
}

int enrp_rundir_write_pid(int lock_fd)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());

	if (ftruncate(lock_fd, 0) == -1)
		return -errno;
	ssize_t w = pwrite(lock_fd, buf, (size_t)n, 0);
	if (w == -1)
		return -errno;
	return w == n ? 0 : -EIO;
}

pid_t enrp_rundir_daemon_pid(const char *store_path)
{
	char path[4096];
	pid_t pid = 0;
	int fd;

	if (run_path(path, sizeof(path), store_path, PID_FILE))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		flock(fd, LOCK_UN);
	} else if (errno == EWOULDBLOCK) {
		/* The daemon locks first and writes its pid once daemonised:
		 * give it a moment. */
		for (int tries = 0; !(pid = read_pid(fd)) && tries < 100; tries++)
			sleep_ms(10);
		/* Still unknown: a daemon runs all the same, and 0 would say
		 * none.  1 is the documented stand-in (never a real daemon). */
		if (!pid)
			pid = 1;
	}
	close(fd);
	return pid;
}

int enrp_rundir_write_mountpoint(const char *store_path, const char *mountpoint)
{
	char tmp[4096], path[4096];
	int rc = run_path(tmp, sizeof(tmp), store_path, MOUNT_TMP);
	if (!rc)
		rc = run_path(path, sizeof(path), store_path, MOUNT_FILE);
	if (rc)
		return rc;
	if (!mountpoint)
		return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
	/* Only the lock holder writes it: the tmp name is its own.  No fsync:
	 * after an OS crash no mount is left to speak of. */
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	size_t n = strlen(mountpoint);
	ssize_t w = write(fd, mountpoint, n);
	rc = w < 0 ? -errno : (size_t)w != n ? -EIO : 0;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path) < 0)
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}

/* Whether DIR is the directory of an enrpfs mount in our mount table. */
static bool enrpfs_mounted_at(const char *dir)
{
	FILE *f = setmntent("/proc/self/mounts", "re");
	if (!f)
		return true; /* cannot tell: never take a live daemon for a dying one */
	struct mntent m;
	char buf[3 * 4096];
	bool found = false;
	while (!found && getmntent_r(f, &m, buf, sizeof(buf)))
		found = !strcmp(m.mnt_dir, dir) && !strcmp(m.mnt_type, "fuse.enrpfs");
	endmntent(f);
	return found;
}

int enrp_rundir_daemon_info(const char *store_path, struct enrp_daemon_info *out)
{
	char path[4096];
	memset(out, 0, sizeof(*out));
	int rc = run_path(path, sizeof(path), store_path, MOUNT_FILE);
	if (rc)
		return rc;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		ssize_t n = read(fd, out->mountpoint, sizeof(out->mountpoint) - 1);
		out->mountpoint[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	/* A starting daemon removes the record once it holds the lock and
	 * writes it once its mount is up; reading it before probing the lock
	 * means a record seen with a holder is that holder's own. */
	out->pid = enrp_rundir_daemon_pid(store_path);
	if (!out->pid) {
		struct stat sb;
		out->state = ENRP_DAEMON_NONE;
		out->stale = out->mountpoint[0] == '/' && stat(out->mountpoint, &sb) < 0 &&
		             errno == ENOTCONN;
		return 0;
	}
	bool gone = out->mountpoint[0] == '/' && !enrpfs_mounted_at(out->mountpoint);
	out->state = gone ? ENRP_DAEMON_STOPPING : ENRP_DAEMON_SERVING;
	return 0;
}

int enrp_rundir_wait_stopped(const char *store_path, int timeout_ms,
                             struct enrp_daemon_info *out)
{
	int64_t waited = 0;
	for (;;) {
		int rc = enrp_rundir_daemon_info(store_path, out);
		if (rc || out->state != ENRP_DAEMON_STOPPING || waited >= timeout_ms)
			return rc;
		sleep_ms(50);
		waited += 50;
	}
}

static int snapshot_lock_open(const char *store_path, uint32_t eir_id, uint64_t gen)
{
	char path[4096], name[64];
	snprintf(name, sizeof(name), RUN_DIR "/snapshot-%u-%llu.mount", eir_id,
	         (unsigned long long)gen);
	int rc = run_path(path, sizeof(path), store_path, RUN_DIR);
	if (rc)
		return rc;
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return -errno;
	rc = run_path(path, sizeof(path), store_path, name);
	if (rc)
		return rc;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	return fd < 0 ? -errno : fd;
}

static int flock_nb(int fd, int op)
{
	while (flock(fd, op | LOCK_NB) == -1) {
		if (errno != EINTR)
			return errno == EWOULDBLOCK ? -EBUSY : -errno;
	}
	return 0;
}

int enrp_rundir_snapshot_mount_lock(const char *store_path, uint32_t eir_id, uint64_t gen,
                                    const char *mountpoint)
{
	int fd = snapshot_lock_open(store_path, eir_id, gen);
	if (fd < 0)
		return fd;
	int rc = flock_nb(fd, LOCK_SH);
	if (rc == 0 && (ftruncate(fd, 0) == -1 ||
	                pwrite(fd, mountpoint, strlen(mountpoint), 0) < 0))
		rc = -errno;
	if (rc) {
		close(fd);
		return rc;
	}
	return fd;
}

int enrp_rundir_snapshot_delete_lock(const char *store_path, uint32_t eir_id, uint64_t gen,
                                     char *mounted_at, size_t size)
{
	if (mounted_at && size)
		mounted_at[0] = '\0';
	int fd = snapshot_lock_open(store_path, eir_id, gen);
	if (fd < 0)
		return fd;
	int rc = flock_nb(fd, LOCK_EX);
	if (rc == -EBUSY && mounted_at && size > 1) {
		ssize_t n = pread(fd, mounted_at, size - 1, 0);
		mounted_at[n > 0 ? n : 0] = '\0';
	}
	if (rc) {
		close(fd);
		return rc;
	}
	return fd;
}

static int sock_addr(struct sockaddr_un *sa, const char *store_path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	return run_path(sa->sun_path, sizeof(sa->sun_path), store_path, SOCK_FILE);
}

int enrp_control_listen(const char *store_path)
{
	struct sockaddr_un sa;
	int fd, rc;

	rc = sock_addr(&sa, store_path);
	if (rc)
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	/* Only the lock holder listens, so a socket file here is a dead
	 * daemon's: replacing it is safe. */
	if (unlink(sa.sun_path) == -1 && errno != ENOENT) {
		rc = -errno;
		goto out_close;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		rc = -errno;
		goto out_close;
	}
	/* umask is process-wide and not ours to change in a threaded daemon;
	 * until this chmod the 0700 store directory keeps others out. */
	if (chmod(sa.sun_path, 0600) == -1 || listen(fd, 16) == -1) {
		rc = -errno;
		goto out_unlink;
	}
	return fd;

out_unlink:
	unlink(sa.sun_path);
out_close:
	close(fd);
	return rc;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads one line (without its newline) into BUF before DEADLINE (monotonic
 * ms).  -ETIMEDOUT, -EMSGSIZE for a line longer than SIZE - 1, -ECONNRESET
 * when the peer closes before sending anything: a daemon only does that when
 * it dies, since it answers every request it could read. */
static int read_line(int fd, char *buf, size_t size, int64_t deadline)
{
	size_t len = 0;

	for (;;) {
		int64_t left = deadline - mono_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd pfd = { fd, POLLIN, 0 };
		int pr = poll(&pfd, 1, (int)(left > 60000 ? 60000 : left));
		if (pr == -1) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pr == 0)
			continue;
		ssize_t n = recv(fd, buf + len, size - 1 - len, MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if (n == 0) {
			/* Peer closed: a last line without newline still counts. */
			if (len == 0)
				return -ECONNRESET;
			buf[len] = '\0';
			return 0;
		}
		char *nl = memchr(buf + len, '\n', (size_t)n);
		len += (size_t)n;
		if (nl) {
			*nl = '\0';
			return 0;
		}
		if (len == size - 1)
			return -EMSGSIZE;
	}
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		/* MSG_NOSIGNAL: a client that went away must not SIGPIPE us. */
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int enrp_control_serve_one(int listen_fd, enrp_control_handler *handler, void *arg)
{
	char req[LINE_MAX_LEN], reply[LINE_MAX_LEN + 1];
	int fd, rc;

	fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd == -1)
		return -errno;
	/* The reply is a few bytes into an empty socket buffer: a bounded send
	 * timeout is all the protection a blocking write needs. */
	struct timeval tv = { SERVE_TIMEOUT_MS / 1000, 0 };
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

	rc = read_line(fd, req, sizeof(req), mono_ms() + SERVE_TIMEOUT_MS);
	if (rc == -EMSGSIZE) {
		snprintf(reply, sizeof(reply), "error request too long");
	} else if (rc) {
		/* A client that timed out or vanished is its own problem, not a
		 * failure of accept: report success to the serving loop. */
		goto out_close;
	} else {
		reply[0] = '\0';
		handler(req, reply, sizeof(reply) - 1, arg);
		reply[sizeof(reply) - 2] = '\0';
	}
	size_t n = strlen(reply);
	reply[n++] = '\n';
	write_all(fd, reply, n);
out_close:
	close(fd);
	return 0;
}

int enrp_control_request(const char *store_path, const char *request, char *reply,
                         size_t reply_size, int timeout_ms)
{
	char line[LINE_MAX_LEN], answer[LINE_MAX_LEN];
	struct sockaddr_un sa;
	int64_t deadline = mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int fd, rc, n;

	if (reply && reply_size)
		reply[0] = '\0';
	if (strchr(request, '\n'))
		return -EINVAL;
	n = snprintf(line, sizeof(line), "%s\n", request);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -EMSGSIZE;
	rc = sock_addr(&sa, store_path);
	if (rc)
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	/* connect(2) and send(2) on a unix stream socket honour SO_SNDTIMEO:
	 * a daemon whose backlog is full makes us wait, but not forever. */
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		rc = errno == EAGAIN || errno == EINPROGRESS ? -ETIMEDOUT : -errno;
		goto out_close;
	}
	rc = write_all(fd, line, (size_t)n);
	if (rc) {
		if (rc == -EAGAIN)
			rc = -ETIMEDOUT;
		goto out_close;
	}
	rc = read_line(fd, answer, sizeof(answer), deadline);
	if (rc == -EMSGSIZE)
		rc = -EPROTO;
	if (rc)
		goto out_close;
	if (reply && reply_size)
		snprintf(reply, reply_size, "%s", answer);
	if (strncmp(answer, "error", 5) == 0 && (answer[5] == '\0' || answer[5] == ' '))
		rc = -EPROTO;
out_close:
	close(fd);
	return rc;
}

int enrp_control_notify_eir(const char *store_path, uint32_t id)
{
	char req[32], reply[LINE_MAX_LEN];
	int rc;

	snprintf(req, sizeof(req), "eir-changed %u", id);
	/* A daemon killed while it was being told hangs up on us.  Asking again
	 * tells what happened: a dead daemon's socket refuses (a new daemon
	 * reads the settings from the store), a live one answers. */
	for (int attempt = 0;; attempt++) {
		rc = enrp_control_request(store_path, req, reply, sizeof(reply),
		                          NOTIFY_TIMEOUT_MS);
		if ((rc != -ECONNRESET && rc != -EPIPE) || attempt == NOTIFY_RETRIES)
			break;
		struct timespec pause = { 0, NOTIFY_RETRY_PAUSE_MS * 1000000L };
		nanosleep(&pause, NULL);
	}
	/* No daemon: nothing caches anything, the change is in force. */
	if (rc == -ENOENT || rc == -ECONNREFUSED)
		return 0;
	if (rc)
		return rc;
	return strncmp(reply, "ok", 2) == 0 ? 0 : -EPROTO;
}
