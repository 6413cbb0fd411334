/*
 * fuzz_frame.c — enrp_codec_decode() on hostile chunk frames, and
 * encode/decode round trips of arbitrary plaintext (core/codec.c).
 *
 * Input: one selector byte, then the mode's bytes.  SEL % 6:
 *
 *   0  raw frame, decoded without a key.
 *   1  raw frame, decoded with the fixed test key and digest
 *      (fuzz_frame_data_key/fuzz_frame_digest in fuzz_common.h).
 *   2  wrapped, no key: W, PLEN (3 bytes, big-endian), PAYLOAD.  The harness
 *      puts a well-formed header around PAYLOAD, so the fuzzer spends its
 *      time in the zstd checks rather than on the length fields.  W bit 0:
 *      take the plain length from PAYLOAD's zstd frame header instead of
 *      PLEN; bit 1: give decode one byte less room than the plain length.
 *   3  wrapped, keyed: as 2, but the harness encrypts PAYLOAD with the test
 *      key (fixed nonce), so the tag verifies and the decrypted bytes reach
 *      the zstd checks: what an attacker holding an EIR key could store.
 *   4  round trip: the rest is plaintext.  Encoded without and with the key,
 *      each frame must decode to the plaintext, and must fail with a wrong
 *      digest (keyed), the wrong key mode, one byte missing, or one byte more.
 *   5  tamper: POS (2 bytes), XOR, K, PLAINTEXT.  Encode (keyed if K & 1),
 *      flip the bits XOR (0 → 1) of byte POS % len: decode must fail, or
 *      (without a key: a flip zstd does not read) give the plaintext back.
 *
 * For every decode of a frame the harness did not build, an independent
 * check of the header (the contract in codec.h) says which errors are
 * allowed: -EIO for a malformed header, a length mismatch or the wrong key
 * mode; otherwise -EBADMSG, -EINVAL (only when the room is smaller than the
 * plain length) or success.  On success the plain length is the header's and
 * (without a key) equals what zstd itself decodes from the payload.  On
 * failure the output buffer holds no decoded byte: each byte is still the
 * harness's fill or wiped to zero.  Nothing is logged at ERR for bad input.
 *
 * A fresh codec is made for each input, so no state carries over and every
 * input replays alike.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <zstd.h>

#include <enrp/codec.h>
#include <enrp/enrp.h>

#include "fuzz_common.h"

#define FILL 0xa5
/* Most room a decode is given: bigger plain lengths must give -EINVAL, and
 * 256 KiB (the smallest chunk size) keeps an iteration fast. */
#define CAP_MAX (256u << 10)
#define LEVEL 1

static struct enrp_eir_key key;
static uint8_t digest[ENRP_DIGEST_LEN];
static unsigned err_logs;
static char err_msg[256]; /* the last message logged at ERR */

