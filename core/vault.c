/*
 * vault.c — the glue between a store and its keys (DESIGN §9).
 *
 * DBI_META "encryption" = version | check value (32) | key file path, set
 * once at init on an empty store.  DBI_KEYS holds each EIR's data key
 * wrapped (keys.c), created the first time the EIR needs one: 60 bytes
 * (version 1, the master key alone: keys made before key shares) or 61
 * (version 2, master key and the EIR's share).  Shares live in
 * "<recorded key file>.eirkeys/<id>", outside the store: created durably
 * before the transaction that stores the wrapped key commits, looked for
 * there and then beside the key file actually loaded (-o keyfile with a
 * moved key directory), destroyed by destroy.c.  A destroyed EIR never gets
 * a key again (-EKEYREVOKED).  Unwrapped keys are cached for the life of the vault and wiped when
 * it closes.  Lock order: v->lock, then the store's.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <enrp/enrp.h>
#include <enrp/keys.h>
#include <enrp/vault.h>

#include "eir_int.h"
#include "record_int.h"
#include "store_int.h"
#include "vault_int.h"

#define ENC_KEY "encryption"

struct cached_key {
	uint32_t eir_id;
	struct enrp_eir_key key;
};

struct enrp_vault {
	enrp_store *st;
	enrp_master *master;        /* NULL: store not encrypted */
	char keyfile[PATH_MAX];     /* the key file loaded */
	char recorded[PATH_MAX];    /* the key file init recorded: the shares live beside
	                               it, wherever -o keyfile found the master key */
	pthread_mutex_t lock;
	/* protected by lock; each key is its own allocation because callers
	 * hold its address, while this index of them may grow */
	struct cached_key **keys;
	size_t nkeys, cap;
};

struct enc_info {
	bool encrypted;
	uint8_t check[32];
	char path[PATH_MAX];
};

static int enc_get(enrp_txn *t, struct enc_info *info)
{
	MDB_val v;
	memset(info, 0, sizeof(*info));
	int rc = txn_get(t, DBI_META, ENC_KEY, strlen(ENC_KEY), &v);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	struct rec_in in;
	rec_in_init(&in, v.mv_data, v.mv_size);
	if (rec_get_u8(&in) != REC_VERSION)
		return -EIO;
	rec_get_bytes(&in, info->check, sizeof(info->check));
	rec_get_str(&in, info->path, sizeof(info->path));
	rc = rec_in_end(&in);
	info->encrypted = rc == 0;
	return rc;
}

static int enc_get_fn(enrp_txn *t, void *arg)
{
	return enc_get(t, arg);
}

struct init_args {
	const uint8_t *check;
	const char *path;
};

static int init_fn(enrp_txn *t, void *arg)
{
	struct init_args *a = arg;
	struct enc_info cur;
	MDB_val v;
	int rc = enc_get(t, &cur);
	if (rc)
		return rc;
	if (cur.encrypted)
		return -EEXIST;
	/* Keys for existing EIRs would be missing, and their chunks are plain. */
	rc = txn_get(t, DBI_META, "next_eir", 8, &v);
	if (rc == 0)
		return -EEXIST;
	if (rc != -ENOENT)
		return rc;
	struct rec_out o;
	rec_out_init(&o);
	rec_put_u8(&o, REC_VERSION);
	rec_put_bytes(&o, a->check, 32);
	rec_put_str(&o, a->path);
	rc = o.err ? o.err : txn_put(t, DBI_META, ENC_KEY, strlen(ENC_KEY), o.buf, o.len, 0);
	rec_out_release(&o);
	return rc;
}

int enrp_vault_init(enrp_store *st, const char *keyfile)
{
	char abs[PATH_MAX], store_abs[PATH_MAX];
	enrp_master *m = NULL;
	uint8_t check[32];
	int rc = enrp_master_create(keyfile);
	if (rc && rc != -EEXIST)
		return rc;
	if (!realpath(keyfile, abs) || !realpath(enrp_store_path(st), store_abs))
		return -errno;
	size_t sl = strlen(store_abs);
	if (strncmp(abs, store_abs, sl) == 0 && (abs[sl] == '/' || abs[sl] == '\0')) {
		enrp_log(ENRP_LOG_ERR, "key file '%s' is inside the store; keep it apart", abs);
		return -EINVAL;
	}
	rc = enrp_master_load(abs, &m);
	if (rc == 0)
		rc = enrp_master_check_value(m, check);
	enrp_master_free(m);
	if (rc)
		return rc;
	struct init_args a = { check, abs };
	return enrp_store_write(st, init_fn, &a);
}

int enrp_vault_info(enrp_store *st, bool *encrypted, char *path, size_t pathsz)
{
	struct enc_info info;
	int rc = enrp_store_read(st, enc_get_fn, &info);
	if (rc)
		return rc;
	*encrypted = info.encrypted;
	if (path && pathsz)
		snprintf(path, pathsz, "%s", info.path);
	return 0;
}

