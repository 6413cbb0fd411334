/*
 * log.c — the process-wide log sink, enrp_strerror and the clock.
 *
 * The sink pointer is read without a lock on every message: programs set it
 * once at start-up, before any thread exists.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <enrp/enrp.h>
#include <enrp/i18n.h>

static enrp_log_sink *log_sink;
static void *log_ctx;
static enum enrp_log_level log_max = ENRP_LOG_NOTICE;

void enrp_log_set_sink(enrp_log_sink *sink, void *ctx, enum enrp_log_level max_level)
{
	log_sink = sink;
	log_ctx = ctx;
	log_max = max_level;
}

void enrp_log(enum enrp_log_level level, const char *fmt, ...)
{
	if (level > log_max)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), _(fmt), ap);
	va_end(ap);
	if (log_sink)
		log_sink(level, msg, log_ctx);
	else
		fprintf(stderr, "enrp: %s\n", msg);
}

const char *enrp_strerror(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case EPROTONOSUPPORT:
		return _("store format not supported");
	case EMEDIUMTYPE:
		return _("not an enrp store");
	case EDQUOT:
		return _("quota of the EIR exceeded");
	case EBADMSG:
		return _("data failed its integrity check");
	case EKEYREJECTED:
		return _("the key file does not hold this store's key");
	case ENOKEY:
		return _("the store is encrypted and no key file was given");
	case ETIMEDOUT:
		return _("timed out waiting for the running enrpfs (is it stopped or hung?)");
	default:
		return strerror(err);
	}
}

int64_t enrp_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
