/* form_int.h — the registration form inside a core transaction. */
#ifndef ENRP_FORM_INT_H
#define ENRP_FORM_INT_H

#include <enrp/form.h>

#include "store_int.h"

/* The form of EIR ID (all "" when none was set).  -EIO undecodable. */
int form_get_txn(enrp_txn *t, uint32_t id, struct enrp_eir_form *out);

#endif
