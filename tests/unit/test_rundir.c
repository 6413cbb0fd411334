/*
 * test_rundir.c — the daemon lock and the control socket: one lock holder,
 * the pid probe, request/answer with a serving thread, "error" answers,
 * no daemon (no socket, stale socket), a daemon that hangs up unanswered, timeouts and over-long paths; the
 * daemon's state (none, serving, stopping) from the lock and the mount
 * point record.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <enrp/rundir.h>
#include <enrp/store.h>

#include "../tap.h"

static char store[256];

struct server {
	int fd;
	int serve;            /* connections to serve */
	uint32_t last_eir;
	int served;
};

static void handler(const char *req, char *reply, size_t size, void *arg)
{
	struct server *s = arg;
	unsigned id;

	if (strcmp(req, "ping") == 0)
		snprintf(reply, size, "ok %d", (int)getpid());
	else if (sscanf(req, "eir-changed %u", &id) == 1) {
		s->last_eir = id;
		snprintf(reply, size, "ok");
	} else
		snprintf(reply, size, "error unknown request");
}

/* A daemon that reads each request and hangs up without answering, as one
 * killed mid-request does; DIES closes its listening socket at the first. */
struct hangup {
	int fd;
	bool dies;
	int hung_up;
};

static void *hangup_main(void *arg)
{
	struct hangup *h = arg;
	for (;;) {
		int c = accept(h->fd, NULL, NULL);
		if (c < 0)
			break;
		char buf[64];
		ssize_t ignored = read(c, buf, sizeof(buf));
		(void)ignored;
		h->hung_up++;
		if (h->dies) {
			/* Listener first, as exit closes it before the client retries. */
			close(h->fd);
			close(c);
			break;
		}
		close(c);
	}
	return NULL;
}

static void *server_main(void *arg)
{
	struct server *s = arg;
	while (s->served < s->serve) {
		int rc = enrp_control_serve_one(s->fd, handler, s);
		if (rc && rc != -EINTR && rc != -EAGAIN)
			break;
		s->served++;
	}
	return NULL;
}