int enrp_vault_open(enrp_store *st, const char *keyfile, enrp_vault **out)
{
	struct enc_info info;
	int rc = enrp_store_read(st, enc_get_fn, &info);
	if (rc)
		return rc;
	enrp_vault *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->st = st;
	pthread_mutex_init(&v->lock, NULL);
	if (info.encrypted) {
		const char *path = keyfile ? keyfile : info.path;
		if (!path[0]) {
			rc = -ENOKEY;
			goto out_free;
		}
		snprintf(v->keyfile, sizeof(v->keyfile), "%s", path);
		snprintf(v->recorded, sizeof(v->recorded), "%s", info.path[0] ? info.path : path);
		rc = enrp_master_load(path, &v->master);
		if (rc == 0)
			rc = enrp_master_verify(v->master, info.check);
		if (rc == -EKEYREJECTED)
			enrp_log(ENRP_LOG_ERR, "key file '%s' does not hold this store's key", path);
		if (rc)
			goto out_free;
	}
	*out = v;
	return 0;
out_free:
	enrp_vault_close(v);
	return rc;
}

void enrp_vault_close(enrp_vault *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->nkeys; i++) {
		enrp_eir_key_wipe(&v->keys[i]->key);
		free(v->keys[i]);
	}
	free(v->keys);
	enrp_master_free(v->master);
	pthread_mutex_destroy(&v->lock);
	free(v);
}

bool enrp_vault_encrypted(const enrp_vault *v)
{
	return v->master != NULL;
}

/* ---- key shares (keys.h "Key shares") ---- */

int vault_share_path(const char *keyfile, uint32_t eir_id, char *buf, size_t size, bool dir)
{
	int n = dir ? snprintf(buf, size, "%s.eirkeys", keyfile)
	            : snprintf(buf, size, "%s.eirkeys/%u", keyfile, (unsigned)eir_id);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

static int share_read(const char *path, uint8_t share[ENRP_EIR_SHARE_LEN])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	ssize_t r = pread(fd, share, ENRP_EIR_SHARE_LEN, 0);
	int rc = r == ENRP_EIR_SHARE_LEN ? 0 : r < 0 ? -errno : -EIO;
	close(fd);
	if (rc == -EIO)
		enrp_log(ENRP_LOG_ERR, "key share '%s' is damaged (not %d bytes)", path,
		         ENRP_EIR_SHARE_LEN);
	return rc;
}

int vault_share_get(const char *keyfile, uint32_t eir_id, bool create,
                    uint8_t share[ENRP_EIR_SHARE_LEN])
{
	char dir[PATH_MAX], path[PATH_MAX], tmp[PATH_MAX + 32];
	int rc = vault_share_path(keyfile, eir_id, path, sizeof(path), false);
	if (rc)
		return rc;
	rc = share_read(path, share);
	if (rc != -ENOENT || !create)
		return rc;
	vault_share_path(keyfile, eir_id, dir, sizeof(dir), true);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	/* Complete or absent, never short: written aside, linked into place. */
	snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0400);
	if (fd < 0)
		return -errno;
	rc = enrp_codec_random(share, ENRP_EIR_SHARE_LEN);
	if (rc == 0 && pwrite(fd, share, ENRP_EIR_SHARE_LEN, 0) != ENRP_EIR_SHARE_LEN)
		rc = -EIO;
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	close(fd);
	if (rc == 0 && link(tmp, path) < 0)
		rc = errno == EEXIST ? share_read(path, share) : -errno; /* another process won */
	unlink(tmp);
	if (rc == 0)
		rc = fsync_dir(dir);
	if (rc)
		OPENSSL_cleanse(share, ENRP_EIR_SHARE_LEN);
	return rc;
}

int vault_share_destroy(const char *keyfile, uint32_t eir_id, bool *destroyed)
{
	char dir[PATH_MAX], path[PATH_MAX];
	uint8_t noise[ENRP_EIR_SHARE_LEN];
	*destroyed = false;
	int rc = vault_share_path(keyfile, eir_id, path, sizeof(path), false);
	if (rc)
		return rc;
	vault_share_path(keyfile, eir_id, dir, sizeof(dir), true);
	/* Overwritten in place before the unlink: on a filesystem that writes
	 * in place (ext4, xfs) the old bytes go with it. */
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	rc = enrp_codec_random(noise, sizeof(noise));
	if (rc == 0 && pwrite(fd, noise, sizeof(noise), 0) != (ssize_t)sizeof(noise))
		rc = -EIO;
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	close(fd);
	if (rc == 0 && unlink(path) < 0 && errno != ENOENT)
		rc = -errno;
	if (rc == 0)
		rc = fsync_dir(dir);
	*destroyed = rc == 0;
	return rc;
}

struct key_args {
	enrp_vault *v;
	uint32_t eir_id;
	struct enrp_eir_key key;
};

