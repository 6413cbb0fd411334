/* retention_int.h — retention calls for use inside a core transaction. */
#ifndef ENRP_RETENTION_INT_H
#define ENRP_RETENTION_INT_H

#include <enrp/retention.h>

#include "store_int.h"

/* enrp_retention_set for the EIR record EIR inside T (journalled there). */
int retention_set_txn(enrp_txn *t, const struct enrp_eir *eir, const struct enrp_retention *p,
                      const struct enrp_actor *actor);

#endif
