/*
 * keys.c — the master key file, wrapped per-EIR data keys, escrow blobs.
 *
 * Key hierarchy.  master (file, 32 random bytes) wraps each EIR's data key
 * (32 random bytes, AES-256-GCM, AAD binding it to the EIR id); each data
 * key yields the EIR's enc and name subkeys by HKDF (codec.c).  The plain
 * data key exists only inside enrp_master_new_eir_key() and
 * enrp_master_unwrap_eir_key(), and is wiped before they return on every
 * path; callers hold only the derived subkeys.  Every AAD starts with a
 * distinct versioned label ("enrp eir key v1", "enrp escrow v1\0"), so a blob
 * made for one purpose never opens as another: an escrow label cannot be
 * chosen so that an escrow unwrap reveals an EIR key.
 *
 * Master key file.  Created complete or not at all: the 32 bytes are written
 * to a temporary file (O_CREAT|O_EXCL, mode 0400) in the target directory,
 * fsync'd, and hard-linked to the final name, which fails with EEXIST rather
 * than replacing an existing key (rename would replace it, and a replaced
 * master key loses every encrypted EIR).  Then the temporary name is removed
 * and the directory fsync'd.  A crash leaves at most a stray "PATH.tmp-*"
 * file, never a short key file at PATH, and a create that returned 0 survives
 * power loss.
 *
 * Loading checks the opened descriptor (fstat), not the path, so the checks
 * apply to the bytes read.  A key readable by others is refused, as ssh does
 * for private keys: the master key decrypts every EIR of the store.
 *
 * Security notes.  All comparisons of secrets use CRYPTO_memcmp; every
 * buffer that held key material is wiped with OPENSSL_cleanse on every path.
 * The master key is not mlock'ed: the daemon may be swapped, and an encrypted
 * swap is the remedy for that, as for every secret it holds.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <enrp/codec.h>
#include <enrp/enrp.h>
#include <enrp/keys.h>

static const char check_label[] = "enrp key check v1";
static const char eir_aad_label[] = "enrp eir key v1";
/* The NUL is part of the prefix: it ends the fixed part before the label. */
static const char escrow_aad_prefix[] = "enrp escrow v1";
#define ESCROW_PREFIX_LEN sizeof(escrow_aad_prefix) /* with its NUL */

struct enrp_master {
	uint8_t key[ENRP_MASTER_KEY_LEN];
};

/* ---- the key file ---- */

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int fsync_parent(const char *path)
{
	char *copy = strdup(path);
	int fd, rc = 0;

	if (!copy)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		goto out_free;
	}
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
out_free:
	free(copy);
	return rc;
}

int enrp_master_create(const char *path)
{
	uint8_t key[ENRP_MASTER_KEY_LEN], salt[8];
	char tmp[PATH_MAX], hex[2 * sizeof(salt) + 1];
	int fd, rc;

	/* A random suffix: two concurrent inits never share a temporary. */
	rc = enrp_codec_random(salt, sizeof(salt));
	if (rc)
		return rc;
	enrp_hex(salt, sizeof(salt), hex);
	if (snprintf(tmp, sizeof(tmp), "%s.tmp-%s", path, hex) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	rc = enrp_codec_random(key, sizeof(key));
	if (rc)
		return rc;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0400);
	if (fd < 0) {
		rc = -errno;
		goto out_wipe;
	}
	rc = write_all(fd, key, sizeof(key));
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc)
		goto out_unlink;
	if (link(tmp, path) < 0) {
		rc = -errno;
		goto out_unlink;
	}
	/* PATH is complete and is the key from now on, whatever follows. */
	if (unlink(tmp) < 0)
		enrp_log(ENRP_LOG_WARNING, "cannot remove '%s': %s; remove it by hand", tmp,
		         strerror(errno));
	rc = fsync_parent(path);
	goto out_wipe;

out_unlink:
	unlink(tmp);
out_wipe:
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

/* Why a key file with mode MODE is refused, or NULL.  Execute bits do not
 * expose the key and are not refused. */
static const char *mode_problem(mode_t mode)
{
	if (mode & S_IROTH)
		return "readable by others";
	if (mode & S_IWOTH)
		return "writable by others";
	if (mode & S_IRGRP)
		return "readable by its group";
	if (mode & S_IWGRP)
		return "writable by its group";
	return NULL;
}

