/*
 * codec.c — chunk frames, chunk names, SHA-256, and the one place where zstd
 * and OpenSSL errors become errnos (STYLE 11).
 *
 * Frame layout: see include/enrp/codec.h.  Invariants:
 *
 *   - A frame's payload is exactly one zstd frame that carries its content
 *     size and a content checksum.  Decoding checks that the zstd frame fills
 *     the payload, that its content size equals the header's plain length,
 *     and that the checksum flag is set, so no bit of an unencrypted frame can
 *     change what is returned without zstd noticing.
 *   - An encrypted frame is AES-256-GCM under the EIR's enc subkey with a
 *     fresh 96-bit random nonce, and authenticates, as AAD, the 16 fixed
 *     header bytes and the chunk's name.  The tag is checked (in a scratch
 *     buffer) before a single byte is decompressed, so zstd never parses
 *     attacker-controlled input on an encrypted store, and a valid frame
 *     copied under another chunk's name, or into another EIR, fails with
 *     -EBADMSG.  Random nonces under one key are safe for 2^32 frames (NIST
 *     SP 800-38D §8.3): 1 PiB of 256 KiB chunks per EIR, which is far above
 *     any EIR's size; a chunk is written once per name, so rewrites are rare.
 *   - Failure never returns unverified bytes: decode wipes what it wrote to
 *     the caller's buffer, and encode wipes the compressed plaintext it left
 *     in OUT if encryption fails.  Decrypted bytes in the scratch buffer are
 *     wiped after every call, and the cipher context is reset (which frees
 *     and cleanses the AES key schedule) and the MAC context re-keyed with
 *     zeros after every use, so no EIR key outlives the call that used it in
 *     a worker's memory (an EIR destroyed with --shred must stay
 *     unrecoverable, DESIGN §9).
 *
 * Errors: digest, tag or checksum mismatch and corrupt zstd data are
 * -EBADMSG; a malformed header, a truncated frame, or an encrypted frame
 * where a plain one is expected (or the reverse) is -EIO, as the contract in
 * codec.h says; failures of zstd or OpenSSL on valid input are -EIO after a
 * log line at ERR; allocation failure is -ENOMEM.  Frames that fail
 * verification are logged only at DEBUG: the caller knows the chunk's name
 * and reports the damage once (journal, scrub).
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <enrp/codec.h>
#include <enrp/enrp.h>

static const uint8_t frame_magic[4] = { 'E', 'N', 'R', 'C' };

/* Largest buffer handed to one EVP call: EVP lengths are ints. */
#define AEAD_MAX_LEN (1u << 30)

/* HKDF info strings: one per subkey, versioned so a future scheme cannot
 * collide with this one. */
static const char hkdf_info_enc[] = "enrp eir enc v1";
static const char hkdf_info_name[] = "enrp eir name v1";

/* OSSL_PARAM wants a non-const char * for string parameters. */
static char sha256_name[] = "SHA256";

struct enrp_codec {
	ZSTD_CCtx *zc;
	ZSTD_DCtx *zd;
	EVP_MD *sha256;         /* fetched once: EVP_sha256() fetches per init */
	EVP_CIPHER *gcm;
	EVP_MAC *hmac;
	EVP_MD_CTX *md;
	EVP_CIPHER_CTX *cipher; /* reset after every use: holds no key between calls */
	EVP_MAC_CTX *mac;       /* re-keyed with zeros after every use */
	uint8_t *scratch;       /* decrypted payloads; zero between calls */
	size_t scratch_cap;
};

struct enrp_sha256 {
	EVP_MD_CTX *md;
	EVP_MD *sha256;
};

/* ---- error translation: one switch per foreign error space ---- */

/* Consumes this thread's OpenSSL error queue and returns the errno for it.
 * WHAT names the failed step for the log. */
static int evp_error(const char *what)
{
	unsigned long e = ERR_peek_last_error();
	char buf[256] = "no OpenSSL error queued";
	int rc;

	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	switch (ERR_GET_REASON(e)) {
	case ERR_R_MALLOC_FAILURE & ERR_REASON_MASK:
		rc = -ENOMEM;
		break;
	default:
		rc = -EIO;
		break;
	}
	ERR_clear_error();
	enrp_log(ENRP_LOG_ERR, "codec: %s failed: %s", what, buf);
	return rc;
}

