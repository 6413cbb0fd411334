/* spool_int.h — spool file names and removal, for the namespace. */
#ifndef ENRP_SPOOL_INT_H
#define ENRP_SPOOL_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "store_int.h"

#define SPOOL_NAME_LEN 16

/* "%016llx" of INO into BUF (SPOOL_NAME_LEN + 1 bytes). */
void spool_name(char *buf, uint64_t ino);
/* Parses a spool file name; false for anything that is not one. */
bool spool_parse_name(const char *name, uint64_t *ino);
/* store_hook_fn: unlinks INO's spool file once its inode is durably gone. */
void spool_unlink_hook(enrp_store *st, uint64_t ino);
/* Truncates INO's spool file to SIZE, creating it if absent. */
int spool_truncate(enrp_store *st, uint64_t ino, uint64_t size);

#endif
