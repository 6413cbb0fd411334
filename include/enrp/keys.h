/*
 * keys.h — the master key file and the per-EIR data keys it wraps
 * (DESIGN §9).
 *
 * An encrypted store has a 32-byte master key in a file kept outside the
 * store (mode 0400).  Every EIR has its own random 32-byte data key, stored in
 * the store only wrapped (AES-256-GCM) by the master key and bound to the
 * EIR's id — and, for keys made since destruction came, also by the EIR's
 * own share kept beside the master key file ("Key shares" below), so that
 * destroying the share (enrpctl eir destroy) makes every copy of the
 * wrapped key useless.  The store also keeps a check value of the master
 * key, so a wrong key file is refused at mount instead of yielding garbage.
 * Escrow blobs are wrapped by the master key under a caller-chosen label.
 *
 * This module reads and writes no store: the caller keeps the wrapped blobs
 * and the check value (core/vault.c).
 *
 * Thread-safety: an enrp_master is immutable after load; every function may
 * be called from any number of threads at once.
 */
#ifndef ENRP_KEYS_H
#define ENRP_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include <enrp/codec.h>

#define ENRP_MASTER_KEY_LEN 32
#define ENRP_KEY_CHECK_LEN 32
#define ENRP_WRAPPED_KEY_LEN (12 + 32 + 16) /* nonce | ciphertext | tag */
#define ENRP_ESCROW_MAX (1u << 20)          /* largest escrow blob (plaintext) */

typedef struct enrp_master enrp_master;

/* Creates a new master key file at PATH: 32 bytes from the CSPRNG, mode
 * 0400, durable (file and directory fsync'd) when this returns.  The file
 * appears complete or not at all: it is written under a temporary name in
 * the same directory and linked into place, which fails if PATH exists.
 * -EEXIST: PATH exists (it is never overwritten); -ENAMETOOLONG; -errno of
 * open, write, fsync or link (-EACCES, -ENOENT, -ENOSPC, -EPERM on a
 * filesystem without hard links, ...); -EIO (random generator).  An error
 * from the final fsync of the directory means PATH exists and is complete
 * but may not survive a power loss. */
int enrp_master_create(const char *path);

/* Loads the master key file at PATH (symlinks followed; the file they reach
 * is what is checked).  It must be a regular file of exactly 32 bytes, owned
 * by the effective uid or by root, and neither readable nor writable by group
 * or others.  Each refusal is logged at ENRP_LOG_ERR with what to do.
 * -ENOENT; -EACCES; -EPERM: bad owner or mode; -EINVAL: not a regular file or
 * not 32 bytes; -ENOMEM; -EIO.  Caller frees with enrp_master_free(). */
int enrp_master_load(const char *path, enrp_master **out);

/* Wipes and frees M.  NULL ok. */
void enrp_master_free(enrp_master *m);

/* The check value the store keeps at init: HMAC-SHA-256(master,
 * "enrp key check v1").  It reveals nothing about the key.  0, -ENOMEM,
 * -EIO. */
int enrp_master_check_value(const enrp_master *m, uint8_t out[ENRP_KEY_CHECK_LEN]);

/* 0 if M's check value is EXPECTED (constant-time comparison),
 * -EKEYREJECTED if not; -ENOMEM, -EIO. */
int enrp_master_verify(const enrp_master *m, const uint8_t expected[ENRP_KEY_CHECK_LEN]);

/* Makes a new random data key for EIR EIR_ID: WRAPPED gets it wrapped under
 * the master key (AES-256-GCM, AAD "enrp eir key v1" | be32(EIR_ID)), and OUT
 * the subkeys derived from it (enrp_eir_key_derive).  The plain data key
 * never leaves this call.  0, -ENOMEM, -EIO; on failure OUT and WRAPPED are
 * wiped. */
int enrp_master_new_eir_key(const enrp_master *m, uint32_t eir_id,
                            uint8_t wrapped[ENRP_WRAPPED_KEY_LEN], struct enrp_eir_key *out);

/* Unwraps EIR EIR_ID's data key and derives OUT from it.  -EKEYREJECTED: the
 * tag does not match (another master key, another EIR's blob, or a damaged
 * blob); -ENOMEM; -EIO.  On failure OUT is wiped. */
int enrp_master_unwrap_eir_key(const enrp_master *m, uint32_t eir_id,
                               const uint8_t wrapped[ENRP_WRAPPED_KEY_LEN],
                               struct enrp_eir_key *out);

/* Key shares (docs/design.md "Destruction").  An EIR key made since
 * destruction came (version 2) is wrapped under a key-encryption key that
 * needs both the master key and the EIR's own 32-byte share, a file kept
 * beside the master key file, outside the store:
 *   KEK = HMAC-SHA-256(master, "enrp eir kek v2" | be32(EIR_ID) | share)
 * and the blob the store keeps is ENRP_WRAPPED_KEY_V2 | nonce | ct | tag
 * (AAD "enrp eir key v2" | be32(EIR_ID)).  Destroying the share makes every
 * copy of that blob — an old copy of the store's files, a free LMDB page —
 * useless, even together with the master key.  Same errors and wiping as
 * the version 1 calls above. */
#define ENRP_EIR_SHARE_LEN 32
#define ENRP_WRAPPED_KEY_V2 0x02
#define ENRP_WRAPPED_KEY_V2_LEN (1 + ENRP_WRAPPED_KEY_LEN)
int enrp_master_new_eir_key_v2(const enrp_master *m, uint32_t eir_id,
                               const uint8_t share[ENRP_EIR_SHARE_LEN],
                               uint8_t wrapped[ENRP_WRAPPED_KEY_V2_LEN], struct enrp_eir_key *out);
int enrp_master_unwrap_eir_key_v2(const enrp_master *m, uint32_t eir_id,
                                  const uint8_t share[ENRP_EIR_SHARE_LEN],
                                  const uint8_t wrapped[ENRP_WRAPPED_KEY_V2_LEN],
                                  struct enrp_eir_key *out);

/* Escrow (DESIGN §9): wraps the N bytes at IN (N <= ENRP_ESCROW_MAX) under
 * the master key, bound to LABEL (a C string, e.g. "escrow:<eir>:<name>").
 * *OUT gets a new buffer of *OUTLEN = N + 28 bytes: nonce | ct | tag.  The
 * AAD is "enrp escrow v1" NUL LABEL, so an escrow blob can never pass for a
 * wrapped EIR key nor the reverse.  -EINVAL (N too large); -ENOMEM; -EIO.
 * Caller frees *OUT with enrp_master_buf_free(). */
int enrp_master_wrap(const enrp_master *m, const char *label, const void *in, size_t n,
                     uint8_t **out, size_t *outlen);

/* Inverse of enrp_master_wrap() with the same LABEL.  -EKEYREJECTED: tag
 * mismatch (wrong master key, wrong label, damaged blob); -EINVAL: N not
 * between 28 and ENRP_ESCROW_MAX + 28; -ENOMEM; -EIO.  *OUT is secret: the
 * caller frees it with enrp_master_buf_free(), which wipes it. */
int enrp_master_unwrap(const enrp_master *m, const char *label, const void *in, size_t n,
                       uint8_t **out, size_t *outlen);

/* Wipes the N bytes at P and frees P (a buffer from enrp_master_wrap or
 * enrp_master_unwrap).  NULL ok.  fs/ and tools/ cannot reach
 * OPENSSL_cleanse, so this is how they dispose of secrets. */
void enrp_master_buf_free(void *p, size_t n);

#endif