/* Translates zstd error CODE.  DECODING: the input came from disk, so a
 * format error means corrupt data (-EBADMSG), not a failure of ours. */
static int zstd_error(size_t code, const char *what, bool decoding)
{
	int rc;

	switch (ZSTD_getErrorCode(code)) {
	case ZSTD_error_memory_allocation:
		rc = -ENOMEM;
		break;
	case ZSTD_error_checksum_wrong:
		rc = -EBADMSG;
		break;
	case ZSTD_error_GENERIC:
	case ZSTD_error_prefix_unknown:
	case ZSTD_error_version_unsupported:
	case ZSTD_error_frameParameter_unsupported:
	case ZSTD_error_frameParameter_windowTooLarge:
	case ZSTD_error_corruption_detected:
	case ZSTD_error_dictionary_corrupted:
	case ZSTD_error_dictionary_wrong:
	case ZSTD_error_tableLog_tooLarge:
	case ZSTD_error_maxSymbolValue_tooLarge:
	case ZSTD_error_maxSymbolValue_tooSmall:
	case ZSTD_error_dstSize_tooSmall: /* content longer than its header says */
	case ZSTD_error_srcSize_wrong:
		rc = decoding ? -EBADMSG : -EIO;
		break;
	default:
		/* Decoding, any other complaint of zstd's is about the bytes too
		 * (found by fuzzing: literals_headerWrong was not listed). */
		rc = decoding ? -EBADMSG : -EIO;
		break;
	}
	enrp_log(rc == -EBADMSG ? ENRP_LOG_DEBUG : ENRP_LOG_ERR, "codec: %s: %s", what,
	         ZSTD_getErrorName(code));
	return rc;
}

/* ---- small helpers ---- */

static void be32_store(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t be32_load(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Additional data of one AES-GCM operation, in up to two pieces. */
struct aad {
	const void *p[2];
	size_t n[2];
};

/* AES-256-GCM encryption of N bytes from IN to OUT (which may be IN).  CTX is
 * reset on every path, so the key schedule does not outlive the call. */
static int gcm_seal(EVP_CIPHER_CTX *ctx, const EVP_CIPHER *cipher, const uint8_t *key,
                    const uint8_t nonce[ENRP_CODEC_NONCE_LEN], const struct aad *aad,
                    const uint8_t *in, uint8_t *out, size_t n, uint8_t tag[ENRP_CODEC_TAG_LEN])
{
	int len, rc = 0;

	if (n > AEAD_MAX_LEN)
		return -EINVAL;
	if (!EVP_EncryptInit_ex2(ctx, cipher, key, nonce, NULL)) {
		rc = evp_error("AES-GCM init");
		goto out_reset;
	}
	for (int i = 0; i < 2; i++) {
		if (aad->n[i] && !EVP_EncryptUpdate(ctx, NULL, &len, aad->p[i], (int)aad->n[i])) {
			rc = evp_error("AES-GCM aad");
			goto out_reset;
		}
	}
	/* An empty plaintext needs no update: GCM takes a NULL output as AAD. */
	if (n && !EVP_EncryptUpdate(ctx, out, &len, in, (int)n)) {
		rc = evp_error("AES-GCM encrypt");
		goto out_reset;
	}
	if (!EVP_EncryptFinal_ex(ctx, out + n, &len) ||
	    !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, ENRP_CODEC_TAG_LEN, tag)) {
		rc = evp_error("AES-GCM final");
		goto out_reset;
	}
out_reset:
	EVP_CIPHER_CTX_reset(ctx);
	return rc;
}

/* AES-256-GCM decryption; -EBADMSG when the tag does not match, in which case
 * OUT must be treated as garbage (callers wipe it).  CTX is reset on every
 * path. */
static int gcm_open(EVP_CIPHER_CTX *ctx, const EVP_CIPHER *cipher, const uint8_t *key,
                    const uint8_t nonce[ENRP_CODEC_NONCE_LEN], const struct aad *aad,
                    const uint8_t *in, uint8_t *out, size_t n,
                    const uint8_t tag[ENRP_CODEC_TAG_LEN])
{
	uint8_t tagbuf[ENRP_CODEC_TAG_LEN];
	int len, rc = 0;

	if (n > AEAD_MAX_LEN)
		return -EINVAL;
	memcpy(tagbuf, tag, sizeof(tagbuf)); /* the ctrl takes a non-const pointer */
	if (!EVP_DecryptInit_ex2(ctx, cipher, key, nonce, NULL) ||
	    !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, ENRP_CODEC_TAG_LEN, tagbuf)) {
		rc = evp_error("AES-GCM init");
		goto out_reset;
	}
	for (int i = 0; i < 2; i++) {
		if (aad->n[i] && !EVP_DecryptUpdate(ctx, NULL, &len, aad->p[i], (int)aad->n[i])) {
			rc = evp_error("AES-GCM aad");
			goto out_reset;
		}
	}
	if (n && !EVP_DecryptUpdate(ctx, out, &len, in, (int)n)) {
		rc = evp_error("AES-GCM decrypt");
		goto out_reset;
	}
	/* For GCM the only way Final fails is a tag mismatch: wrong key, wrong
	 * AAD (another chunk's name, a changed header) or changed bytes. */
	if (EVP_DecryptFinal_ex(ctx, out + n, &len) <= 0) {
		ERR_clear_error();
		enrp_log(ENRP_LOG_DEBUG, "codec: AES-GCM tag mismatch");
		rc = -EBADMSG;
		goto out_reset;
	}
out_reset:
	EVP_CIPHER_CTX_reset(ctx);
	return rc;
}

