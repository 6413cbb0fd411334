/*
 * path_int.h — remembered names and paths inside a transaction (path.h).
 */
#ifndef ENRP_PATH_INT_H
#define ENRP_PATH_INT_H

#include <stddef.h>
#include <stdint.h>

#include "store_int.h"

/* INO was reached by (or given) NAME in directory PARENT. */
void path_hint(uint64_t ino, uint64_t parent, const char *name);

/* enrp_path_of() inside T.  SCAN_MAX bounds the directory entries read when
 * no remembered name leads to the file (0: none are read). */
int path_of_txn(enrp_txn *t, uint64_t dir, const char *name, uint64_t ino, char *buf,
                size_t size, size_t scan_max);

/* Entries read to find a name no remembered one gives (path.c top comment):
 * for records of rare events, and for the seal of every file, which runs in
 * the store's write transaction and must not stall it. */
#define PATH_SCAN_MAX 100000
#define PATH_SCAN_SEAL 1000

/* Appends path=PATH of file INO to the journal DETAILS (SIZE), or
 * path_unknown=yes when it cannot be told (path.h says when). */
void path_details_add(enrp_txn *t, uint64_t ino, char *details, size_t size, size_t scan_max);

#endif
