/*
 * codec.h — chunk frames (zstd, optionally AES-256-GCM), chunk names, and
 * the SHA-256 of whole files (DESIGN §5).
 *
 * A chunk is stored as one frame:
 *
 *   offset  size  field
 *        0     4  magic "ENRC"
 *        4     1  version (ENRP_CODEC_VERSION)
 *        5     1  flags (ENRP_CODEC_ENCRYPTED; other bits must be 0)
 *        6     2  reserved, must be 0
 *        8     4  plain length, big-endian (<= ENRP_CODEC_MAX_PLAIN)
 *       12     4  payload length, big-endian (= frame size - header size)
 *       16    12  nonce        } only when ENRP_CODEC_ENCRYPTED
 *       28    16  GCM tag      }
 *   16 or 44    …  payload: one zstd frame with content size and content
 *                  checksum, encrypted in place when ENRP_CODEC_ENCRYPTED
 *
 * An encrypted frame authenticates the first 16 header bytes and the chunk's
 * name (DIGEST) as GCM additional data, so a frame cannot be moved under
 * another name, nor have its lengths or flags changed.  An unencrypted frame
 * is checked by zstd's content checksum only; DIGEST is not checked by
 * enrp_codec_decode() for it (scrub re-names the plaintext).
 *
 * Thread-safety: an enrp_codec belongs to one thread at a time (the ingest and
 * read workers keep one each, STYLE 27); an enrp_sha256 likewise.  The other
 * functions are thread-safe.
 */
#ifndef ENRP_CODEC_H
#define ENRP_CODEC_H

#include <stddef.h>
#include <stdint.h>

#define ENRP_DIGEST_LEN 32
#define ENRP_KEY_LEN 32

#define ENRP_CODEC_VERSION 1
#define ENRP_CODEC_ENCRYPTED 0x01          /* header flag */
#define ENRP_CODEC_HEADER_LEN 16           /* plain frame header */
#define ENRP_CODEC_NONCE_LEN 12
#define ENRP_CODEC_TAG_LEN 16
#define ENRP_CODEC_MAX_PLAIN (64u << 20)   /* largest chunk a frame holds */

/* An EIR's data key material, derived from its 32-byte data key with
 * HKDF-SHA256 into two independent subkeys: ENC for AES-256-GCM, NAME for
 * HMAC-SHA-256 chunk names.  Kept on the caller's stack or in its EIR state;
 * wipe with enrp_eir_key_wipe(). */
struct enrp_eir_key {
	uint8_t enc[ENRP_KEY_LEN];
	uint8_t name[ENRP_KEY_LEN];
};

/* Derives OUT from DATA_KEY.  0, -ENOMEM, -EIO (OpenSSL failure).  OUT is
 * wiped on failure. */
int enrp_eir_key_derive(const uint8_t data_key[ENRP_KEY_LEN], struct enrp_eir_key *out);

/* Overwrites K with zeros in a way the compiler cannot elide.  NULL ok. */
void enrp_eir_key_wipe(struct enrp_eir_key *k);

/* Per-thread codec state: zstd compression and decompression contexts, the
 * cipher, digest and MAC contexts, and a scratch buffer for decryption. */
typedef struct enrp_codec enrp_codec;

/* Creates a codec compressing at ZSTD_LEVEL (1..19).  -EINVAL bad level,
 * -ENOMEM, -EIO (OpenSSL could not provide SHA-256, AES-256-GCM or HMAC).
 * Caller frees with enrp_codec_free(). */
int enrp_codec_new(int zstd_level, enrp_codec **out);

/* Frees C, wiping any key schedule and decrypted bytes it holds.  NULL ok. */
void enrp_codec_free(enrp_codec *c);

/* Chunk name of the N bytes at PLAIN: SHA-256(plain), or
 * HMAC-SHA-256(key->name, plain) when KEY is not NULL.  0, -ENOMEM, -EIO. */
int enrp_codec_name(enrp_codec *c, const struct enrp_eir_key *key, const void *plain, size_t n,
                    uint8_t digest[ENRP_DIGEST_LEN]);

/* Largest frame enrp_codec_encode() can produce for N plain bytes (with or
 * without a key); 0 if N > ENRP_CODEC_MAX_PLAIN. */
size_t enrp_codec_bound(size_t n);

/* Encodes the N bytes at PLAIN into a frame at OUT (capacity CAP, which must
 * be >= enrp_codec_bound(N)); *OUTLEN gets the frame size.  With KEY, the
 * frame is encrypted under key->enc with a fresh random nonce and bound to
 * DIGEST (the chunk's name); without KEY, DIGEST is unused and may be NULL.
 * Two encodings of the same chunk with a key differ (nonce) but decode alike.
 * -EINVAL: N > ENRP_CODEC_MAX_PLAIN or CAP too small; -ENOMEM; -EIO (zstd or
 * OpenSSL failure, including the random generator).  On failure OUT holds no
 * compressed plaintext. */
