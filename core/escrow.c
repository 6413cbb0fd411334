/*
 * escrow.c — deposits of owners' decryption material, wrapped by the master
 * key (see include/enrp/escrow.h).
 *
 * A value in DBI_KEYS is the deposit's description as key=value pairs
 * (core/details.c), a NUL, then the wrapped blob (nonce | ciphertext |
 * tag).  The description is not secret; the blob's label binds it to its
 * EIR and id, so swapping two values does not hand one EIR another's key.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <enrp/details.h>
#include <enrp/escrow.h>

#include "approval_int.h"
#include "eir_int.h"
#include "journal_int.h"
#include "record_int.h"
#include "store_int.h"
#include "vault_int.h"

#define TAG 'e'
#define KEY_LEN (4 + 1 + 8)
#define DESC_MAX 1024

/* Copies SRC into DST (N bytes), cut to fit: stored text is never longer
 * than the field it was written from, but a damaged value must not
 * overflow it. */
static void set_field(char *dst, size_t n, const char *src)
{
	size_t l = strnlen(src, n - 1);
	memcpy(dst, src, l);
	dst[l] = '\0';
}

static void key_of(uint32_t eir_id, uint64_t id, uint8_t key[KEY_LEN])
{
	be32_put(key, eir_id);
	key[4] = TAG;
	be64_put(key + 5, id);
}

static void label_of(uint32_t eir_id, uint64_t id, char *buf, size_t n)
{
	snprintf(buf, n, "escrow:%" PRIu32 ":%" PRIu64, eir_id, id);
}

static void describe(const struct enrp_escrow *e, char *buf, size_t n)
{
	buf[0] = '\0';
	enrp_details_add(buf, n, "name", "%s", e->name);
	enrp_details_add(buf, n, "reason", "%s", e->reason);
	enrp_details_add(buf, n, "size", "%" PRIu64, e->size);
	enrp_details_add(buf, n, "sha256", "%s", e->sha256);
	enrp_details_add(buf, n, "created", "%" PRId64, e->created);
	enrp_details_add(buf, n, "by", "%s", e->by);
}