/* HKDF-SHA256(ikm = KEY, no salt, INFO) → 32 bytes at OUT. */
static int hkdf32(EVP_KDF *kdf, const uint8_t key[ENRP_KEY_LEN], const char *info,
                  uint8_t out[ENRP_KEY_LEN])
{
	EVP_KDF_CTX *kctx;
	int rc = 0;

	kctx = EVP_KDF_CTX_new(kdf);
	if (!kctx)
		return evp_error("HKDF context");
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, sha256_name, 0),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, ENRP_KEY_LEN),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info)),
		OSSL_PARAM_construct_end(),
	};
	if (EVP_KDF_derive(kctx, out, ENRP_KEY_LEN, params) <= 0)
		rc = evp_error("HKDF");
	EVP_KDF_CTX_free(kctx); /* clear-frees its copy of the key */
	return rc;
}

/* ---- keys ---- */

int enrp_eir_key_derive(const uint8_t data_key[ENRP_KEY_LEN], struct enrp_eir_key *out)
{
	EVP_KDF *kdf;
	int rc;

	kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	if (!kdf) {
		rc = evp_error("HKDF fetch");
		goto out_wipe;
	}
	rc = hkdf32(kdf, data_key, hkdf_info_enc, out->enc);
	if (rc == 0)
		rc = hkdf32(kdf, data_key, hkdf_info_name, out->name);
	EVP_KDF_free(kdf);
out_wipe:
	if (rc)
		enrp_eir_key_wipe(out);
	return rc;
}

void enrp_eir_key_wipe(struct enrp_eir_key *k)
{
	if (k)
		OPENSSL_cleanse(k, sizeof(*k));
}

/* ---- codec lifecycle ---- */

int enrp_codec_new(int zstd_level, enrp_codec **out)
{
	enrp_codec *c;
	size_t zr;
	int rc;

	if (zstd_level < 1 || zstd_level > 19)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->zc = ZSTD_createCCtx();
	c->zd = ZSTD_createDCtx();
	if (!c->zc || !c->zd) {
		rc = -ENOMEM;
		goto out_free;
	}
	/* Sticky parameters: every ZSTD_compress2() on this context uses them.
	 * The checksum is what verifies an unencrypted chunk on read. */
	zr = ZSTD_CCtx_setParameter(c->zc, ZSTD_c_compressionLevel, zstd_level);
	if (!ZSTD_isError(zr))
		zr = ZSTD_CCtx_setParameter(c->zc, ZSTD_c_checksumFlag, 1);
	if (!ZSTD_isError(zr))
		zr = ZSTD_CCtx_setParameter(c->zc, ZSTD_c_contentSizeFlag, 1);
	if (ZSTD_isError(zr)) {
		rc = zstd_error(zr, "zstd parameters", false);
		goto out_free;
	}
	c->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	c->gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	c->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!c->sha256 || !c->gcm || !c->hmac) {
		rc = evp_error("fetching SHA-256, AES-256-GCM and HMAC");
		goto out_free;
	}
	c->md = EVP_MD_CTX_new();
	c->cipher = EVP_CIPHER_CTX_new();
	c->mac = EVP_MAC_CTX_new(c->hmac);
	if (!c->md || !c->cipher || !c->mac) {
		rc = evp_error("creating digest, cipher and MAC contexts");
		goto out_free;
	}
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, sha256_name, 0),
		OSSL_PARAM_construct_end(),
	};
	if (!EVP_MAC_CTX_set_params(c->mac, params)) {
		rc = evp_error("HMAC digest");
		goto out_free;
	}
	*out = c;
	return 0;

