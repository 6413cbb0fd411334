/*
 * status.h — the contents of the read-only files under EIR/.enrp/:
 * "status" (key: value lines), "SHA256SUMS" and "pending".
 */
#ifndef ENRP_STATUS_H
#define ENRP_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include <enrp/store.h>

enum enrp_status_file {
	ENRP_STATUS_STATUS,
	ENRP_STATUS_SHA256SUMS,
	ENRP_STATUS_PENDING,
};

#define ENRP_STATUS_FILE_COUNT 3

/* "status", "SHA256SUMS", "pending". */
const char *enrp_status_file_name(enum enrp_status_file f);

/* Renders file F of EIR ID into a new buffer (*BUF, *LEN), which the caller
 * frees with free().  -ENOENT no such EIR, -EINVAL unknown F, -ENOMEM. */
int enrp_status_render(enrp_store *st, uint32_t eir_id, enum enrp_status_file f,
                       char **buf, size_t *len);

#endif