static void sink(enum enrp_log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	if (level == ENRP_LOG_ERR) {
		err_logs++;
		snprintf(err_msg, sizeof(err_msg), "%s", msg);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t data_key[ENRP_KEY_LEN];

	(void)argc;
	(void)argv;
	enrp_log_set_sink(sink, NULL, ENRP_LOG_DEBUG);
	fuzz_frame_data_key(data_key);
	fuzz_frame_digest(digest);
	FUZZ_CHECK(enrp_eir_key_derive(data_key, &key) == 0, "key derivation failed");
	return 0;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* What the contract says of a frame's header: the error it must give, or 0
 * when only the payload (tag, zstd) can still make it fail.  *PLAIN_LEN
 * gets the header's plain length. */
static int header_verdict(const uint8_t *f, size_t n, bool keyed, uint32_t *plain_len)
{
	static const uint8_t magic[4] = { 'E', 'N', 'R', 'C' };

	*plain_len = 0;
	if (n < ENRP_CODEC_HEADER_LEN || memcmp(f, magic, 4) || f[4] != ENRP_CODEC_VERSION ||
	    (f[5] & ~ENRP_CODEC_ENCRYPTED) || f[6] || f[7])
		return -EIO;
	bool enc = f[5] & ENRP_CODEC_ENCRYPTED;
	if (enc != keyed)
		return -EIO;
	size_t hdrlen = ENRP_CODEC_HEADER_LEN + (enc ? ENRP_CODEC_AEAD_OVERHEAD : 0);
	uint32_t plen = be32(f + 8), paylen = be32(f + 12);
	if (n < hdrlen || n - hdrlen != paylen || plen > ENRP_CODEC_MAX_PLAIN)
		return -EIO;
	*plain_len = plen;
	return 0;
}

/* After a failed decode, each of the CAP bytes at P is the fill or wiped to
 * zero.  Compared a page at a time: a byte loop under coverage
 * instrumentation would be most of the target's time. */
static void check_wiped(const uint8_t *p, size_t cap, int rc)
{
	static uint8_t fill[4096], zero[4096];

	if (!fill[0])
		memset(fill, FILL, sizeof(fill));
	for (size_t off = 0; off < cap; off += sizeof(fill)) {
		size_t k = cap - off < sizeof(fill) ? cap - off : sizeof(fill);
		if (!memcmp(p + off, fill, k) || !memcmp(p + off, zero, k))
			continue;
		for (size_t i = off; i < off + k; i++)
			FUZZ_CHECK(p[i] == FILL || p[i] == 0,
			           "failed decode (%d) left byte %zu = 0x%02x in the output", rc, i,
			           p[i]);
	}
}

/* Decodes FRAME (N bytes) with room CAP and checks everything the contract
 * promises.  PAYLOAD (PAYLEN bytes, may be NULL) is the zstd frame inside,
 * when the harness knows it.  Returns decode's result; on success *OUT
 * (caller frees) holds the plaintext. */
static int checked_decode(enrp_codec *c, bool keyed, const uint8_t *frame, size_t n, size_t cap,
                          const uint8_t *payload, size_t paylen, uint8_t **out, size_t *outlen)
{
	uint32_t plain_len;
	int verdict = header_verdict(frame, n, keyed, &plain_len);
	uint8_t *plain = malloc(cap ? cap : 1);
	size_t got = (size_t)-1;

	FUZZ_CHECK(plain, "out of memory");
	memset(plain, FILL, cap);
	err_logs = 0;
	int rc = enrp_codec_decode(c, keyed ? &key : NULL, keyed ? digest : NULL, frame, n, plain,
	                           cap, &got);
	FUZZ_CHECK(err_logs == 0, "decode of bad input logged %u errors (rc %d), last: %s", err_logs,
	           rc, err_msg);
	if (verdict) {
		FUZZ_CHECK(rc == verdict, "malformed header: decode gave %d, contract says %d", rc,
		           verdict);
	} else {
		FUZZ_CHECK(rc == 0 || rc == -EBADMSG || rc == -EINVAL,
		           "well-formed header (plain %u, cap %zu): decode gave %d", plain_len, cap,
		           rc);
		FUZZ_CHECK(rc != -EINVAL || cap < plain_len, "-EINVAL with room %zu >= plain %u",
		           cap, plain_len);
	}
	if (rc) {
		check_wiped(plain, cap, rc);
		free(plain);
		return rc;
	}
	FUZZ_CHECK(got == plain_len && got <= cap, "decoded %zu bytes, header says %u, room %zu",
	           got, plain_len, cap);
	if (!keyed && !payload) {
		payload = frame + ENRP_CODEC_HEADER_LEN;
		paylen = n - ENRP_CODEC_HEADER_LEN;
	}
	if (payload) {
		/* zstd itself must agree, byte for byte. */
		uint8_t *ref = malloc(got ? got : 1);
		FUZZ_CHECK(ref, "out of memory");
		size_t zr = ZSTD_decompress(ref, got, payload, paylen);
		FUZZ_CHECK(!ZSTD_isError(zr) && zr == got && (got == 0 || !memcmp(ref, plain, got)),
		           "decode succeeded but zstd says %s (%zu bytes)",
		           ZSTD_isError(zr) ? ZSTD_getErrorName(zr) : "other bytes", zr);
		free(ref);
	}
	*out = plain;
	*outlen = got;
	return 0;
}

/* Room for a decode: the header's plain length when it is well-formed (and
 * not too big), else a little. */
static size_t room_for(const uint8_t *f, size_t n, bool keyed)
{
	uint32_t plen;
	if (header_verdict(f, n, keyed, &plen))
		return 64;
	return plen < CAP_MAX ? plen : CAP_MAX;
}

/* Encodes P (N bytes) into a frame of exactly enrp_codec_bound(N) room;
 * *FRAME (caller frees) and *FLEN.  Digest: the test digest. */
static void encode(enrp_codec *c, bool keyed, const uint8_t *p, size_t n, uint8_t **frame,
                   size_t *flen)
{
	size_t bound = enrp_codec_bound(n);
	uint8_t *f = malloc(bound);
	FUZZ_CHECK(bound && f, "bound %zu for %zu bytes", bound, n);
	err_logs = 0;
	int rc = enrp_codec_encode(c, keyed ? &key : NULL, keyed ? digest : NULL, p, n, f, bound,
	                           flen);
	FUZZ_CHECK(rc == 0 && err_logs == 0, "encode of %zu bytes failed: %d (%s)", n, rc, err_msg);
	FUZZ_CHECK(*flen <= bound, "frame of %zu bytes, bound %zu", *flen, bound);
	FUZZ_CHECK(be32(f + 8) == n, "header plain length %u for %zu bytes", be32(f + 8), n);
	FUZZ_CHECK(f[5] == (keyed ? ENRP_CODEC_ENCRYPTED : 0), "flags 0x%02x", f[5]);
	*frame = f;
}

/* Decode must fail with exactly RC. */
static void expect_fail(enrp_codec *c, const struct enrp_eir_key *k, const uint8_t *d,
                        const uint8_t *f, size_t n, size_t cap, int want, const char *what)
{
	uint8_t *plain = malloc(cap ? cap : 1);
	size_t got;
	FUZZ_CHECK(plain, "out of memory");
	err_logs = 0;
	int rc = enrp_codec_decode(c, k, d, f, n, plain, cap, &got);
	FUZZ_CHECK(rc == want, "%s: decode gave %d, want %d", what, rc, want);
	FUZZ_CHECK(err_logs == 0, "%s: %u errors logged, last: %s", what, err_logs, err_msg);
	free(plain);
}

static void mode_raw(enrp_codec *c, bool keyed, const uint8_t *p, size_t n)
{
	uint8_t *out = NULL, *f2;
	size_t outlen, f2len;

	if (checked_decode(c, keyed, p, n, room_for(p, n, keyed), NULL, 0, &out, &outlen))
		return;
	/* A frame that decodes is a frame enrp could have written: its plaintext
	 * survives a fresh round trip too. */
	encode(c, keyed, out, outlen, &f2, &f2len);
	uint8_t *out2 = NULL;
	size_t out2len;
	FUZZ_CHECK(checked_decode(c, keyed, f2, f2len, outlen, NULL, 0, &out2, &out2len) == 0 &&
	                   out2len == outlen && (outlen == 0 || !memcmp(out, out2, outlen)),
	           "re-encoded plaintext does not round-trip");
	free(out2);
	free(f2);
	free(out);
}

/* AES-256-GCM with the test key, a zero nonce, and AAD = header | digest,
 * as codec.c does it. */
static void seal(uint8_t *frame, size_t paylen)
{
	uint8_t *nonce = frame + ENRP_CODEC_HEADER_LEN, *tag = nonce + ENRP_CODEC_NONCE_LEN;
	uint8_t *ct = tag + ENRP_CODEC_TAG_LEN;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int len, ok;

	memset(nonce, 0, ENRP_CODEC_NONCE_LEN);
	ok = ctx && EVP_EncryptInit_ex2(ctx, EVP_aes_256_gcm(), key.enc, nonce, NULL) &&
	     EVP_EncryptUpdate(ctx, NULL, &len, frame, ENRP_CODEC_HEADER_LEN) &&
	     EVP_EncryptUpdate(ctx, NULL, &len, digest, ENRP_DIGEST_LEN) &&
	     (paylen == 0 || EVP_EncryptUpdate(ctx, ct, &len, ct, (int)paylen)) &&
	     EVP_EncryptFinal_ex(ctx, ct + paylen, &len) &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, ENRP_CODEC_TAG_LEN, tag);
	FUZZ_CHECK(ok, "harness AES-GCM failed");
	EVP_CIPHER_CTX_free(ctx);
}

static void mode_wrapped(enrp_codec *c, bool keyed, const uint8_t *p, size_t n)
{
	uint8_t w = 0, lenb[3] = { 0, 0, 0 };

	if (n < 4)
		return;
	w = p[0];
	memcpy(lenb, p + 1, 3);
	p += 4;
	n -= 4;

	uint32_t plen = (uint32_t)lenb[0] << 16 | (uint32_t)lenb[1] << 8 | lenb[2];
	if (w & 1) {
		unsigned long long fcs = ZSTD_getFrameContentSize(p, n);
		if (fcs != ZSTD_CONTENTSIZE_UNKNOWN && fcs != ZSTD_CONTENTSIZE_ERROR &&
		    fcs <= ENRP_CODEC_MAX_PLAIN)
			plen = (uint32_t)fcs;
	}
	size_t hdrlen = ENRP_CODEC_HEADER_LEN + (keyed ? ENRP_CODEC_AEAD_OVERHEAD : 0);
	uint8_t *f = malloc(hdrlen + n);
	FUZZ_CHECK(f, "out of memory");
	memcpy(f, "ENRC", 4);
	f[4] = ENRP_CODEC_VERSION;
	f[5] = keyed ? ENRP_CODEC_ENCRYPTED : 0;
	f[6] = f[7] = 0;
	put_be32(f + 8, plen);
	put_be32(f + 12, (uint32_t)n);
	if (n)
		memcpy(f + hdrlen, p, n);
	if (keyed)
		seal(f, n);

	size_t cap = plen < CAP_MAX ? plen : CAP_MAX;
	if ((w & 2) && cap > 0)
		cap--;
	uint8_t *out = NULL;
	size_t outlen;
	if (checked_decode(c, keyed, f, hdrlen + n, cap, p, n, &out, &outlen) == 0)
		free(out);
	free(f);
}

static void mode_roundtrip(enrp_codec *c, const uint8_t *p, size_t n)
{
	for (int keyed = 0; keyed < 2; keyed++) {
		uint8_t *f, *out = NULL, wrong[ENRP_DIGEST_LEN];
		size_t flen, outlen;

		encode(c, keyed, p, n, &f, &flen);
		FUZZ_CHECK(checked_decode(c, keyed, f, flen, n, NULL, 0, &out, &outlen) == 0 &&
		                   outlen == n && (n == 0 || !memcmp(out, p, n)),
		           "%s round trip of %zu bytes failed", keyed ? "keyed" : "plain", n);
		free(out);
		/* The frame cannot be read as the other kind. */
		expect_fail(c, keyed ? NULL : &key, keyed ? NULL : digest, f, flen, n, -EIO,
		            "wrong key mode");
		/* Truncated or extended by one byte: the lengths no longer add up. */
		expect_fail(c, keyed ? &key : NULL, keyed ? digest : NULL, f, flen - 1, n, -EIO,
		            "truncated frame");
		uint8_t *g = malloc(flen + 1);
		FUZZ_CHECK(g, "out of memory");
		memcpy(g, f, flen);
		g[flen] = 0;
		expect_fail(c, keyed ? &key : NULL, keyed ? digest : NULL, g, flen + 1, n, -EIO,
		            "extended frame");
		free(g);
		if (keyed) {
			/* Bound to its name: another digest fails the tag. */
			memcpy(wrong, digest, sizeof(wrong));
			wrong[n % ENRP_DIGEST_LEN] ^= 1;
			expect_fail(c, &key, wrong, f, flen, n, -EBADMSG, "wrong digest");
		} else if (n > 0) {
			/* Too little room. */
			expect_fail(c, NULL, NULL, f, flen, n - 1, -EINVAL, "short room");
		}
		free(f);
	}
}

static void mode_tamper(enrp_codec *c, const uint8_t *p, size_t n)
{
	if (n < 4)
		return;
	size_t pos = (size_t)p[0] << 8 | p[1];
	uint8_t x = p[2] ? p[2] : 1;
	bool keyed = p[3] & 1;
	p += 4;
	n -= 4;

	uint8_t *f, *out = NULL;
	size_t flen, outlen;
	encode(c, keyed, p, n, &f, &flen);
	pos %= flen;
	f[pos] ^= x;
	int rc = checked_decode(c, keyed, f, flen, n, NULL, 0, &out, &outlen);
	if (rc == 0) {
		/* Only a bit zstd never reads can flip unnoticed, and only without a
		 * key: the plaintext must be the original. */
		FUZZ_CHECK(!keyed, "tampered encrypted frame (byte %zu ^ 0x%02x) decoded", pos, x);
		FUZZ_CHECK(outlen == n && (n == 0 || !memcmp(out, p, n)),
		           "tampered frame (byte %zu ^ 0x%02x) decoded to other bytes", pos, x);
		free(out);
	}
	free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enrp_codec *c;

	if (size < 1)
		return 0;
	FUZZ_CHECK(enrp_codec_new(LEVEL, &c) == 0, "enrp_codec_new failed");
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	switch (data[0] % 6) {
	case 0: mode_raw(c, false, p, n); break;
	case 1: mode_raw(c, true, p, n); break;
	case 2: mode_wrapped(c, false, p, n); break;
	case 3: mode_wrapped(c, true, p, n); break;
	case 4: mode_roundtrip(c, p, n); break;
	case 5: mode_tamper(c, p, n); break;
	}
	enrp_codec_free(c);
	return 0;
}