out_free:
	enrp_codec_free(c);
	return rc;
}

void enrp_codec_free(enrp_codec *c)
{
	if (!c)
		return;
	ZSTD_freeCCtx(c->zc);
	ZSTD_freeDCtx(c->zd);
	EVP_MAC_CTX_free(c->mac);       /* cleanses */
	EVP_CIPHER_CTX_free(c->cipher); /* cleanses */
	EVP_MD_CTX_free(c->md);
	EVP_MAC_free(c->hmac);
	EVP_CIPHER_free(c->gcm);
	EVP_MD_free(c->sha256);
	/* Already zero after every call; free() is not the place to trust that. */
	if (c->scratch)
		OPENSSL_cleanse(c->scratch, c->scratch_cap);
	free(c->scratch);
	free(c);
}

/* ---- names ---- */

static int name_hmac(enrp_codec *c, const uint8_t key[ENRP_KEY_LEN], const void *plain, size_t n,
                     uint8_t digest[ENRP_DIGEST_LEN])
{
	static const uint8_t zero_key[ENRP_KEY_LEN];
	size_t len;
	int rc = 0;

	if (!EVP_MAC_init(c->mac, key, ENRP_KEY_LEN, NULL) ||
	    !EVP_MAC_update(c->mac, plain, n) ||
	    !EVP_MAC_final(c->mac, digest, &len, ENRP_DIGEST_LEN))
		rc = evp_error("HMAC-SHA-256");
	/* The context keeps the key and its padded digests: overwrite them so
	 * no EIR's name key stays in this worker after the call. */
	if (!EVP_MAC_init(c->mac, zero_key, sizeof(zero_key), NULL)) {
		int wipe_rc = evp_error("HMAC re-key");
		rc = rc ? rc : wipe_rc;
	}
	if (rc)
		OPENSSL_cleanse(digest, ENRP_DIGEST_LEN);
	return rc;
}

int enrp_codec_name(enrp_codec *c, const struct enrp_eir_key *key, const void *plain, size_t n,
                    uint8_t digest[ENRP_DIGEST_LEN])
{
	unsigned len;

	if (key)
		return name_hmac(c, key->name, plain, n, digest);
	if (!EVP_DigestInit_ex2(c->md, c->sha256, NULL) || !EVP_DigestUpdate(c->md, plain, n) ||
	    !EVP_DigestFinal_ex(c->md, digest, &len))
		return evp_error("SHA-256");
	return 0;
}

/* ---- frames ---- */

size_t enrp_codec_bound(size_t n)
{
	if (n > ENRP_CODEC_MAX_PLAIN)
		return 0;
	return ENRP_CODEC_HEADER_LEN + ENRP_CODEC_AEAD_OVERHEAD + ZSTD_compressBound(n);
}