int enrp_codec_encode(enrp_codec *c, const struct enrp_eir_key *key,
                      const uint8_t digest[ENRP_DIGEST_LEN], const void *plain, size_t n,
                      void *out, size_t cap, size_t *outlen);

/* Decodes the N-byte FRAME into PLAIN (capacity CAP); *PLAINLEN gets the
 * plain size.  KEY and DIGEST must be those the frame was encoded with
 * (DIGEST may be NULL without KEY).  Every byte is verified before it is
 * returned: the GCM tag (encrypted) before anything is decompressed, zstd's
 * content checksum, and the plain length against the header.
 *   -EBADMSG: tag or checksum mismatch, wrong key, frame of another digest,
 *             corrupted payload;
 *   -EIO:     malformed header (magic, version, flags, reserved bytes,
 *             lengths), truncated or overlong frame, an encrypted frame
 *             without KEY or a plain frame with KEY;
 *   -EINVAL:  CAP smaller than the (verified) plain length;
 *   -ENOMEM.
 * On failure PLAIN holds no decoded bytes (whatever was written is wiped). */
int enrp_codec_decode(enrp_codec *c, const struct enrp_eir_key *key,
                      const uint8_t digest[ENRP_DIGEST_LEN], const void *frame, size_t n,
                      void *plain, size_t cap, size_t *plainlen);

/* Streaming SHA-256 for the ingest pipeline.  _new returns a context ready
 * for _update; after _final, call _reset before hashing again.  All return 0,
 * -ENOMEM or -EIO.  Caller frees with enrp_sha256_free() (NULL ok). */
typedef struct enrp_sha256 enrp_sha256;
int enrp_sha256_new(enrp_sha256 **out);
void enrp_sha256_free(enrp_sha256 *h);
int enrp_sha256_reset(enrp_sha256 *h);
int enrp_sha256_update(enrp_sha256 *h, const void *p, size_t n);
int enrp_sha256_final(enrp_sha256 *h, uint8_t out[ENRP_DIGEST_LEN]);
/* Hashes N zero bytes (the holes of a sparse file) without reading or
 * allocating them: the cost is SHA-256's alone, ~0.8 s per GiB of one core
 * with SHA extensions (measured here: 1.2 GB/s under load). */
int enrp_sha256_update_zeros(enrp_sha256 *h, uint64_t n);
/* DST takes SRC's state: what SRC has hashed so far, to be continued in
 * either (a seal saves states so that a reseal resumes from one). */
int enrp_sha256_copy(enrp_sha256 *dst, const enrp_sha256 *src);
/* A new context with SRC's state (enrp_sha256_copy into a new one). */
int enrp_sha256_dup(const enrp_sha256 *src, enrp_sha256 **out);

/* Writes the N bytes at P as 2N lower-case hex digits plus a NUL to OUT. */
void enrp_hex(const uint8_t *p, size_t n, char *out);

/* ---- One-shot primitives for core/keys.c ----
 * They live here so that every EVP error is translated in codec.c (STYLE 11).
 * Each call creates and frees its own contexts: keys are wrapped rarely. */

#define ENRP_CODEC_AEAD_OVERHEAD (ENRP_CODEC_NONCE_LEN + ENRP_CODEC_TAG_LEN)

/* AES-256-GCM of the N bytes at IN under KEY with AAD, random nonce.  OUT
 * (N + ENRP_CODEC_AEAD_OVERHEAD bytes) gets nonce | ciphertext | tag.
 * 0, -EINVAL (N > 1 GiB), -ENOMEM, -EIO. */
int enrp_codec_aead_seal(const uint8_t key[ENRP_KEY_LEN], const void *aad, size_t aadlen,
                         const void *in, size_t n, uint8_t *out);

/* Inverse of enrp_codec_aead_seal(): IN is N bytes (nonce | ct | tag), OUT
 * gets N - ENRP_CODEC_AEAD_OVERHEAD bytes.  -EBADMSG: tag mismatch (wrong
 * key, AAD or corrupted input), OUT wiped; -EINVAL: N too short or > 1 GiB;
 * -ENOMEM; -EIO. */
int enrp_codec_aead_open(const uint8_t key[ENRP_KEY_LEN], const void *aad, size_t aadlen,
                         const uint8_t *in, size_t n, uint8_t *out);

/* Fills the N bytes at P from OpenSSL's CSPRNG.  0 or -EIO (P wiped). */
int enrp_codec_random(void *p, size_t n);

/* HMAC-SHA-256 of the N bytes at P under the 32-byte KEY.  0, -ENOMEM, -EIO. */
int enrp_codec_hmac(const uint8_t key[ENRP_KEY_LEN], const void *p, size_t n,
                    uint8_t out[ENRP_DIGEST_LEN]);

#endif
