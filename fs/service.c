/*
 * service.c — enrpfs as a service: the log file and sd_notify.
 *
 * Log file.  Hosts without a syslog socket (containers, minimal systems)
 * lose every message of a daemonised enrpfs, whose stderr is /dev/null; -o
 * logfile=FILE keeps them.  The file is opened O_APPEND and each message is
 * one write(2) of one whole line, so the lines of concurrent threads (and
 * of a second process appending to the same file) never interleave.
 * logrotate moves the file and sends SIGHUP: the handler only raises a
 * flag, and the next message reopens the path, so nothing async-signal-
 * unsafe runs in the handler and no line is ever split between two files.
 *
 * sd_notify.  Under systemd (Type=notify) enrpfs says READY=1 once the mount
 * is up and STOPPING=1 when it is unmounted, so `systemctl start` returns
 * when owners can use the mount and units ordered after it can rely on it.
 * Without $NOTIFY_SOCKET, sd_notify does nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "service.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char *log_path;    /* protected by log_lock */
static int log_fd = -1;   /* protected by log_lock */
static atomic_bool log_reopen;

static int open_append(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
	return fd < 0 ? -errno : fd;
}

int logfile_open(const char *path)
{
	int fd = open_append(path);
	if (fd < 0)
		return fd;
	char *copy = strdup(path);
	if (!copy) {
		close(fd);
		return -ENOMEM;
	}
	pthread_mutex_lock(&log_lock);
	free(log_path);
	log_path = copy;
	if (log_fd >= 0)
		close(log_fd);
	log_fd = fd;
	pthread_mutex_unlock(&log_lock);
	return 0;
}

bool logfile_active(void)
{
	pthread_mutex_lock(&log_lock);
	bool on = log_fd >= 0;
	pthread_mutex_unlock(&log_lock);
	return on;
}

void logfile_write(const char *level, const char *msg)
{
	char stamp[64], zone[8], line[8192];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	strftime(zone, sizeof(zone), "%z", &tm);
	/* +0600 -> +06:00: the form ISO 8601 readers and `date -d` take. */
	int n = snprintf(line, sizeof(line), "%s.%03ld%.3s:%s enrpfs[%d]: %s: %s\n", stamp,
	                 ts.tv_nsec / 1000000, zone, zone + 3, (int)getpid(), level, msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	pthread_mutex_lock(&log_lock);
	if (atomic_exchange(&log_reopen, false) && log_path) {
		int fd = open_append(log_path);
		/* Not reopened: keep writing where we can rather than lose it. */
		if (fd >= 0) {
			close(log_fd);
			log_fd = fd;
		}
	}
	if (log_fd >= 0 && write(log_fd, line, (size_t)n) < 0) {
		/* a full disk: nowhere else to say it */
	}
	pthread_mutex_unlock(&log_lock);
}

static void on_sighup(int sig)
{
	(void)sig;
	atomic_store(&log_reopen, true);
}

int logfile_reopen_on_sighup(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sighup;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	return sigaction(SIGHUP, &sa, NULL) < 0 ? -errno : 0;
}

void service_notify(const char *fmt, ...)
{
	char state[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(state, sizeof(state), fmt, ap);
	va_end(ap);
	/* 0 unsets nothing: a forked helper of ours must not speak for us,
	 * and we have none. */
	sd_notify(0, state);
}
