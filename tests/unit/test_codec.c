/*
 * test_codec.c — chunk frames and names: round trips of every size class
 * with and without a key, tampering with every header byte and a sample of
 * payload bytes, wrong keys and digests, truncation, confidentiality of
 * encrypted frames, known SHA-256 vectors, streaming SHA-256, and (as
 * diagnostics) the throughput of zstd-3 and AES-256-GCM.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include <enrp/codec.h>

#include "../tap.h"

#define KiB 1024u
#define MiB (1024u * 1024u)

static const char sha_abc[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
static const char sha_empty[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/* ---- data ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	/* xorshift64*: deterministic, so a failure reproduces. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static void fill_random(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(rng() >> 56);
}

/* English-like text: compresses about 3:1, but few long repeats. */
static void fill_text(uint8_t *p, size_t n)
{
	static const char *words[] = {
		"the", "backup", "of", "record", "is", "kept", "for", "seven", "years", "and",
		"every", "chunk", "checked", "on", "read", "retention", "policy", "snapshot",
		"journal", "owner", "escrow", "sealed", "pending", "verified", "a", "to", "in",
		"encrypted", "store", "filesystem", "data", "integrity", "EIR", "class",
	};
	size_t i = 0;
	while (i < n) {
		const char *w = words[rng() % (sizeof(words) / sizeof(words[0]))];
		for (size_t j = 0; w[j] && i < n; j++)
			p[i++] = (uint8_t)w[j];
		if (i < n)
			p[i++] = rng() % 11 == 0 ? '\n' : ' ';
	}
}

static void hex_of(const uint8_t d[ENRP_DIGEST_LEN], char out[2 * ENRP_DIGEST_LEN + 1])
{
	enrp_hex(d, ENRP_DIGEST_LEN, out);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* ---- fixtures ---- */

static enrp_codec *codec;
static struct enrp_eir_key key_a, key_b;

static uint8_t *xmalloc(size_t n)
{
	uint8_t *p = malloc(n ? n : 1);
	if (!p)
		abort();
	return p;
}

/* Encodes PLAIN (N bytes) under KEY into a new buffer; NULL on failure. */
static uint8_t *encode(const struct enrp_eir_key *key, const uint8_t *plain, size_t n,
                       uint8_t digest[ENRP_DIGEST_LEN], size_t *flen)
{
	size_t cap = enrp_codec_bound(n);
	uint8_t *f = xmalloc(cap);
	if (enrp_codec_name(codec, key, plain, n, digest) != 0 ||
	    enrp_codec_encode(codec, key, digest, plain, n, f, cap, flen) != 0) {
		free(f);
		return NULL;
	}
	return f;
}

/* ---- tests ---- */

static void test_new(void)
{
	enrp_codec *c = NULL;
	is_int(enrp_codec_new(0, &c), -EINVAL, "level 0 refused");
	is_int(enrp_codec_new(20, &c), -EINVAL, "level 20 refused");
	is_int(enrp_codec_new(19, &c), 0, "level 19 accepted");
	enrp_codec_free(c);
	enrp_codec_free(NULL);
	ok(1, "enrp_codec_free(NULL) is a no-op");
}

static void test_names(void)
{
	uint8_t d[ENRP_DIGEST_LEN], d2[ENRP_DIGEST_LEN], d3[ENRP_DIGEST_LEN];
	char hex[2 * ENRP_DIGEST_LEN + 1];

	is_int(enrp_codec_name(codec, NULL, "abc", 3, d), 0, "name of 'abc'");
	hex_of(d, hex);
	is_str(hex, sha_abc, "SHA-256('abc') matches FIPS 180-2");
	is_int(enrp_codec_name(codec, NULL, "", 0, d), 0, "name of ''");
	hex_of(d, hex);
	is_str(hex, sha_empty, "SHA-256('') matches");

	/* Keyed names: HMAC-SHA-256 under the name subkey, checked against an
	 * independent EVP_Q_mac computation. */
	size_t len;
	is_int(enrp_codec_name(codec, &key_a, "abc", 3, d), 0, "keyed name of 'abc'");
	ok(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key_a.name, ENRP_KEY_LEN, (const uint8_t *)"abc", 3, d2,
	             sizeof(d2), &len) != NULL, "reference HMAC");
	ok(memcmp(d, d2, sizeof(d)) == 0, "keyed name is HMAC-SHA-256(key->name, plain)");
	enrp_codec_name(codec, NULL, "abc", 3, d2);
	ok(memcmp(d, d2, sizeof(d)) != 0, "keyed name differs from SHA-256");
	enrp_codec_name(codec, &key_b, "abc", 3, d3);
	ok(memcmp(d, d3, sizeof(d)) != 0, "keyed names differ between EIR keys");
	enrp_codec_name(codec, &key_a, "abc", 3, d3);
	ok(memcmp(d, d3, sizeof(d)) == 0, "keyed name is stable (context re-keyed after use)");

	/* The one-shot HMAC agrees with the codec's. */
	is_int(enrp_codec_hmac(key_a.name, "abc", 3, d3), 0, "one-shot HMAC");
	ok(memcmp(d, d3, sizeof(d)) == 0, "one-shot HMAC equals the keyed name");

	/* Derivation: deterministic, and enc/name independent. */
	uint8_t dk[ENRP_KEY_LEN];
	struct enrp_eir_key k1, k2;
	memset(dk, 7, sizeof(dk));
	is_int(enrp_eir_key_derive(dk, &k1), 0, "derive");
	enrp_eir_key_derive(dk, &k2);
	ok(memcmp(&k1, &k2, sizeof(k1)) == 0, "derivation is deterministic");
	ok(memcmp(k1.enc, k1.name, ENRP_KEY_LEN) != 0, "enc and name subkeys differ");
	ok(memcmp(k1.enc, dk, ENRP_KEY_LEN) != 0 && memcmp(k1.name, dk, ENRP_KEY_LEN) != 0,
	   "subkeys differ from the data key");
	enrp_eir_key_wipe(&k1);
	ok(all_zero((uint8_t *)&k1, sizeof(k1)), "wipe zeroes the key");
	enrp_eir_key_wipe(NULL);
	enrp_eir_key_wipe(&k2);
}