int enrp_codec_encode(enrp_codec *c, const struct enrp_eir_key *key,
                      const uint8_t digest[ENRP_DIGEST_LEN], const void *plain, size_t n,
                      void *out, size_t cap, size_t *outlen)
{
	uint8_t *hdr = out;
	size_t hdrlen = ENRP_CODEC_HEADER_LEN + (key ? ENRP_CODEC_AEAD_OVERHEAD : 0);
	size_t zr;
	int rc;

	if (n > ENRP_CODEC_MAX_PLAIN || cap < enrp_codec_bound(n))
		return -EINVAL;
	/* With cap >= the bound, ZSTD_compress2 cannot run out of room. */
	zr = ZSTD_compress2(c->zc, hdr + hdrlen, cap - hdrlen, plain, n);
	if (ZSTD_isError(zr)) {
		rc = zstd_error(zr, "compress", false);
		goto out_wipe;
	}
	memcpy(hdr, frame_magic, sizeof(frame_magic));
	hdr[4] = ENRP_CODEC_VERSION;
	hdr[5] = key ? ENRP_CODEC_ENCRYPTED : 0;
	hdr[6] = hdr[7] = 0;
	be32_store(hdr + 8, (uint32_t)n);
	be32_store(hdr + 12, (uint32_t)zr);
	if (key) {
		uint8_t *nonce = hdr + ENRP_CODEC_HEADER_LEN;
		uint8_t *tag = nonce + ENRP_CODEC_NONCE_LEN;
		struct aad aad = { { hdr, digest }, { ENRP_CODEC_HEADER_LEN, ENRP_DIGEST_LEN } };

		rc = enrp_codec_random(nonce, ENRP_CODEC_NONCE_LEN);
		if (rc)
			goto out_wipe;
		rc = gcm_seal(c->cipher, c->gcm, key->enc, nonce, &aad, hdr + hdrlen, hdr + hdrlen,
		              zr, tag);
		if (rc)
			goto out_wipe;
	}
	*outlen = hdrlen + zr;
	return 0;

out_wipe:
	/* OUT may hold (part of) the compressed plaintext of a chunk meant to
	 * be encrypted: it must not reach a chunk file by mistake.  A failed
	 * compression may have written anywhere in OUT. */
	OPENSSL_cleanse(out, ZSTD_isError(zr) ? cap : hdrlen + zr);
	return rc;
}

/* Checks that SRC (LEN bytes) is exactly one zstd frame of PLAIN_LEN content
 * bytes with a content checksum (RFC 8878 §3.1.1: the frame header
 * descriptor follows the 4-byte magic, bit 2 is the checksum flag and bits
 * 0-1 the dictionary id size).  Uses only zstd's stable API. */
static int zstd_frame_check(const uint8_t *src, size_t len, uint32_t plain_len)
{
	unsigned long long fcs;
	size_t fsz;

	if (len < 5 || src[0] != 0x28 || src[1] != 0xB5 || src[2] != 0x2F || src[3] != 0xFD ||
	    !(src[4] & 0x04) || (src[4] & 0x03)) {
		enrp_log(ENRP_LOG_DEBUG, "codec: payload is not a checksummed zstd frame");
		return -EBADMSG;
	}
	fsz = ZSTD_findFrameCompressedSize(src, len);
	if (ZSTD_isError(fsz))
		return zstd_error(fsz, "frame size", true);
	fcs = ZSTD_getFrameContentSize(src, len);
	if (fsz != len || fcs != plain_len) {
		enrp_log(ENRP_LOG_DEBUG, "codec: zstd frame of %zu/%zu bytes holding %llu, header says %u",
		         fsz, len, fcs, plain_len);
		return -EBADMSG;
	}
	return 0;
}

/* Makes the scratch buffer hold at least N bytes.  It is zero outside a call,
 * so the old one can be freed without a wipe. */
static int scratch_reserve(enrp_codec *c, size_t n)
{
	uint8_t *p;

	if (n == 0)
		n = 1; /* never hand out NULL: NULL + 0 is undefined behaviour */
	if (c->scratch_cap >= n)
		return 0;
	p = malloc(n);
	if (!p)
		return -ENOMEM;
	free(c->scratch);
	c->scratch = p;
	c->scratch_cap = n;
	return 0;
}

