/*
 * approval.h — the four-eyes rule (issue 11 item 7): an irreversible or
 * sensitive action is first a request, which a second person approves; the
 * requester then performs it, once.
 *
 * People, not uids: root does most administration, so the person behind a
 * request or an approval is the audit login uid when the kernel has one
 * (/proc/self/loginuid, kept across su and sudo), else the sudo uid, else
 * the uid (enrp_person_of).  A requester can never approve their own
 * request.  Against a root shell this is a procedure the journal makes
 * visible, not a wall (root can write SUDO_UID); the wall is the control
 * socket, where the daemon learns each administrator's uid from the kernel
 * (SO_PEERCRED) — docs/design.md, "Four eyes".
 *
 * A request names an ACTION ("escrow-get", ...), an EIR and a TARGET (the
 * object: an escrow id, a path), with the requester's reason.  It is
 * pending until approved or rejected by another person, or until it
 * expires (ENRP_REQUEST_TTL_NS after it was made, approved or not); an
 * approved one is consumed by the one action it allows (request_consume_txn
 * in approval_int.h, inside that action's transaction).  Every step is
 * journalled: request-created, request-approved, request-rejected, and the
 * action's own record names the request it used.
 *
 * Kept in DBI_META under "request:" + be64(id): no store format change.
 */
#ifndef ENRP_APPROVAL_H
#define ENRP_APPROVAL_H

#include <stdbool.h>
#include <stdint.h>

#include <enrp/eir.h>
#include <enrp/store.h>

#define ENRP_REQUEST_TTL_NS (24LL * 3600 * 1000000000LL)
#define ENRP_REQUEST_ACTION_MAX 31
#define ENRP_REQUEST_TARGET_MAX 255
#define ENRP_REQUEST_TEXT_MAX 255

enum enrp_request_state {
	ENRP_REQUEST_PENDING,
	ENRP_REQUEST_APPROVED,
	ENRP_REQUEST_REJECTED,
	ENRP_REQUEST_USED,
	ENRP_REQUEST_EXPIRED, /* computed from the time, never stored */
};

/* "pending", "approved", "rejected", "used", "expired". */
const char *enrp_request_state_name(enum enrp_request_state s);

struct enrp_request {
	uint64_t id;
	char action[ENRP_REQUEST_ACTION_MAX + 1];
	char eir[ENRP_EIR_NAME_MAX + 1];
	char target[ENRP_REQUEST_TARGET_MAX + 1];
	char reason[ENRP_REQUEST_TEXT_MAX + 1];
	uint32_t requester;          /* the person (enrp_person_of) */
	char requester_name[64];     /* their account name when known */
	int64_t created, expires;    /* ns since the epoch */
	enum enrp_request_state state; /* as stored; enrp_request_get and _list
	                                  report EXPIRED for a pending or approved
	                                  request past its expiry */
	uint32_t decider;            /* who approved or rejected */
	char decider_name[64];
	char note[ENRP_REQUEST_TEXT_MAX + 1];
	int64_t decided, used;       /* 0 when not yet */
};

/* The person behind ACTOR: login uid, else sudo uid, else uid. */
uint32_t enrp_person_of(const struct enrp_actor *actor);

/* Makes a pending request, journalled "request-created".  -EINVAL an empty
 * or over-long action, target or reason; -ENOENT no such EIR; -ENOSPC,
 * -EIO.  *ID gets its id. */
int enrp_request_create(enrp_store *st, const char *action, const char *eir,
                        const char *target, const char *reason, int64_t now_ns,
                        const struct enrp_actor *actor, uint64_t *id);

/* Approves (APPROVE) or rejects request ID with NOTE (may be NULL),
 * journalled "request-approved" or "request-rejected".  -ENOENT no such
 * request; -EPERM the decider is the requester; -EALREADY not pending
 * (approved, rejected or used); -ETIME expired; -ENOSPC, -EIO. */
int enrp_request_decide(enrp_store *st, uint64_t id, bool approve, const char *note,
                        int64_t now_ns, const struct enrp_actor *actor);

/* Request ID as of NOW_NS.  -ENOENT, -EIO. */
int enrp_request_get(enrp_store *st, uint64_t id, int64_t now_ns, struct enrp_request *out);

/* Calls CB for every request, oldest first, states as of NOW_NS. */
int enrp_request_list(enrp_store *st, int64_t now_ns,
                      int (*cb)(const struct enrp_request *r, void *arg), void *arg);

/* The newest request by ACTOR's person for ACTION on EIR/TARGET that is
 * still pending or approved (not expired), into OUT.  -ENOENT none. */
int enrp_request_find(enrp_store *st, const char *action, const char *eir, const char *target,
                      int64_t now_ns, const struct enrp_actor *actor, struct enrp_request *out);

/* Consumes ACTOR's approved request for ACTION on EIR/TARGET (marks it
 * used) in its own transaction, before the action it allows: should the
 * action then fail, the approval is spent, never left open.  -ENOENT none
 * approved, -EIO. */
int enrp_request_consume(enrp_store *st, const char *action, const char *eir,
                         const char *target, int64_t now_ns, const struct enrp_actor *actor,
                         struct enrp_request *out);

#endif
