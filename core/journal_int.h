/* journal_int.h — appending to the journal inside a core transaction, so a
 * change and its record commit together. */
#ifndef ENRP_JOURNAL_INT_H
#define ENRP_JOURNAL_INT_H

#include <enrp/journal.h>

#include "store_int.h"

int journal_append_txn(enrp_txn *t, const struct enrp_actor *actor, const char *eir,
                       const char *event, const char *details);

#endif
