/*
 * enrp.h — umbrella header of libenrp: version, error strings and the log sink.
 *
 * libenrp never prints and never exits: it reports through enrp_log(), whose
 * sink the program chooses (stderr for enrpctl, syslog for a daemonised
 * enrpfs).  Every fallible function returns 0 or a negative errno.
 */
#ifndef ENRP_ENRP_H
#define ENRP_ENRP_H

#include <stdarg.h>
#include <stdint.h>

#define ENRP_VERSION "0.1.0"

enum enrp_log_level {
	ENRP_LOG_ERR,
	ENRP_LOG_WARNING,
	ENRP_LOG_NOTICE,
	ENRP_LOG_INFO,
	ENRP_LOG_DEBUG,
};

/* Receives one formatted message without a trailing newline.  Called from any
 * thread; the sink must be thread-safe. */
typedef void enrp_log_sink(enum enrp_log_level level, const char *msg, void *ctx);

/* Sets the process-wide sink (NULL restores the default, which writes
 * "enrp: MSG" to stderr) and the most verbose level that reaches it. */
void enrp_log_set_sink(enrp_log_sink *sink, void *ctx, enum enrp_log_level max_level);

void enrp_log(enum enrp_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* strerror() for a negative or positive errno, with enrp's own wording for
 * the codes enrp gives a specific meaning (-EPROTONOSUPPORT: store format not
 * supported, -EDQUOT: quota of the EIR exceeded, -EBADMSG: data failed its
 * integrity check).  Returns a static string. */
const char *enrp_strerror(int err);

/* Wall clock (CLOCK_REALTIME) in nanoseconds since the epoch. */
int64_t enrp_now_ns(void);

#endif