static void test_sha256_stream(void)
{
	enrp_sha256 *h = NULL;
	uint8_t d[ENRP_DIGEST_LEN], want[ENRP_DIGEST_LEN];
	char hex[2 * ENRP_DIGEST_LEN + 1];
	size_t n = 3 * MiB + 17;
	uint8_t *buf = xmalloc(n);
	fill_random(buf, n);

	is_int(enrp_sha256_new(&h), 0, "sha256_new");
	enrp_sha256_update(h, "a", 1);
	enrp_sha256_update(h, "bc", 2);
	is_int(enrp_sha256_final(h, d), 0, "sha256_final");
	hex_of(d, hex);
	is_str(hex, sha_abc, "streamed 'a'+'bc' matches SHA-256('abc')");

	is_int(enrp_sha256_reset(h), 0, "sha256_reset");
	for (size_t off = 0; off < n;) {
		size_t step = (size_t)(rng() % (300 * KiB)) + 1;
		if (step > n - off)
			step = n - off;
		enrp_sha256_update(h, buf + off, step);
		off += step;
	}
	enrp_sha256_final(h, d);
	enrp_codec_name(codec, NULL, buf, n, want);
	ok(memcmp(d, want, sizeof(d)) == 0, "streamed 3 MiB in odd pieces equals one-shot SHA-256");

	enrp_sha256_reset(h);
	enrp_sha256_final(h, d);
	hex_of(d, hex);
	is_str(hex, sha_empty, "reset then final gives SHA-256('')");
	enrp_sha256_free(h);
	enrp_sha256_free(NULL);

	char small[7];
	enrp_hex((const uint8_t *)"\x00\xab\xff", 3, small);
	is_str(small, "00abff", "enrp_hex");
	free(buf);
}

/* One round trip; returns the frame size (0 on failure, after a report). */
static size_t roundtrip(const struct enrp_eir_key *key, const uint8_t *plain, size_t n,
                        const char *what)
{
	uint8_t digest[ENRP_DIGEST_LEN];
	size_t flen = 0, plen = 0;
	uint8_t *f = encode(key, plain, n, digest, &flen);
	uint8_t *back = xmalloc(n);
	int rc = f ? enrp_codec_decode(codec, key, digest, f, flen, back, n, &plen) : -1;
	bool good = f && rc == 0 && plen == n && memcmp(back, plain, n) == 0 &&
	            flen <= enrp_codec_bound(n);
	ok(good, "round trip %s, %zu bytes, %s -> %zu-byte frame", what, n,
	   key ? "encrypted" : "plain", flen);
	if (!good)
		diag("rc %d plen %zu", rc, plen);
	free(back);
	free(f);
	return good ? flen : 0;
}

