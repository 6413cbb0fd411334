/* approval_int.h — how an action consumes its approved request inside its
 * own transaction, so "approved, used once" and the action commit
 * together. */
#ifndef ENRP_APPROVAL_INT_H
#define ENRP_APPROVAL_INT_H

#include <enrp/approval.h>

#include "store_int.h"

/* Finds the approved, unexpired, unused request by ACTOR's person for
 * ACTION on EIR/TARGET and marks it used (OUT gets it).  -ENOENT none
 * approved (a pending one does not count); -EIO. */
int request_consume_txn(enrp_txn *t, const char *action, const char *eir, const char *target,
                        int64_t now_ns, const struct enrp_actor *actor, struct enrp_request *out);

#endif