int main(void)
{
	const char *tmp = tap_tmpdir();
	pid_t holder = 77;
	char reply[128];

	if (!tmp) {
		printf("Bail out! cannot make a temporary directory\n");
		return 1;
	}
	snprintf(store, sizeof(store), "%s/store", tmp);
	if (enrp_store_create(store)) {
		printf("Bail out! cannot create a store\n");
		return 1;
	}

	/* ---- lock ---- */
	is_int(enrp_rundir_daemon_pid(store), 0, "no daemon before the lock");
	int lfd = enrp_rundir_lock(store, &holder);
	ok(lfd >= 0, "lock taken");
	is_int(enrp_rundir_write_pid(lfd), 0, "pid written");
	is_int(enrp_rundir_daemon_pid(store), getpid(), "probe finds the daemon's pid");
	holder = 0;
	is_int(enrp_rundir_lock(store, &holder), -EBUSY, "second lock: -EBUSY");
	is_int(holder, getpid(), "and names the holder");
	is_int(enrp_rundir_daemon_pid(store), getpid(), "probing does not take the lock");
	close(lfd);
	is_int(enrp_rundir_daemon_pid(store), 0, "lock released: no daemon (pid file stays)");
	lfd = enrp_rundir_lock(store, &holder);
	ok(lfd >= 0, "lock can be taken again");
	close(lfd);

	/* ---- the daemon's state ---- */
	struct enrp_daemon_info di;
	is_int(enrp_rundir_daemon_info(store, &di), 0, "info with no daemon");
	is_int(di.state, ENRP_DAEMON_NONE, "no lock holder: NONE");
	is_str(di.mountpoint, "", "no mount point recorded yet");
	ok(!di.stale, "nothing recorded: not stale");
	lfd = enrp_rundir_lock(store, &holder);
	enrp_rundir_write_pid(lfd);
	is_int(enrp_rundir_daemon_info(store, &di), 0, "info with a lock holder");
	is_int(di.state, ENRP_DAEMON_SERVING, "a holder with no mount recorded: SERVING (starting)");
	is_int(di.pid, getpid(), "with its pid");
	/* A recorded mount point that is no enrpfs mount: it was unmounted. */
	is_int(enrp_rundir_write_mountpoint(store, tmp), 0, "mount point recorded");
	is_int(enrp_rundir_daemon_info(store, &di), 0, "info after the record");
	is_int(di.state, ENRP_DAEMON_STOPPING, "holder whose mount is gone: STOPPING");
	is_str(di.mountpoint, tmp, "the record is read back");
	struct enrp_daemon_info wi;
	is_int(enrp_rundir_wait_stopped(store, 120, &wi), 0, "wait_stopped returns at its deadline");
	is_int(wi.state, ENRP_DAEMON_STOPPING, "still STOPPING at the deadline");
	close(lfd);
	is_int(enrp_rundir_wait_stopped(store, 5000, &wi), 0, "wait_stopped with the holder gone");
	is_int(wi.state, ENRP_DAEMON_NONE, "then NONE");
	ok(!wi.stale, "an ordinary directory is not a stale mount");
	is_str(wi.mountpoint, tmp, "the record outlives the daemon");
	is_int(enrp_rundir_write_mountpoint(store, NULL), 0, "record removed");
	is_int(enrp_rundir_write_mountpoint(store, NULL), 0, "removing it twice is fine");
	is_int(enrp_rundir_daemon_info(store, &di), 0, "info after removal");
	is_str(di.mountpoint, "", "no record");

	/* ---- control socket ---- */
	is_int(enrp_control_request(store, "ping", reply, sizeof(reply), 1000), -ENOENT,
	       "no socket: -ENOENT");
	is_int(enrp_control_notify_eir(store, 3), 0, "notify with no daemon: 0");

	struct server s = { .serve = 4 };
	s.fd = enrp_control_listen(store);
	ok(s.fd >= 0, "listening");
	char sock[300];
	struct stat sb;
	snprintf(sock, sizeof(sock), "%s/run/control.sock", store);
	ok(stat(sock, &sb) == 0 && S_ISSOCK(sb.st_mode) && (sb.st_mode & 0777) == 0600,
	   "socket is mode 0600");

	pthread_t th;
	pthread_create(&th, NULL, server_main, &s);
	char want[32];
	snprintf(want, sizeof(want), "ok %d", (int)getpid());
	is_int(enrp_control_request(store, "ping", reply, sizeof(reply), 5000), 0, "ping");
	is_str(reply, want, "ping answers ok PID");
	is_int(enrp_control_request(store, "frobnicate", reply, sizeof(reply), 5000), -EPROTO,
	       "unknown request: -EPROTO");
	is_str(reply, "error unknown request", "with the daemon's message");
	is_int(enrp_control_notify_eir(store, 42), 0, "notify eir 42");
	is_int(s.last_eir, 42, "the daemon saw eir-changed 42");
	is_int(enrp_control_request(store, "ping", NULL, 0, 5000), 0, "reply buffer may be NULL");
	pthread_join(th, NULL);
	is_int(s.served, 4, "served four connections");

	is_int(enrp_control_request(store, "a\nb", reply, sizeof(reply), 1000), -EINVAL,
	       "a newline in the request: -EINVAL");

	/* Listening but not serving: the answer never comes. */
	is_int(enrp_control_request(store, "ping", reply, sizeof(reply), 200), -ETIMEDOUT,
	       "no answer in time: -ETIMEDOUT");

	/* A daemon killed while it was being told. */
	struct hangup h = { .fd = s.fd, .dies = true };
	pthread_create(&th, NULL, hangup_main, &h);
	is_int(enrp_control_notify_eir(store, 5), 0,
	       "notify, daemon dies before answering: 0 (its socket refuses the retry)");
	pthread_join(th, NULL);
	is_int(h.hung_up, 1, "it hung up once");
	is_int(enrp_control_request(store, "ping", reply, sizeof(reply), 1000), -ECONNREFUSED,
	       "after it: -ECONNREFUSED");

	/* One that hangs up on every request but lives on: not told. */
	s.fd = enrp_control_listen(store);
	ok(s.fd >= 0, "listening again");
	h = (struct hangup){ .fd = s.fd };
	pthread_create(&th, NULL, hangup_main, &h);
	is_int(enrp_control_notify_eir(store, 6), -ECONNRESET,
	       "notify, a live daemon that never answers: -ECONNRESET");
	is_int(enrp_control_request(store, "ping", reply, sizeof(reply), 1000), -ECONNRESET,
	       "request hung up on: -ECONNRESET");
	shutdown(s.fd, SHUT_RDWR);
	pthread_join(th, NULL);
	/* Six connections: the notify's first try and five more, then the ping. */
	is_int(h.hung_up, 7, "the notify asked again before giving up");

	/* A dead daemon's socket file. */
	close(s.fd);
	is_int(enrp_control_request(store, "ping", reply, sizeof(reply), 1000), -ECONNREFUSED,
	       "stale socket: -ECONNREFUSED");
	is_int(enrp_control_notify_eir(store, 3), 0, "notify with a stale socket: 0");
	s.fd = enrp_control_listen(store);
	ok(s.fd >= 0, "a new daemon replaces the stale socket");
	close(s.fd);

	char longpath[200];
	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	is_int(enrp_control_listen(longpath), -ENAMETOOLONG, "listen: path too long");
	is_int(enrp_control_request(longpath, "ping", NULL, 0, 100), -ENAMETOOLONG,
	       "request: path too long");

	tap_rmrf(tmp);
	return done_testing();
}