int enrp_master_load(const char *path, enrp_master **out)
{
	uint8_t buf[ENRP_MASTER_KEY_LEN + 1];
	enrp_master *m;
	const char *why;
	struct stat sb;
	size_t got = 0;
	int fd, rc;

	/* O_NONBLOCK: a FIFO planted at PATH must not hang the mount. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		rc = -errno;
		enrp_log(ENRP_LOG_ERR, "cannot open key file '%s': %s", path, strerror(-rc));
		return rc;
	}
	if (fstat(fd, &sb) < 0) {
		rc = -errno;
		goto out_close;
	}
	if (!S_ISREG(sb.st_mode)) {
		enrp_log(ENRP_LOG_ERR, "key file '%s' is not a regular file", path);
		rc = -EINVAL;
		goto out_close;
	}
	if (sb.st_uid != geteuid() && sb.st_uid != 0) {
		if (geteuid() == 0)
			enrp_log(ENRP_LOG_ERR, "key file '%s' is owned by uid %u; chown it to root",
			         path, (unsigned)sb.st_uid);
		else
			enrp_log(ENRP_LOG_ERR,
			         "key file '%s' is owned by uid %u; chown it to uid %u or root", path,
			         (unsigned)sb.st_uid, (unsigned)geteuid());
		rc = -EPERM;
		goto out_close;
	}
	why = mode_problem(sb.st_mode);
	if (why) {
		enrp_log(ENRP_LOG_ERR, "key file '%s' is %s (mode %04o); chmod 0400 it", path, why,
		         (unsigned)(sb.st_mode & 07777));
		rc = -EPERM;
		goto out_close;
	}
	if (sb.st_size != ENRP_MASTER_KEY_LEN) {
		enrp_log(ENRP_LOG_ERR, "key file '%s' holds %lld bytes, not %d: not an enrp key file",
		         path, (long long)sb.st_size, ENRP_MASTER_KEY_LEN);
		rc = -EINVAL;
		goto out_close;
	}
	/* Read one byte more than a key: the file may change after fstat. */
	while (got < sizeof(buf)) {
		ssize_t r = pread(fd, buf + got, sizeof(buf) - got, (off_t)got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto out_wipe;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	if (got != ENRP_MASTER_KEY_LEN) {
		enrp_log(ENRP_LOG_ERR, "key file '%s' changed while it was read; try again", path);
		rc = -EINVAL;
		goto out_wipe;
	}
	m = malloc(sizeof(*m));
	if (!m) {
		rc = -ENOMEM;
		goto out_wipe;
	}
	memcpy(m->key, buf, sizeof(m->key));
	*out = m;
	rc = 0;
out_wipe:
	OPENSSL_cleanse(buf, sizeof(buf));
out_close:
	close(fd);
	return rc;
}

void enrp_master_free(enrp_master *m)
{
	if (!m)
		return;
	OPENSSL_cleanse(m, sizeof(*m));
	free(m);
}

/* ---- check value ---- */

int enrp_master_check_value(const enrp_master *m, uint8_t out[ENRP_KEY_CHECK_LEN])
{
	return enrp_codec_hmac(m->key, check_label, strlen(check_label), out);
}

int enrp_master_verify(const enrp_master *m, const uint8_t expected[ENRP_KEY_CHECK_LEN])
{
	uint8_t got[ENRP_KEY_CHECK_LEN];
	int rc;

	rc = enrp_master_check_value(m, got);
	if (rc == 0 && CRYPTO_memcmp(got, expected, sizeof(got)) != 0)
		rc = -EKEYREJECTED;
	OPENSSL_cleanse(got, sizeof(got));
	return rc;
}

/* ---- EIR data keys ---- */

#define EIR_AAD_LEN (sizeof(eir_aad_label) - 1 + 4)

static void eir_aad(uint8_t aad[EIR_AAD_LEN], uint32_t eir_id)
{
	size_t l = sizeof(eir_aad_label) - 1;

	memcpy(aad, eir_aad_label, l);
	aad[l] = (uint8_t)(eir_id >> 24);
	aad[l + 1] = (uint8_t)(eir_id >> 16);
	aad[l + 2] = (uint8_t)(eir_id >> 8);
	aad[l + 3] = (uint8_t)eir_id;
}

int enrp_master_new_eir_key(const enrp_master *m, uint32_t eir_id,
                            uint8_t wrapped[ENRP_WRAPPED_KEY_LEN], struct enrp_eir_key *out)
{
	uint8_t data_key[ENRP_KEY_LEN], aad[EIR_AAD_LEN];
	int rc;

	eir_aad(aad, eir_id);
	rc = enrp_codec_random(data_key, sizeof(data_key));
	if (rc)
		goto out_wipe;
	rc = enrp_codec_aead_seal(m->key, aad, sizeof(aad), data_key, sizeof(data_key), wrapped);
	if (rc)
		goto out_wipe;
	rc = enrp_eir_key_derive(data_key, out);
out_wipe:
	OPENSSL_cleanse(data_key, sizeof(data_key));
	if (rc) {
		OPENSSL_cleanse(wrapped, ENRP_WRAPPED_KEY_LEN);
		enrp_eir_key_wipe(out);
	}
	return rc;
}

int enrp_master_unwrap_eir_key(const enrp_master *m, uint32_t eir_id,
                               const uint8_t wrapped[ENRP_WRAPPED_KEY_LEN],
                               struct enrp_eir_key *out)
{
	uint8_t data_key[ENRP_KEY_LEN], aad[EIR_AAD_LEN];
	int rc;

	eir_aad(aad, eir_id);
	rc = enrp_codec_aead_open(m->key, aad, sizeof(aad), wrapped, ENRP_WRAPPED_KEY_LEN,
	                          data_key);
	if (rc == -EBADMSG) {
		enrp_log(ENRP_LOG_DEBUG, "wrapped key of EIR %u rejected", (unsigned)eir_id);
		rc = -EKEYREJECTED;
	}
	if (rc == 0)
		rc = enrp_eir_key_derive(data_key, out);
	OPENSSL_cleanse(data_key, sizeof(data_key));
	if (rc)
		enrp_eir_key_wipe(out);
	return rc;
}

/* ---- EIR data keys, version 2: master key and the EIR's share ---- */

static const char kek_label_v2[] = "enrp eir kek v2";
static const char eir_aad_label_v2[] = "enrp eir key v2";
#define KEK_IN_LEN (sizeof(kek_label_v2) - 1 + 4 + ENRP_EIR_SHARE_LEN)
#define EIR_AAD_V2_LEN (sizeof(eir_aad_label_v2) - 1 + 4)

static int kek_v2(const enrp_master *m, uint32_t eir_id, const uint8_t share[ENRP_EIR_SHARE_LEN],
                  uint8_t kek[ENRP_KEY_LEN], uint8_t aad[EIR_AAD_V2_LEN])
{
	uint8_t in[KEK_IN_LEN];
	size_t l = sizeof(kek_label_v2) - 1;
	memcpy(in, kek_label_v2, l);
	in[l] = (uint8_t)(eir_id >> 24);
	in[l + 1] = (uint8_t)(eir_id >> 16);
	in[l + 2] = (uint8_t)(eir_id >> 8);
	in[l + 3] = (uint8_t)eir_id;
	memcpy(in + l + 4, share, ENRP_EIR_SHARE_LEN);
	int rc = enrp_codec_hmac(m->key, in, sizeof(in), kek);
	OPENSSL_cleanse(in, sizeof(in));
	l = sizeof(eir_aad_label_v2) - 1;
	memcpy(aad, eir_aad_label_v2, l);
	aad[l] = (uint8_t)(eir_id >> 24);
	aad[l + 1] = (uint8_t)(eir_id >> 16);
	aad[l + 2] = (uint8_t)(eir_id >> 8);
	aad[l + 3] = (uint8_t)eir_id;
	return rc;
}

int enrp_master_new_eir_key_v2(const enrp_master *m, uint32_t eir_id,
                               const uint8_t share[ENRP_EIR_SHARE_LEN],
                               uint8_t wrapped[ENRP_WRAPPED_KEY_V2_LEN], struct enrp_eir_key *out)
{
	uint8_t data_key[ENRP_KEY_LEN], kek[ENRP_KEY_LEN], aad[EIR_AAD_V2_LEN];
	int rc = kek_v2(m, eir_id, share, kek, aad);
	if (rc == 0)
		rc = enrp_codec_random(data_key, sizeof(data_key));
	if (rc == 0) {
		wrapped[0] = ENRP_WRAPPED_KEY_V2;
		rc = enrp_codec_aead_seal(kek, aad, sizeof(aad), data_key, sizeof(data_key),
		                          wrapped + 1);
	}
	if (rc == 0)
		rc = enrp_eir_key_derive(data_key, out);
	OPENSSL_cleanse(data_key, sizeof(data_key));
	OPENSSL_cleanse(kek, sizeof(kek));
	if (rc) {
		OPENSSL_cleanse(wrapped, ENRP_WRAPPED_KEY_V2_LEN);
		enrp_eir_key_wipe(out);
	}
	return rc;
}

int enrp_master_unwrap_eir_key_v2(const enrp_master *m, uint32_t eir_id,
                                  const uint8_t share[ENRP_EIR_SHARE_LEN],
                                  const uint8_t wrapped[ENRP_WRAPPED_KEY_V2_LEN],
                                  struct enrp_eir_key *out)
{
	uint8_t data_key[ENRP_KEY_LEN], kek[ENRP_KEY_LEN], aad[EIR_AAD_V2_LEN];
	int rc = wrapped[0] == ENRP_WRAPPED_KEY_V2 ? kek_v2(m, eir_id, share, kek, aad) : -EKEYREJECTED;
	if (rc == 0)
		rc = enrp_codec_aead_open(kek, aad, sizeof(aad), wrapped + 1, ENRP_WRAPPED_KEY_LEN,
		                          data_key);
	if (rc == -EBADMSG) {
		enrp_log(ENRP_LOG_DEBUG, "wrapped key (v2) of EIR %u rejected", (unsigned)eir_id);
		rc = -EKEYREJECTED;
	}
	if (rc == 0)
		rc = enrp_eir_key_derive(data_key, out);
	OPENSSL_cleanse(data_key, sizeof(data_key));
	OPENSSL_cleanse(kek, sizeof(kek));
	if (rc)
		enrp_eir_key_wipe(out);
	return rc;
}

/* ---- escrow ---- */

/* "enrp escrow v1" NUL LABEL, in a new buffer of *LEN bytes. */
static uint8_t *escrow_aad(const char *label, size_t *len)
{
	size_t l = strlen(label);
	uint8_t *aad = malloc(ESCROW_PREFIX_LEN + l);

	if (!aad)
		return NULL;
	memcpy(aad, escrow_aad_prefix, ESCROW_PREFIX_LEN);
	memcpy(aad + ESCROW_PREFIX_LEN, label, l);
	*len = ESCROW_PREFIX_LEN + l;
	return aad;
}

int enrp_master_wrap(const enrp_master *m, const char *label, const void *in, size_t n,
                     uint8_t **out, size_t *outlen)
{
	uint8_t *aad, *buf;
	size_t aadlen;
	int rc;

	if (n > ENRP_ESCROW_MAX)
		return -EINVAL;
	aad = escrow_aad(label, &aadlen);
	if (!aad)
		return -ENOMEM;
	buf = malloc(n + ENRP_CODEC_AEAD_OVERHEAD);
	if (!buf) {
		rc = -ENOMEM;
		goto out_free_aad;
	}
	rc = enrp_codec_aead_seal(m->key, aad, aadlen, in, n, buf);
	if (rc) {
		free(buf); /* wiped by the seal on failure */
		goto out_free_aad;
	}
	*out = buf;
	*outlen = n + ENRP_CODEC_AEAD_OVERHEAD;
out_free_aad:
	free(aad);
	return rc;
}

int enrp_master_unwrap(const enrp_master *m, const char *label, const void *in, size_t n,
                       uint8_t **out, size_t *outlen)
{
	uint8_t *aad, *buf;
	size_t aadlen, len;
	int rc;

	if (n < ENRP_CODEC_AEAD_OVERHEAD || n - ENRP_CODEC_AEAD_OVERHEAD > ENRP_ESCROW_MAX)
		return -EINVAL;
	len = n - ENRP_CODEC_AEAD_OVERHEAD;
	aad = escrow_aad(label, &aadlen);
	if (!aad)
		return -ENOMEM;
	buf = malloc(len ? len : 1); /* malloc(0) may return NULL */
	if (!buf) {
		rc = -ENOMEM;
		goto out_free_aad;
	}
	rc = enrp_codec_aead_open(m->key, aad, aadlen, in, n, buf);
	if (rc) {
		if (rc == -EBADMSG) {
			enrp_log(ENRP_LOG_DEBUG, "escrow blob '%s' rejected", label);
			rc = -EKEYREJECTED;
		}
		free(buf); /* wiped by the open on failure */
		goto out_free_aad;
	}
	*out = buf;
	*outlen = len;
out_free_aad:
	free(aad);
	return rc;
}

void enrp_master_buf_free(void *p, size_t n)
{
	if (!p)
		return;
	OPENSSL_cleanse(p, n);
	free(p);
}