int enrp_codec_decode(enrp_codec *c, const struct enrp_eir_key *key,
                      const uint8_t digest[ENRP_DIGEST_LEN], const void *frame, size_t n,
                      void *plain, size_t cap, size_t *plainlen)
{
	const uint8_t *hdr = frame, *src;
	size_t hdrlen, zr, written = 0;
	uint32_t plain_len, payload_len;
	bool encrypted;
	int rc;

	if (n < ENRP_CODEC_HEADER_LEN || memcmp(hdr, frame_magic, sizeof(frame_magic)) != 0 ||
	    hdr[4] != ENRP_CODEC_VERSION || (hdr[5] & ~ENRP_CODEC_ENCRYPTED) || hdr[6] || hdr[7]) {
		enrp_log(ENRP_LOG_DEBUG, "codec: not a version %d chunk frame", ENRP_CODEC_VERSION);
		return -EIO;
	}
	encrypted = hdr[5] & ENRP_CODEC_ENCRYPTED;
	if (encrypted != (key != NULL)) {
		enrp_log(ENRP_LOG_DEBUG, "codec: %s chunk frame in an %s EIR",
		         encrypted ? "encrypted" : "unencrypted", key ? "encrypted" : "unencrypted");
		return -EIO;
	}
	hdrlen = ENRP_CODEC_HEADER_LEN + (encrypted ? ENRP_CODEC_AEAD_OVERHEAD : 0);
	plain_len = be32_load(hdr + 8);
	payload_len = be32_load(hdr + 12);
	if (n < hdrlen || n - hdrlen != payload_len || plain_len > ENRP_CODEC_MAX_PLAIN) {
		enrp_log(ENRP_LOG_DEBUG, "codec: frame of %zu bytes, header says %u+%zu", n,
		         payload_len, hdrlen);
		return -EIO;
	}
	src = hdr + hdrlen;
	if (encrypted) {
		const uint8_t *nonce = hdr + ENRP_CODEC_HEADER_LEN;
		const uint8_t *tag = nonce + ENRP_CODEC_NONCE_LEN;
		struct aad aad = { { hdr, digest }, { ENRP_CODEC_HEADER_LEN, ENRP_DIGEST_LEN } };

		rc = scratch_reserve(c, payload_len);
		if (rc)
			return rc;
		rc = gcm_open(c->cipher, c->gcm, key->enc, nonce, &aad, src, c->scratch,
		              payload_len, tag);
		if (rc)
			goto out_wipe;
		src = c->scratch;
	}
	/* From here on (encrypted) the header is authentic. */
	rc = zstd_frame_check(src, payload_len, plain_len);
	if (rc)
		goto out_wipe;
	if (cap < plain_len) {
		rc = -EINVAL;
		goto out_wipe;
	}
	written = plain_len;
	zr = ZSTD_decompressDCtx(c->zd, plain, plain_len, src, payload_len);
	if (ZSTD_isError(zr)) {
		rc = zstd_error(zr, "decompress", true);
		goto out_wipe;
	}
	if (zr != plain_len) {
		rc = -EBADMSG;
		goto out_wipe;
	}
	*plainlen = zr;
	rc = 0;

out_wipe:
	if (encrypted)
		OPENSSL_cleanse(c->scratch, payload_len);
	/* zstd writes before it checks the checksum at the frame's end. */
	if (rc && written)
		OPENSSL_cleanse(plain, written);
	return rc;
}

/* ---- streaming SHA-256 ---- */

int enrp_sha256_new(enrp_sha256 **out)
{
	enrp_sha256 *h;
	int rc;

	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	h->md = EVP_MD_CTX_new();
	if (!h->sha256 || !h->md) {
		rc = evp_error("SHA-256 context");
		goto out_free;
	}
	rc = enrp_sha256_reset(h);
	if (rc)
		goto out_free;
	*out = h;
	return 0;

out_free:
	enrp_sha256_free(h);
	return rc;
}

void enrp_sha256_free(enrp_sha256 *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->md);
	EVP_MD_free(h->sha256);
	free(h);
}

int enrp_sha256_reset(enrp_sha256 *h)
{
	if (!EVP_DigestInit_ex2(h->md, h->sha256, NULL))
		return evp_error("SHA-256 init");
	return 0;
}

int enrp_sha256_update(enrp_sha256 *h, const void *p, size_t n)
{
	if (!EVP_DigestUpdate(h->md, p, n))
		return evp_error("SHA-256 update");
	return 0;
}

/* Zeros are hashed from one read-only block: nothing is read from a disk,
 * allocated or copied, and the block stays in the L1/L2 cache.  SHA-256 has
 * no shortcut for a long run of equal blocks (each compression takes the
 * state the previous one left), so the cost is that of the hash itself. */