static void test_roundtrips(void)
{
	static const size_t sizes[] = { 0, 1, 100, 64 * KiB, 256 * KiB + 3, 2 * MiB };
	size_t max = 2 * MiB;
	uint8_t *text = xmalloc(max), *rnd = xmalloc(max);
	fill_text(text, max);
	fill_random(rnd, max);

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		size_t ft = roundtrip(NULL, text, n, "text");
		roundtrip(&key_a, text, n, "text");
		size_t fr = roundtrip(NULL, rnd, n, "random");
		roundtrip(&key_a, rnd, n, "random");
		if (n >= 64 * KiB) {
			ok(ft < n / 2, "text of %zu bytes compresses (%zu)", n, ft);
			ok(fr > n, "random data of %zu bytes does not (%zu)", n, fr);
		}
	}

	/* The maximum chunk, and one byte more. */
	size_t big = ENRP_CODEC_MAX_PLAIN;
	uint8_t *huge = calloc(1, big);
	if (!huge)
		abort();
	roundtrip(NULL, huge, big, "zeros (max chunk)");
	is_int(enrp_codec_bound(big + 1), 0, "bound of max+1 is 0");
	uint8_t tiny[64];
	size_t flen;
	is_int(enrp_codec_encode(codec, NULL, NULL, huge, big + 1, tiny, SIZE_MAX, &flen), -EINVAL,
	       "encode of max+1 bytes: -EINVAL");
	free(huge);

	/* Capacity must be at least the bound, even when the frame would fit. */
	uint8_t d[ENRP_DIGEST_LEN];
	uint8_t *f = xmalloc(enrp_codec_bound(100));
	is_int(enrp_codec_encode(codec, NULL, NULL, text, 100, f, enrp_codec_bound(100) - 1, &flen),
	       -EINVAL, "encode with cap < bound: -EINVAL");
	free(f);

	/* Decoding into a buffer that is too small. */
	size_t plen;
	uint8_t back[99];
	f = encode(&key_a, text, 100, d, &flen);
	memset(back, 0, sizeof(back));
	is_int(enrp_codec_decode(codec, &key_a, d, f, flen, back, sizeof(back), &plen), -EINVAL,
	       "decode with cap < plain length: -EINVAL");
	ok(all_zero(back, sizeof(back)), "nothing written on -EINVAL");
	free(f);
	f = encode(NULL, text, 100, d, &flen);
	is_int(enrp_codec_decode(codec, NULL, d, f, flen, back, sizeof(back), &plen), -EINVAL,
	       "decode (plain frame) with cap < plain length: -EINVAL");
	free(f);

	free(text);
	free(rnd);
}

static void test_header_layout(void)
{
	uint8_t text[1000], d[ENRP_DIGEST_LEN];
	size_t flen;
	fill_text(text, sizeof(text));
	uint8_t *f = encode(&key_a, text, sizeof(text), d, &flen);
	ok(f && memcmp(f, "ENRC", 4) == 0 && f[4] == 1 && f[5] == ENRP_CODEC_ENCRYPTED && f[6] == 0 &&
	   f[7] == 0, "encrypted header: magic, version 1, flags, reserved");
	ok(f && f[8] == 0 && f[9] == 0 && f[10] == 0x03 && f[11] == 0xe8,
	   "plain length is big-endian 1000");
	ok(f && (size_t)(f[12] << 24 | f[13] << 16 | f[14] << 8 | f[15]) == flen - 44,
	   "payload length is frame size - 44");
	free(f);
	f = encode(NULL, text, sizeof(text), d, &flen);
	ok(f && f[5] == 0 && (size_t)(f[12] << 24 | f[13] << 16 | f[14] << 8 | f[15]) == flen - 16,
	   "plain header: no flags, payload length is frame size - 16");
	free(f);
}

/* Flips bits of FRAME one at a time: every bit of the first HDRLEN bytes,
 * then one bit of each byte at the offsets in OFFS; checks that each decode
 * fails with -EBADMSG or -EIO and leaves no plaintext in the output. */
