/* clock_int.h — the platform clock inside a transaction (clock.c). */
#ifndef ENRP_CLOCK_INT_H
#define ENRP_CLOCK_INT_H

#include <stdint.h>

#include "store_int.h"

/* max(the host clock, the floor kept in the store), read in T: what holds,
 * locks and retention compare with, so that a host clock set backwards
 * never ends one early.  Never raises the floor (enrp_platform_now does). */
int clock_now_txn(enrp_txn *t, int64_t *now_ns);

#endif
