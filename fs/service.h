/*
 * service.h — what enrpfs needs to run as a service: its own log file
 * (-o logfile=FILE) and the readiness protocol of systemd (sd_notify).
 *
 * Called from main.c only.  logfile_write() is thread-safe; the rest runs
 * on the main thread.
 */
#ifndef ENRP_FS_SERVICE_H
#define ENRP_FS_SERVICE_H

#include <stdbool.h>

/* Opens PATH for appending (created 0640 if absent).  From then on every
 * daemon message is also written there.  0 or -errno. */
int logfile_open(const char *path);

/* Whether a log file is open. */
bool logfile_active(void);

/* Appends one line "TIME enrpfs[PID]: LEVEL: MSG" (local time, ISO 8601
 * with its UTC offset) in a single write, so lines of several threads never
 * interleave.  Reopens the file first when SIGHUP asked for it. */
void logfile_write(const char *level, const char *msg);

/* Makes SIGHUP reopen the log file (what logrotate sends after moving it)
 * instead of ending the session, as libfuse's handler would.  Call after
 * fuse_set_signal_handlers(), and only with a log file open. */
int logfile_reopen_on_sighup(void);

/* Tells the service manager STATE (sd_notify(3): "READY=1", "STOPPING=1",
 * "STATUS=..."), formatted like printf.  Nothing happens when enrpfs was
 * not started by one ($NOTIFY_SOCKET unset). */
void service_notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