static int key_fn(enrp_txn *t, void *arg)
{
	struct key_args *a = arg;
	uint8_t k[KEY_EIR_LEN], wrapped[ENRP_WRAPPED_KEY_V2_LEN], share[ENRP_EIR_SHARE_LEN];
	MDB_val val;
	be32_put(k, a->eir_id);
	int rc = txn_get(t, DBI_KEYS, k, sizeof(k), &val);
	if (rc == 0) {
		if (val.mv_size == ENRP_WRAPPED_KEY_LEN) /* version 1: the master key alone */
			return enrp_master_unwrap_eir_key(a->v->master, a->eir_id, val.mv_data,
			                                  &a->key);
		if (val.mv_size != ENRP_WRAPPED_KEY_V2_LEN)
			return -EIO;
		memcpy(wrapped, val.mv_data, sizeof(wrapped));
		rc = vault_share_get(a->v->recorded, a->eir_id, false, share);
		/* The key directory moved with a key file given by -o keyfile. */
		if (rc == -ENOENT && strcmp(a->v->recorded, a->v->keyfile))
			rc = vault_share_get(a->v->keyfile, a->eir_id, false, share);
		if (rc == -ENOENT) {
			enrp_log(ENRP_LOG_ERR, "the key share of EIR %u is missing beside key file "
			         "'%s': its data cannot be decrypted", (unsigned)a->eir_id,
			         a->v->recorded);
			rc = -ENOKEY;
		}
		if (rc == 0)
			rc = enrp_master_unwrap_eir_key_v2(a->v->master, a->eir_id, share, wrapped,
			                                   &a->key);
		OPENSSL_cleanse(share, sizeof(share));
		return rc;
	}
	if (rc != -ENOENT)
		return rc;
	/* A destroyed EIR's key was shredded (destroy.c): never make another,
	 * whatever still asks for one. */
	struct enrp_eir e;
	rc = eir_get_txn(t, a->eir_id, &e);
	if (rc == 0 && e.state == ENRP_STATE_DESTROYED)
		return -EKEYREVOKED;
	if (rc && rc != -ENOENT)
		return rc;
	if (!t->write)
		return -EROFS;
	/* The share is durable before the transaction that needs it commits;
	 * a retried or aborted transaction finds and reuses it. */
	rc = vault_share_get(a->v->recorded, a->eir_id, true, share);
	if (rc == 0)
		rc = enrp_master_new_eir_key_v2(a->v->master, a->eir_id, share, wrapped, &a->key);
	OPENSSL_cleanse(share, sizeof(share));
	if (rc == 0)
		rc = txn_put(t, DBI_KEYS, k, sizeof(k), wrapped, sizeof(wrapped), 0);
	return rc;
}

int enrp_vault_eir_key(enrp_vault *v, uint32_t eir_id, const struct enrp_eir_key **out)
{
	*out = NULL;
	if (!v->master)
		return 0;
	int rc = 0;
	pthread_mutex_lock(&v->lock);
	for (size_t i = 0; i < v->nkeys; i++) {
		if (v->keys[i]->eir_id == eir_id) {
			*out = &v->keys[i]->key;
			goto out_unlock;
		}
	}
	if (v->nkeys == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		struct cached_key **nk = realloc(v->keys, cap * sizeof(*nk));
		if (!nk) {
			rc = -ENOMEM;
			goto out_unlock;
		}
		v->keys = nk;
		v->cap = cap;
	}
	struct cached_key *ck = calloc(1, sizeof(*ck));
	if (!ck) {
		rc = -ENOMEM;
		goto out_unlock;
	}
	struct key_args a = { .v = v, .eir_id = eir_id };
	rc = enrp_store_write(v->st, key_fn, &a);
	if (rc == -EROFS) /* a read-only open: unwrap without creating */
		rc = enrp_store_read(v->st, key_fn, &a);
	if (rc == 0) {
		ck->eir_id = eir_id;
		ck->key = a.key;
		v->keys[v->nkeys++] = ck;
		*out = &ck->key;
	} else {
		free(ck);
	}
	enrp_eir_key_wipe(&a.key);
out_unlock:
	pthread_mutex_unlock(&v->lock);
	return rc;
}

void enrp_vault_forget(enrp_vault *v, uint32_t eir_id)
{
	pthread_mutex_lock(&v->lock);
	for (size_t i = 0; i < v->nkeys; i++) {
		if (v->keys[i]->eir_id != eir_id)
			continue;
		/* Wiped in place, not freed: a caller may still hold its address
		 * (borrowed until close); it now holds no key, and id 0 is no
		 * EIR's, so no lookup finds it again. */
		enrp_eir_key_wipe(&v->keys[i]->key);
		v->keys[i]->eir_id = 0;
	}
	pthread_mutex_unlock(&v->lock);
}

const enrp_master *vault_master(const enrp_vault *v)
{
	return v->master;
}