static const uint8_t zero_block[64 << 10];

int enrp_sha256_update_zeros(enrp_sha256 *h, uint64_t n)
{
	while (n) {
		size_t k = n < sizeof(zero_block) ? (size_t)n : sizeof(zero_block);
		if (!EVP_DigestUpdate(h->md, zero_block, k))
			return evp_error("SHA-256 update");
		n -= k;
	}
	return 0;
}

int enrp_sha256_copy(enrp_sha256 *dst, const enrp_sha256 *src)
{
	if (!EVP_MD_CTX_copy_ex(dst->md, src->md))
		return evp_error("SHA-256 copy");
	return 0;
}

int enrp_sha256_dup(const enrp_sha256 *src, enrp_sha256 **out)
{
	enrp_sha256 *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	if (!EVP_MD_up_ref(src->sha256)) {
		free(h);
		return evp_error("SHA-256 copy");
	}
	h->sha256 = src->sha256;
	h->md = EVP_MD_CTX_new();
	int rc = h->md ? enrp_sha256_copy(h, src) : -ENOMEM;
	if (rc) {
		enrp_sha256_free(h);
		return rc;
	}
	*out = h;
	return 0;
}

int enrp_sha256_final(enrp_sha256 *h, uint8_t out[ENRP_DIGEST_LEN])
{
	unsigned len;

	if (!EVP_DigestFinal_ex(h->md, out, &len))
		return evp_error("SHA-256 final");
	return 0;
}

void enrp_hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* ---- one-shot primitives for keys.c ---- */

int enrp_codec_random(void *p, size_t n)
{
	if (n > INT_MAX)
		return -EINVAL;
	if (RAND_bytes(p, (int)n) != 1) {
		OPENSSL_cleanse(p, n);
		return evp_error("RAND_bytes");
	}
	return 0;
}

int enrp_codec_aead_seal(const uint8_t key[ENRP_KEY_LEN], const void *aad, size_t aadlen,
                         const void *in, size_t n, uint8_t *out)
{
	uint8_t *nonce = out, *ct = out + ENRP_CODEC_NONCE_LEN, *tag = ct + n;
	struct aad a = { { aad, NULL }, { aadlen, 0 } };
	EVP_CIPHER_CTX *ctx;
	int rc;

	if (n > AEAD_MAX_LEN || aadlen > AEAD_MAX_LEN)
		return -EINVAL;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return evp_error("cipher context");
	rc = enrp_codec_random(nonce, ENRP_CODEC_NONCE_LEN);
	if (rc == 0)
		rc = gcm_seal(ctx, EVP_aes_256_gcm(), key, nonce, &a, in, ct, n, tag);
	if (rc)
		OPENSSL_cleanse(out, n + ENRP_CODEC_AEAD_OVERHEAD);
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int enrp_codec_aead_open(const uint8_t key[ENRP_KEY_LEN], const void *aad, size_t aadlen,
                         const uint8_t *in, size_t n, uint8_t *out)
{
	struct aad a = { { aad, NULL }, { aadlen, 0 } };
	EVP_CIPHER_CTX *ctx;
	size_t len;
	int rc;

	if (n < ENRP_CODEC_AEAD_OVERHEAD || n - ENRP_CODEC_AEAD_OVERHEAD > AEAD_MAX_LEN ||
	    aadlen > AEAD_MAX_LEN)
		return -EINVAL;
	len = n - ENRP_CODEC_AEAD_OVERHEAD;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return evp_error("cipher context");
	rc = gcm_open(ctx, EVP_aes_256_gcm(), key, in, &a, in + ENRP_CODEC_NONCE_LEN, out, len,
	              in + ENRP_CODEC_NONCE_LEN + len);
	if (rc)
		OPENSSL_cleanse(out, len);
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int enrp_codec_hmac(const uint8_t key[ENRP_KEY_LEN], const void *p, size_t n,
                    uint8_t out[ENRP_DIGEST_LEN])
{
	size_t len;

	if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, ENRP_KEY_LEN, p, n, out,
	               ENRP_DIGEST_LEN, &len))
		return evp_error("HMAC-SHA-256");
	return 0;
}