/* Splits a stored value into E's fields and the blob.  -EIO. */
static int parse(const MDB_val *v, struct enrp_escrow *e, const uint8_t **blob, size_t *bloblen)
{
	const char *p = v->mv_data;
	const char *nul = memchr(p, '\0', v->mv_size);
	char key[ENRP_DETAILS_KEY_MAX + 1], value[ENRP_ESCROW_REASON_MAX + 1];
	if (!nul || (size_t)(nul - p) > DESC_MAX)
		return -EIO;
	const char *cur = p;
	while (enrp_details_next(&cur, key, sizeof(key), value, sizeof(value), NULL)) {
		if (!strcmp(key, "name"))
			set_field(e->name, sizeof(e->name), value);
		else if (!strcmp(key, "reason"))
			set_field(e->reason, sizeof(e->reason), value);
		else if (!strcmp(key, "size"))
			e->size = strtoull(value, NULL, 10);
		else if (!strcmp(key, "sha256"))
			set_field(e->sha256, sizeof(e->sha256), value);
		else if (!strcmp(key, "created"))
			e->created = strtoll(value, NULL, 10);
		else if (!strcmp(key, "by"))
			set_field(e->by, sizeof(e->by), value);
	}
	*blob = (const uint8_t *)nul + 1;
	*bloblen = v->mv_size - (size_t)(nul - p) - 1;
	return e->name[0] ? 0 : -EIO;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* ---- put ---- */

struct put_ctx {
	const enrp_master *m;
	struct enrp_escrow e;
	const void *data;
	size_t n;
	const struct enrp_actor *actor;
};

static int put_fn(enrp_txn *t, void *arg)
{
	struct put_ctx *c = arg;
	struct enrp_eir eir;
	char label[64], desc[DESC_MAX], d[ENRP_JOURNAL_DETAILS_MAX + 1] = "";
	uint8_t key[KEY_LEN], *blob = NULL;
	size_t bloblen = 0;
	int rc = eir_get_by_name_txn(t, c->e.eir, &eir);
	if (rc)
		return rc;
	if (eir.state == ENRP_STATE_DESTROYED)
		return -EINVAL;
	if ((rc = txn_next_id(t, "next_escrow", 1, &c->e.id)))
		return rc;
	label_of(eir.id, c->e.id, label, sizeof(label));
	if ((rc = enrp_master_wrap(c->m, label, c->data, c->n, &blob, &bloblen)))
		return rc;
	describe(&c->e, desc, sizeof(desc));
	size_t dl = strlen(desc) + 1, len = dl + bloblen;
	uint8_t *value = malloc(len);
	if (!value) {
		enrp_master_buf_free(blob, bloblen);
		return -ENOMEM;
	}
	memcpy(value, desc, dl);
	memcpy(value + dl, blob, bloblen);
	enrp_master_buf_free(blob, bloblen);
	key_of(eir.id, c->e.id, key);
	rc = txn_put(t, DBI_KEYS, key, sizeof(key), value, len, 0);
	free(value);
	if (rc)
		return rc;
	enrp_details_add(d, sizeof(d), "id", "%" PRIu64, c->e.id);
	enrp_details_add(d, sizeof(d), "name", "%s", c->e.name);
	enrp_details_add(d, sizeof(d), "size", "%" PRIu64, c->e.size);
	enrp_details_add(d, sizeof(d), "sha256", "%s", c->e.sha256);
	enrp_details_add(d, sizeof(d), "reason", "%s", c->e.reason);
	return journal_append_txn(t, c->actor, c->e.eir, "escrow-put", d);
}

static bool text_ok(const char *s, size_t max)
{
	return s && *s && strlen(s) <= max;
}

int enrp_escrow_put(enrp_store *st, enrp_vault *v, const char *eir, const char *name,
                    const void *data, size_t n, const char *reason, int64_t now_ns,
                    const struct enrp_actor *actor, uint64_t *id)
{
	const enrp_master *m = vault_master(v);
	if (!m)
		return -ENOKEY;
	if (!text_ok(eir, ENRP_EIR_NAME_MAX) || !text_ok(name, ENRP_ESCROW_NAME_MAX) ||
	    !text_ok(reason, ENRP_ESCROW_REASON_MAX) || n == 0 || n > ENRP_ESCROW_MAX)
		return -EINVAL;
	struct put_ctx c = { .m = m, .data = data, .n = n, .actor = actor };
	uint8_t digest[32];
	unsigned dlen = 0;
	if (EVP_Digest(data, n, digest, &dlen, EVP_sha256(), NULL) != 1 || dlen != 32)
		return -EIO;
	hex(digest, 32, c.e.sha256);
	snprintf(c.e.eir, sizeof(c.e.eir), "%s", eir);
	snprintf(c.e.name, sizeof(c.e.name), "%s", name);
	snprintf(c.e.reason, sizeof(c.e.reason), "%s", reason);
	c.e.size = n;
	c.e.created = now_ns;
	uint32_t person = enrp_person_of(actor);
	snprintf(c.e.by, sizeof(c.e.by), "uid=%" PRIu32 " person=%" PRIu32 "%s%s", actor->uid,
	         person, actor->sudo_user[0] ? " sudo=" : "", actor->sudo_user);
	int rc = enrp_store_write(st, put_fn, &c);
	if (!rc && id)
		*id = c.e.id;
	return rc;
}

/* ---- list ---- */

struct list_ctx {
	const char *eir;
	struct enrp_escrow *v;
	size_t n, cap;
	const struct enrp_actor *actor;
};

/* One deposit into the listing (its EIR's name filled by list_fn). */
static int list_one(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct list_ctx *c = arg;
	const uint8_t *blob;
	size_t bloblen;
	if (k->mv_size != KEY_LEN)
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		struct enrp_escrow *nv = realloc(c->v, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		c->v = nv;
		c->cap = cap;
	}
	struct enrp_escrow *e = &c->v[c->n];
	memset(e, 0, sizeof(*e));
	int rc = parse(v, e, &blob, &bloblen);
	if (rc)
		return rc;
	e->id = be64_get((const uint8_t *)k->mv_data + 5);
	c->n++;
	return 0;
}

static int list_fn(enrp_txn *t, void *arg)
{
	struct list_ctx *c = arg;
	struct enrp_eir eir;
	char d[ENRP_JOURNAL_DETAILS_MAX + 1] = "";
	int rc = eir_get_by_name_txn(t, c->eir, &eir);
	if (rc)
		return rc;
	uint8_t start[5];
	be32_put(start, eir.id);
	start[4] = TAG;
	if ((rc = txn_prefix_each(t, DBI_KEYS, start, sizeof(start), list_one, c)))
		return rc;
	for (size_t i = 0; i < c->n; i++)
		snprintf(c->v[i].eir, sizeof(c->v[i].eir), "%s", eir.name);
	enrp_details_add(d, sizeof(d), "count", "%zu", c->n);
	return journal_append_txn(t, c->actor, eir.name, "escrow-list", d);
}

int enrp_escrow_list(enrp_store *st, const char *eir,
                     int (*cb)(const struct enrp_escrow *e, void *arg), void *arg,
                     const struct enrp_actor *actor)
{
	struct list_ctx c = { .eir = eir, .actor = actor };
	/* A write: the listing itself is an access the journal records. */
	int rc = enrp_store_write(st, list_fn, &c);
	for (size_t i = 0; !rc && i < c.n; i++)
		rc = cb(&c.v[i], arg);
	free(c.v);
	return rc;
}

/* ---- get ---- */

struct get_ctx {
	const enrp_master *m;
	const char *eir;
	uint64_t id;
	const char *reason;
	int64_t now;
	const struct enrp_actor *actor;
	uint8_t *out;
	size_t n;
	struct enrp_request req;
};

static int get_fn(enrp_txn *t, void *arg)
{
	struct get_ctx *c = arg;
	struct enrp_eir eir;
	struct enrp_escrow e = { 0 };
	char label[64], target[32], d[ENRP_JOURNAL_DETAILS_MAX + 1] = "";
	uint8_t key[KEY_LEN];
	const uint8_t *blob;
	size_t bloblen;
	MDB_val v;
	int rc = eir_get_by_name_txn(t, c->eir, &eir);
	if (rc)
		return rc;
	key_of(eir.id, c->id, key);
	if ((rc = txn_get(t, DBI_KEYS, key, sizeof(key), &v)))
		return rc;
	if ((rc = parse(&v, &e, &blob, &bloblen)))
		return rc;
	snprintf(target, sizeof(target), "%" PRIu64, c->id);
	rc = request_consume_txn(t, "escrow-get", eir.name, target, c->now, c->actor, &c->req);
	if (rc)
		return rc == -ENOENT ? -EACCES : rc;
	label_of(eir.id, c->id, label, sizeof(label));
	if ((rc = enrp_master_unwrap(c->m, label, blob, bloblen, &c->out, &c->n)))
		return rc;
	enrp_details_add(d, sizeof(d), "id", "%" PRIu64, c->id);
	enrp_details_add(d, sizeof(d), "name", "%s", e.name);
	enrp_details_add(d, sizeof(d), "reason", "%s", c->reason);
	enrp_details_add(d, sizeof(d), "request", "%" PRIu64, c->req.id);
	enrp_details_add(d, sizeof(d), "approved_by", "%s", c->req.decider_name);
	rc = journal_append_txn(t, c->actor, eir.name, "escrow-get", d);
	if (rc) {
		enrp_master_buf_free(c->out, c->n);
		c->out = NULL;
	}
	return rc;
}

int enrp_escrow_get(enrp_store *st, enrp_vault *v, const char *eir, uint64_t id,
                    const char *reason, int64_t now_ns, const struct enrp_actor *actor,
                    uint8_t **out, size_t *n, struct enrp_request *request)
{
	const enrp_master *m = vault_master(v);
	if (!m)
		return -ENOKEY;
	if (!text_ok(reason, ENRP_ESCROW_REASON_MAX) || !text_ok(eir, ENRP_EIR_NAME_MAX))
		return -EINVAL;
	struct get_ctx c = { .m = m, .eir = eir, .id = id, .reason = reason, .now = now_ns,
		             .actor = actor };
	int rc = enrp_store_write(st, get_fn, &c);
	if (rc) {
		enrp_master_buf_free(c.out, c.n);
		return rc;
	}
	*out = c.out;
	*n = c.n;
	if (request)
		*request = c.req;
	return 0;
}