static void tamper(const struct enrp_eir_key *key, const uint8_t *digest, uint8_t *frame,
                   size_t flen, size_t n, size_t hdrlen, const size_t *offs, size_t noffs,
                   const char *what)
{
	uint8_t *back = xmalloc(n);
	int successes = 0, bad_errno = 0, leaked = 0, badmsg = 0, eio = 0;
	size_t flips = 8 * hdrlen + noffs;
	for (size_t i = 0; i < flips; i++) {
		size_t off = i < 8 * hdrlen ? i / 8 : offs[i - 8 * hdrlen];
		uint8_t mask = (uint8_t)(1u << (i % 8));
		size_t plen = 0;
		frame[off] ^= mask;
		memset(back, 0, n);
		int rc = enrp_codec_decode(codec, key, digest, frame, flen, back, n, &plen);
		frame[off] ^= mask;
		if (rc == 0) {
			successes++;
			diag("%s: flip of byte %zu (mask %#x) decoded", what, off, mask);
		} else if (rc == -EBADMSG) {
			badmsg++;
		} else if (rc == -EIO) {
			eio++;
		} else {
			bad_errno++;
			diag("%s: flip of byte %zu gave %d", what, off, rc);
		}
		if (rc && !all_zero(back, n))
			leaked++;
	}
	ok(successes == 0 && bad_errno == 0,
	   "%s: %zu single-bit flips all fail (%d -EBADMSG, %d -EIO)", what, flips, badmsg, eio);
	is_int(leaked, 0, "%s: no failed decode leaves bytes in the output", what);
	free(back);
}

static void test_tampering(void)
{
	size_t n = 64 * KiB, flen, offs[400], noffs;
	uint8_t *text = xmalloc(n), d[ENRP_DIGEST_LEN];
	fill_text(text, n);

	/* Encrypted: every header bit (fixed part, nonce, tag) and a spread of
	 * payload bytes including the first and last. */
	uint8_t *f = encode(&key_a, text, n, d, &flen);
	noffs = 0;
	for (size_t i = 44; i < flen && noffs < 300; i += (flen - 44) / 250 + 1)
		offs[noffs++] = i;
	offs[noffs++] = flen - 1;
	tamper(&key_a, d, f, flen, n, 44, offs, noffs, "encrypted");

	/* Wrong key, other digest, missing key. */
	uint8_t *back = xmalloc(n), other[ENRP_DIGEST_LEN];
	size_t plen;
	is_int(enrp_codec_decode(codec, &key_b, d, f, flen, back, n, &plen), -EBADMSG,
	       "wrong key: -EBADMSG");
	memcpy(other, d, sizeof(other));
	other[31] ^= 1;
	is_int(enrp_codec_decode(codec, &key_a, other, f, flen, back, n, &plen), -EBADMSG,
	       "right key, other chunk's digest: -EBADMSG");
	is_int(enrp_codec_decode(codec, NULL, d, f, flen, back, n, &plen), -EIO,
	       "encrypted frame without a key: -EIO");

	/* Truncated or overlong encrypted frames. */
	static const size_t cuts[] = { 0, 1, 15, 16, 43, 44, 45 };
	int wrong = 0;
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
		if (enrp_codec_decode(codec, &key_a, d, f, cuts[i], back, n, &plen) != -EIO)
			wrong++;
	if (enrp_codec_decode(codec, &key_a, d, f, flen - 1, back, n, &plen) != -EIO)
		wrong++;
	is_int(wrong, 0, "truncated encrypted frames: -EIO");
	/* A frame cut short with its header rewritten to match is caught by the
	 * tag, which covers the header. */
	uint32_t pl = (uint32_t)(flen - 44 - 10);
	f[12] = (uint8_t)(pl >> 24), f[13] = (uint8_t)(pl >> 16), f[14] = (uint8_t)(pl >> 8),
	f[15] = (uint8_t)pl;
	is_int(enrp_codec_decode(codec, &key_a, d, f, flen - 10, back, n, &plen), -EBADMSG,
	       "truncated frame with a consistent header: -EBADMSG");
	free(f);

	/* Plain frames. */
	f = encode(NULL, text, n, d, &flen);
	noffs = 0;
	for (size_t i = 16; i < flen && noffs < 300; i += (flen - 16) / 250 + 1)
		offs[noffs++] = i;
	offs[noffs++] = flen - 1;
	tamper(NULL, d, f, flen, n, 16, offs, noffs, "plain");

	is_int(enrp_codec_decode(codec, &key_a, d, f, flen, back, n, &plen), -EIO,
	       "plain frame with a key: -EIO");
	/* A corrupted byte in the middle of the zstd frame: its checksum. */
	f[16 + (flen - 16) / 2] ^= 0x10;
	memset(back, 0, n);
	is_int(enrp_codec_decode(codec, NULL, d, f, flen, back, n, &plen), -EBADMSG,
	       "plain frame with a corrupted zstd byte: -EBADMSG");
	ok(all_zero(back, n), "and the partly decoded bytes are wiped");
	f[16 + (flen - 16) / 2] ^= 0x10;
	f[flen - 1] ^= 0x01; /* the checksum itself */
	is_int(enrp_codec_decode(codec, NULL, d, f, flen, back, n, &plen), -EBADMSG,
	       "plain frame with a corrupted checksum: -EBADMSG");
	f[flen - 1] ^= 0x01;
	wrong = 0;
	for (size_t i = 0; i < 6; i++)
		if (enrp_codec_decode(codec, NULL, d, f, cuts[i], back, n, &plen) != -EIO)
			wrong++;
	if (enrp_codec_decode(codec, NULL, d, f, flen - 1, back, n, &plen) != -EIO)
		wrong++;
	is_int(wrong, 0, "truncated plain frames: -EIO");
	pl = (uint32_t)(flen - 16 - 10);
	f[12] = (uint8_t)(pl >> 24), f[13] = (uint8_t)(pl >> 16), f[14] = (uint8_t)(pl >> 8),
	f[15] = (uint8_t)pl;
	is_int(enrp_codec_decode(codec, NULL, d, f, flen - 10, back, n, &plen), -EBADMSG,
	       "truncated plain frame with a consistent header: -EBADMSG");
	free(f);

	/* Two concatenated zstd frames in one payload are refused: zstd alone
	 * would decode both. */
	uint8_t *f1 = encode(NULL, text, 100, d, &flen);
	size_t z = flen - 16;
	f = xmalloc(16 + 2 * z);
	memcpy(f, f1, flen);
	memcpy(f + flen, f1 + 16, z);
	f[8] = 0, f[9] = 0, f[10] = 0, f[11] = 200;
	pl = (uint32_t)(2 * z);
	f[12] = (uint8_t)(pl >> 24), f[13] = (uint8_t)(pl >> 16), f[14] = (uint8_t)(pl >> 8),
	f[15] = (uint8_t)pl;
	is_int(enrp_codec_decode(codec, NULL, d, f, 16 + 2 * z, back, n, &plen), -EBADMSG,
	       "payload of two zstd frames: -EBADMSG");
	free(f);
	free(f1);

	free(back);
	free(text);
}

