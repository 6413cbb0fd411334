/*
 * retention.h — retention policies of EIRs: how long live files stay
 * (files=DAYS) and which snapshots a prune keeps (keep-last, keep-hourly,
 * keep-daily, keep-weekly, keep-monthly, keep-yearly), with the semantics
 * of `borg prune` 1.2 (docs/design.md "Retention" lists each difference).
 *
 * Times are the platform's: the moment the platform sealed or created a
 * copy, as enrp_platform_now (clock.h) gave it, never a client's mtime.
 */
#ifndef ENRP_RETENTION_H
#define ENRP_RETENTION_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include <enrp/eir.h>
#include <enrp/store.h>
#include <enrp/tz.h>

/* The snapshot rules, in the order a selection applies them. */
enum enrp_keep_rule {
	ENRP_KEEP_LAST,    /* the last N (borg: keep-last = keep-secondly) */
	ENRP_KEEP_HOURLY,
	ENRP_KEEP_DAILY,
	ENRP_KEEP_WEEKLY,  /* ISO 8601 weeks (Monday to Sunday) */
	ENRP_KEEP_MONTHLY,
	ENRP_KEEP_YEARLY,
	ENRP_KEEP_RULES,
};

#define ENRP_RETENTION_FILES_DAYS_MAX 36500 /* 100 years */
#define ENRP_RETENTION_KEEP_MAX 100000
/* Longest spec text accepted, and room for any canonical one. */
#define ENRP_RETENTION_SPEC_MAX 256
#define ENRP_RETENTION_ERR_MAX 160

/* A policy, as callers keep it on the stack.  0 means "not set" in every
 * field (as in borg, keep-daily=0 is no daily rule); all zero is no policy:
 * files stay and snapshots are all kept. */
struct enrp_retention {
	uint32_t files_days;                /* live files older than this are pruned */
	uint32_t keep[ENRP_KEEP_RULES];     /* per enum enrp_keep_rule */
};

/* "last", "hourly", ... (the borg rule names, for listings). */
const char *enrp_keep_rule_name(enum enrp_keep_rule rule);

/* Parses "files=DAYS,keep-last=N,keep-hourly=N,keep-daily=N,keep-weekly=N,
 * keep-monthly=N,keep-yearly=N": items in any order, each at most once,
 * decimal numbers without sign or spaces, DAYS 1..FILES_DAYS_MAX, N
 * 0..KEEP_MAX.  "" is no policy.  -EINVAL with ERR (ERRSZ bytes, may be
 * NULL) saying which item is wrong and why; OUT is then untouched. */
int enrp_retention_parse(const char *s, struct enrp_retention *out, char *err, size_t errsz);

/* The canonical text of P: set items only, in the order above ("" for no
 * policy).  BUFSZ of ENRP_RETENTION_SPEC_MAX is always enough. */
void enrp_retention_format(const struct enrp_retention *p, char *buf, size_t bufsz);

/* Whether P has any snapshot rule. */
int enrp_retention_has_keep(const struct enrp_retention *p);

/* Whether replacing policy CUR by NEXT can make anything expire earlier
 * than CUR says, which needs a second person's approval (issue 11 item 7).
 * Setting the first policy of an EIR (CUR all zero) does not count: that is
 * onboarding.  Otherwise: a files= rule added or lowered; keep rules added
 * where there were none (snapshots kept for ever become prunable); a keep
 * count lowered or removed while other keep rules stay.  Removing every
 * keep rule, or the files= rule, keeps more and does not count. */
bool enrp_retention_shortens(const struct enrp_retention *cur,
                             const struct enrp_retention *next);

/* Why a snapshot is kept; rule ENRP_KEEP_RULES means it is not. */
struct enrp_retention_pick {
	enum enrp_keep_rule rule;
	uint32_t number;   /* it is the NUMBER-th kept by RULE (borg's "#N") */
	int oldest;        /* kept as the oldest snapshot because RULE found fewer
	                      periods than it may keep (borg's "rule[oldest]") */
};

/* Decides which of N snapshots, created at TS[i] (ns since the epoch), P
 * keeps, periods counted in zone TZ, and fills OUT[i].  The order of TS does
 * not matter; of equal times, the higher index counts as the later.  A
 * policy with no snapshot rule keeps everything (OUT[i].rule is then
 * ENRP_KEEP_LAST, number 0).  Pure; -ENOMEM only. */
int enrp_retention_select(const struct enrp_retention *p, const enrp_tz *tz, const int64_t *ts,
                          size_t n, struct enrp_retention_pick *out);

/* The policy of EIR NAME (all zero if none is set).  -ENOENT no such EIR,
 * -EIO. */
int enrp_retention_get(enrp_store *st, const char *name, struct enrp_retention *out);

/* Sets the policy of EIR NAME to P (all zero clears it) and journals
 * "retention-set" with the canonical text, in one transaction.  -ENOENT no
 * such EIR, -EINVAL a destroyed one, -ENOSPC, -EIO. */
int enrp_retention_set(enrp_store *st, const char *name, const struct enrp_retention *p,
                       const struct enrp_actor *actor);

#endif
