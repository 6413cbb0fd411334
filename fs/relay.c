/*
 * relay.c — runs the enrpctl of role members who are not root (see
 * include/enrp/relay.h): one thread accepts, one detached thread per
 * request spawns a root enrpctl with the member's three descriptors and
 * their identity from the kernel, and answers with its exit status.
 *
 * The spawned enrpctl, not this daemon, decides whether the member may run
 * the command (role.h): it is the program that knows its commands, and a
 * refusal is journalled there with the rest of enrpctl's records.  This
 * side only vouches for who is asking: uid, gid and pid from SO_PEERCRED,
 * the audit login uid from /proc/PID/loginuid.
 *
 * A client that goes away (Ctrl-C) has its enrpctl sent SIGTERM, as a
 * terminal hang-up would; a daemon that stops leaves running requests to
 * finish (their enrpctl holds the store open like any other).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <enrp/enrp.h>
#include <enrp/relay.h>

#include "fs.h"

#define RELAY_ACTIVE_MAX 32

extern char **environ;

struct relay {
	int listen_fd;
	pthread_t thread;
	char sock_path[PATH_MAX];
	char store[PATH_MAX];
	char enrpctl[PATH_MAX];
	_Atomic bool stopping;
	_Atomic int active;
};

struct job {
	struct relay *r;
	struct enrp_relay_request req;
};

static uint32_t login_uid_of(pid_t pid)
{
	char path[64], buf[32];
	snprintf(path, sizeof(path), "/proc/%d/loginuid", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return UINT32_MAX;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return UINT32_MAX;
	buf[n] = '\0';
	return (uint32_t)strtoul(buf, NULL, 10);
}

/* Only these of the client's environment reach enrpctl: its language. */
static bool env_allowed(const char *kv)
{
	static const char *const names[] = { "LANG=", "LANGUAGE=", "LC_ALL=", "LC_MESSAGES=",
		                             "LC_CTYPE=" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strncmp(kv, names[i], strlen(names[i])))
			return true;
	return false;
}

static int run_job(struct job *j)
{
	struct enrp_relay_request *q = &j->req;
	char peer[96];
	snprintf(peer, sizeof(peer), "%u:%u:%d:%" PRIu32, (unsigned)q->uid, (unsigned)q->gid,
	         (int)q->pid, login_uid_of(q->pid));
	/* enrpctl -S STORE --peer WHO ARGS... */
	char **argv = calloc((size_t)q->argc + 6, sizeof(char *));
	char **envp = calloc((size_t)q->envc + 2, sizeof(char *));
	if (!argv || !envp) {
		free(argv);
		free(envp);
		return 255;
	}
	int a = 0, e = 0;
	argv[a++] = (char *)"enrpctl";
	argv[a++] = (char *)"-S";
	argv[a++] = j->r->store;
	argv[a++] = (char *)"--peer";
	argv[a++] = peer;
	for (int i = 0; i < q->argc; i++)
		argv[a++] = q->argv[i];
	envp[e++] = (char *)"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (int i = 0; i < q->envc; i++)
		if (env_allowed(q->env[i]))
			envp[e++] = q->env[i];

	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	for (int i = 0; i < 3; i++)
		posix_spawn_file_actions_adddup2(&fa, q->fds[i], i);
	posix_spawnattr_t at;
	posix_spawnattr_init(&at);
	sigset_t none;
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK);
	pid_t child;
	int rc = posix_spawn(&child, j->r->enrpctl, &fa, &at, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	free(argv);
	free(envp);
	if (rc) {
		enrp_log(ENRP_LOG_ERR, "cannot run %s for uid %u: %s", j->r->enrpctl,
		         (unsigned)q->uid, strerror(rc));
		return 255;
	}
	/* Wait for the child, or for the client to go. */
	int pidfd = (int)syscall(SYS_pidfd_open, child, 0);
	bool killed = false;
	while (pidfd >= 0) {
		struct pollfd p[2] = { { .fd = pidfd, .events = POLLIN },
			               { .fd = q->conn, .events = POLLIN } };
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		if (!killed && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			kill(child, SIGTERM);
			killed = true;
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	int status;
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

static void *job_main(void *arg)
{
	pthread_setname_np(pthread_self(), "enrp-relay");
	struct job *j = arg;
	int status = run_job(j);
	enrp_relay_reply(&j->req, status);
	atomic_fetch_sub(&j->r->active, 1);
	free(j);
	return NULL;
}

static void *accept_main(void *arg)
{
	pthread_setname_np(pthread_self(), "enrp-accept");
	struct relay *r = arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	while (!r->stopping) {
		struct pollfd p = { .fd = r->listen_fd, .events = POLLIN };
		if (poll(&p, 1, 200) <= 0)
			continue;
		struct job *j = calloc(1, sizeof(*j));
		if (!j)
			continue;
		j->r = r;
		if (enrp_relay_accept(r->listen_fd, &j->req) != 0) {
			free(j);
			continue;
		}
		pthread_attr_t attr;
		pthread_t t;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (atomic_fetch_add(&r->active, 1) >= RELAY_ACTIVE_MAX ||
		    pthread_create(&t, &attr, job_main, j) != 0) {
			atomic_fetch_sub(&r->active, 1);
			enrp_relay_reply(&j->req, 255);
			free(j);
		}
		pthread_attr_destroy(&attr);
	}
	return NULL;
}

struct relay *relay_start(const char *store)
{
	struct relay *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0 || !realpath(store, r->store) ||
	    enrp_relay_path(store, r->sock_path, sizeof(r->sock_path)) != 0) {
		free(r);
		return NULL;
	}
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	if (strlen(self) + sizeof("/enrpctl") > sizeof(r->enrpctl)) {
		free(r);
		return NULL;
	}
	memcpy(r->enrpctl, self, strlen(self));
	memcpy(r->enrpctl + strlen(self), "/enrpctl", sizeof("/enrpctl"));
	r->listen_fd = enrp_relay_listen(r->sock_path);
	if (r->listen_fd < 0) {
		enrp_log(ENRP_LOG_WARNING,
		         "cannot listen on %s (%s): only root can run enrpctl on this store",
		         r->sock_path, enrp_strerror(r->listen_fd));
		free(r);
		return NULL;
	}
	if (pthread_create(&r->thread, NULL, accept_main, r) != 0) {
		close(r->listen_fd);
		unlink(r->sock_path);
		free(r);
		return NULL;
	}
	enrp_log(ENRP_LOG_DEBUG, "members of the role groups run enrpctl through %s", r->sock_path);
	return r;
}

void relay_stop(struct relay *r)
{
	if (!r)
		return;
	r->stopping = true;
	pthread_join(r->thread, NULL);
	close(r->listen_fd);
	unlink(r->sock_path);
	/* Requests in flight finish on their own; give them a moment so their
	 * answers go out before the process ends. */
	for (int i = 0; i < 50 && atomic_load(&r->active) > 0; i++)
		usleep(100000);
	if (atomic_load(&r->active) == 0)
		free(r);
}