static int cmp16(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

/* Whether any 16-byte window of PLAIN occurs anywhere in FRAME. */
static bool shares_window(const uint8_t *plain, size_t n, const uint8_t *frame, size_t flen)
{
	if (n < 16 || flen < 16)
		return false;
	size_t nw = flen - 15;
	uint8_t *w = xmalloc(nw * 16);
	for (size_t i = 0; i < nw; i++)
		memcpy(w + 16 * i, frame + i, 16);
	qsort(w, nw, 16, cmp16);
	bool found = false;
	for (size_t i = 0; i + 16 <= n && !found; i++)
		found = bsearch(plain + i, w, nw, 16, cmp16) != NULL;
	free(w);
	return found;
}

static void test_confidentiality(void)
{
	size_t n = 64 * KiB, flen1, flen2;
	uint8_t *text = xmalloc(n), *rnd = xmalloc(n), d1[ENRP_DIGEST_LEN], d2[ENRP_DIGEST_LEN];
	fill_text(text, n);
	fill_random(rnd, n);

	/* Control: a stored (incompressible) plain frame does contain windows. */
	uint8_t *f1 = encode(NULL, rnd, n, d1, &flen1);
	ok(shares_window(rnd, n, f1, flen1), "control: a plain frame of random data holds it");
	free(f1);

	f1 = encode(&key_a, text, n, d1, &flen1);
	ok(!shares_window(text, n, f1, flen1), "an encrypted text frame holds no 16-byte window "
	   "of its plaintext");
	free(f1);
	f1 = encode(&key_a, rnd, n, d1, &flen1);
	ok(!shares_window(rnd, n, f1, flen1), "an encrypted random frame holds none either");
	free(f1);

	f1 = encode(&key_a, text, n, d1, &flen1);
	uint8_t *f2 = encode(&key_a, text, n, d2, &flen2);
	ok(memcmp(d1, d2, sizeof(d1)) == 0, "same plaintext, same name");
	ok(flen1 == flen2 && memcmp(f1, f2, flen1) != 0, "same plaintext, different frames");
	ok(memcmp(f1 + 16, f2 + 16, 12) != 0, "nonces differ");
	uint8_t *back = xmalloc(n);
	size_t plen;
	ok(enrp_codec_decode(codec, &key_a, d1, f2, flen2, back, n, &plen) == 0 && plen == n &&
	   memcmp(back, text, n) == 0, "both decode");
	free(back);
	free(f1);
	free(f2);
	free(text);
	free(rnd);
}

static void test_aead(void)
{
	uint8_t k[ENRP_KEY_LEN], msg[40], box[40 + ENRP_CODEC_AEAD_OVERHEAD], out[40];
	memset(k, 3, sizeof(k));
	fill_text(msg, sizeof(msg));
	is_int(enrp_codec_aead_seal(k, "ad", 2, msg, sizeof(msg), box), 0, "aead seal");
	is_int(enrp_codec_aead_open(k, "ad", 2, box, sizeof(box), out), 0, "aead open");
	ok(memcmp(out, msg, sizeof(msg)) == 0, "aead round trip");
	is_int(enrp_codec_aead_open(k, "ae", 2, box, sizeof(box), out), -EBADMSG,
	       "aead open with other AAD: -EBADMSG");
	ok(all_zero(out, sizeof(out)), "output wiped on tag mismatch");
	is_int(enrp_codec_aead_open(k, "ad", 2, box, ENRP_CODEC_AEAD_OVERHEAD - 1, out), -EINVAL,
	       "aead open of a too short box: -EINVAL");
	is_int(enrp_codec_aead_seal(k, NULL, 0, NULL, 0, box), 0, "aead seal of nothing");
	is_int(enrp_codec_aead_open(k, NULL, 0, box, ENRP_CODEC_AEAD_OVERHEAD, out), 0,
	       "aead open of nothing");
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_throughput(void)
{
	size_t n = 256 * KiB, cap = enrp_codec_bound(n), flen, plen;
	uint8_t *text = xmalloc(n), *f = xmalloc(cap), *box = xmalloc(n + 28), *back = xmalloc(n);
	uint8_t d[ENRP_DIGEST_LEN];
	enrp_codec *c3 = NULL;
	fill_text(text, n);
	is_int(enrp_codec_new(3, &c3), 0, "zstd-3 codec for the benchmark");

	struct {
		const char *what;
		int kind;
	} runs[] = { { "zstd-3 compress (plain encode)", 0 }, { "zstd decompress + verify", 1 },
		     { "AES-256-GCM seal", 2 }, { "HMAC-SHA-256 name", 3 },
		     { "encrypted encode (zstd-3 + GCM)", 4 } };
	enrp_codec_encode(c3, NULL, NULL, text, n, f, cap, &flen);
	size_t plain_flen = flen;
	uint8_t *pf = xmalloc(flen);
	memcpy(pf, f, flen);
	for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++) {
		double t0 = now_s(), t;
		long iters = 0;
		int rc = 0;
		do {
			switch (runs[r].kind) {
			case 0:
				rc = enrp_codec_encode(c3, NULL, NULL, text, n, f, cap, &flen);
				break;
			case 1:
				rc = enrp_codec_decode(c3, NULL, NULL, pf, plain_flen, back, n, &plen);
				break;
			case 2:
				rc = enrp_codec_aead_seal(key_a.enc, NULL, 0, text, n, box);
				break;
			case 3:
				rc = enrp_codec_name(c3, &key_a, text, n, d);
				break;
			case 4:
				rc = enrp_codec_encode(c3, &key_a, d, text, n, f, cap, &flen);
				break;
			}
			iters++;
			t = now_s() - t0;
		} while (rc == 0 && t < 0.25);
		diag("%-34s %8.1f MB/s (256 KiB text chunk, %ld runs)", runs[r].what,
		     (double)n * (double)iters / t / 1e6, iters);
	}
	diag("zstd-3 ratio on this text: %.2f", (double)n / (double)plain_flen);
	enrp_codec_free(c3);
	free(pf);
	free(text);
	free(f);
	free(box);
	free(back);
}

int main(void)
{
	uint8_t dk[ENRP_KEY_LEN];
	if (enrp_codec_new(3, &codec) != 0)
		return 1;
	memset(dk, 0xa5, sizeof(dk));
	enrp_eir_key_derive(dk, &key_a);
	memset(dk, 0x5a, sizeof(dk));
	enrp_eir_key_derive(dk, &key_b);

	test_new();
	test_names();
	test_sha256_stream();
	test_roundtrips();
	test_header_layout();
	test_tampering();
	test_confidentiality();
	test_aead();
	test_throughput();

	enrp_eir_key_wipe(&key_a);
	enrp_eir_key_wipe(&key_b);
	enrp_codec_free(codec);
	return done_testing();
}
