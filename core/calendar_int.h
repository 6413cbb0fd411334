/* calendar_int.h — the store's calendar read inside a core transaction (the
 * test-restore rules need the holidays and the zone in the same view as
 * the records they judge). */
#ifndef ENRP_CALENDAR_INT_H
#define ENRP_CALENDAR_INT_H

#include <stddef.h>

#include <enrp/calendar.h>

#include "store_int.h"

/* Every holiday's day, ascending, in a new array (*OUT, *N; the caller
 * frees *OUT; NULL when none).  An older store opened read-only has none.
 * -EIO for a damaged key, -ENOMEM. */
int calendar_holiday_days_txn(enrp_txn *t, enrp_day **out, size_t *n);

/* The platform's zone name (ENRP_ZONE_DEFAULT when unset); -EIO damaged. */
int calendar_zone_txn(enrp_txn *t, char zone[ENRP_ZONE_MAX + 1]);

#endif
