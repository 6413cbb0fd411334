/*
 * mfa.c — TOTP secrets per person and the check of a code (see
 * include/enrp/mfa.h).  The HOTP/TOTP arithmetic is liboath's; this module
 * keeps the secrets, the replay guard and the journal.
 *
 * The secret is read, checked and the step kept in one write transaction:
 * two processes given the same code cannot both pass.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <liboath/oath.h>
#include <openssl/crypto.h>

#include <enrp/approval.h>
#include <enrp/codec.h>
#include <enrp/details.h>
#include <enrp/keys.h>
#include <enrp/mfa.h>

#include "journal_int.h"
#include "record_int.h"
#include "store_int.h"
#include "vault_int.h"

#define PREFIX "mfa:"
#define PREFIX_LEN (sizeof(PREFIX) - 1)
#define KEY_LEN (PREFIX_LEN + 4)
#define DESC_MAX 512
#define SETTING "mfa_required"

static pthread_once_t oath_once = PTHREAD_ONCE_INIT;
static int oath_init_rc;

static void oath_start(void)
{
	oath_init_rc = oath_init();
}

static int oath_ready(void)
{
	pthread_once(&oath_once, oath_start);
	return oath_init_rc == OATH_OK ? 0 : -EIO;
}

/* --- RFC 6238 ------------------------------------------------------------ */

int enrp_totp_code(const uint8_t *secret, size_t n, int64_t t, unsigned digits, char *out)
{
	if (digits < 6 || digits > 8 || t < 0)
		return -EINVAL;
	int rc = oath_ready();
	if (rc)
		return rc;
	rc = oath_totp_generate((const char *)secret, n, (time_t)t, ENRP_MFA_STEP, 0, digits, out);
	return rc == OATH_OK ? 0 : -EIO;
}

int enrp_totp_match(const uint8_t *secret, size_t n, int64_t now_s, unsigned digits,
                    unsigned window, const char *code, uint64_t *step)
{
	if (!code || strlen(code) != digits || strspn(code, "0123456789") != digits || now_s < 0)
		return -EINVAL;
	int rc = oath_ready();
	if (rc)
		return rc;
	int pos = 0;
	uint64_t counter = 0;
	/* oath_totp_validate3 tries the steps within WINDOW of now, both ways,
	 * and reports the one that matched: the replay guard needs the step,
	 * not only a yes. */
	rc = oath_totp_validate3((const char *)secret, n, (time_t)now_s, ENRP_MFA_STEP, 0, window,
	                         &pos, &counter, code);
	if (rc == OATH_INVALID_OTP)
		return -EACCES;
	if (rc < 0)
		return -EIO;
	*step = counter;
	return 0;
}

int enrp_mfa_base32(const uint8_t *secret, size_t n, char *out, size_t size)
{
	char *b = NULL;
	size_t len = 0;
	int rc = oath_ready();
	if (rc)
		return rc;
	if (oath_base32_encode((const char *)secret, n, &b, &len) != OATH_OK)
		return -ENOMEM;
	/* Authenticator apps take the secret without '=' padding. */
	while (len && b[len - 1] == '=')
		len--;
	if (len + 1 > size) {
		free(b);
		return -ENOSPC;
	}
	memcpy(out, b, len);
	out[len] = '\0';
	free(b);
	return 0;
}

/* --- records ------------------------------------------------------------- */

static void set_field(char *dst, size_t n, const char *src)
{
	size_t l = strnlen(src, n - 1);
	memcpy(dst, src, l);
	dst[l] = '\0';
}

static void key_of(uint32_t person, uint8_t key[KEY_LEN])
{
	memcpy(key, PREFIX, PREFIX_LEN);
	be32_put(key + PREFIX_LEN, person);
}

static void label_of(uint32_t person, char *buf, size_t n)
{
	snprintf(buf, n, "mfa:%" PRIu32, person);
}

static void actor_name(const struct enrp_actor *actor, char *buf, size_t n)
{
	uint32_t person = enrp_person_of(actor);
	struct passwd pw, *res = NULL;
	char tmp[1024];
	if (actor->login_uid == ENRP_NO_UID && actor->sudo_uid == person && actor->sudo_user[0])
		snprintf(buf, n, "%s", actor->sudo_user);
	else if (getpwuid_r(person, &pw, tmp, sizeof(tmp), &res) == 0 && res)
		snprintf(buf, n, "%s", res->pw_name);
	else
		snprintf(buf, n, "uid %" PRIu32, person);
}

/* Splits a stored value into P's fields and the secret blob.  -EIO. */
static int parse(uint32_t person, const MDB_val *v, struct enrp_mfa_person *p,
                 const uint8_t **blob, size_t *bloblen)
{
	const char *s = v->mv_data;
	const char *nul = memchr(s, '\0', v->mv_size);
	char key[ENRP_DETAILS_KEY_MAX + 1], value[128];
	if (!nul || (size_t)(nul - s) > DESC_MAX)
		return -EIO;
	memset(p, 0, sizeof(*p));
	p->person = person;
	const char *cur = s;
	int wrapped = -1;
	while (enrp_details_next(&cur, key, sizeof(key), value, sizeof(value), NULL)) {
		if (!strcmp(key, "name"))
			set_field(p->name, sizeof(p->name), value);
		else if (!strcmp(key, "by"))
			set_field(p->by, sizeof(p->by), value);
		else if (!strcmp(key, "enrolled"))
			p->enrolled = strtoll(value, NULL, 10);
		else if (!strcmp(key, "last_step"))
			p->last_step = strtoull(value, NULL, 10);
		else if (!strcmp(key, "wrapped"))
			wrapped = !strcmp(value, "1");
	}
	if (wrapped < 0)
		return -EIO;
	p->wrapped = wrapped;
	*blob = (const uint8_t *)nul + 1;
	*bloblen = v->mv_size - (size_t)(nul - s) - 1;
	return 0;
}

/* Writes P with its secret BLOB (BLOBLEN bytes) under its key. */
static int put_txn(enrp_txn *t, const struct enrp_mfa_person *p, const uint8_t *blob,
                   size_t bloblen)
{
	char desc[DESC_MAX] = "";
	uint8_t key[KEY_LEN], value[DESC_MAX + 1 + ENRP_MFA_SECRET_LEN + 64];
	enrp_details_add(desc, sizeof(desc), "name", "%s", p->name);
	enrp_details_add(desc, sizeof(desc), "by", "%s", p->by);
	enrp_details_add(desc, sizeof(desc), "enrolled", "%" PRId64, p->enrolled);
	enrp_details_add(desc, sizeof(desc), "last_step", "%" PRIu64, p->last_step);
	enrp_details_add(desc, sizeof(desc), "wrapped", "%d", p->wrapped ? 1 : 0);
	size_t dl = strlen(desc) + 1;
	if (dl + bloblen > sizeof(value))
		return -EIO;
	memcpy(value, desc, dl);
	memcpy(value + dl, blob, bloblen);
	key_of(p->person, key);
	int rc = txn_put(t, DBI_META, key, sizeof(key), value, dl + bloblen, 0);
	OPENSSL_cleanse(value, sizeof(value));
	return rc;
}

static int setting_txn(enrp_txn *t, bool *on)
{
	MDB_val v;
	int rc = txn_get(t, DBI_META, SETTING, strlen(SETTING), &v);
	if (rc == -ENOENT) {
		*on = false;
		return 0;
	}
	if (rc)
		return rc;
	*on = v.mv_size == 1 && *(const char *)v.mv_data == '1';
	return 0;
}

static int count_one(const MDB_val *k, const MDB_val *v, void *arg)
{
	(void)v;
	if (k->mv_size == KEY_LEN)
		(*(unsigned *)arg)++;
	return 0;
}

/* Enrolled people, counted. */
static int count_txn(enrp_txn *t, unsigned *n)
{
	*n = 0;
	return txn_prefix_each(t, DBI_META, PREFIX, PREFIX_LEN, count_one, n);
}

static int enabled_fn(enrp_txn *t, void *arg)
{
	return setting_txn(t, arg);
}

int enrp_mfa_enabled(enrp_store *st, bool *on)
{
	return enrp_store_read(st, enabled_fn, on);
}

/* ---- enroll ---- */

struct enroll_ctx {
	const enrp_master *m;
	bool encrypted;
	struct enrp_mfa_person p;
	const uint8_t *secret;
	const struct enrp_actor *actor;
};

static int enroll_fn(enrp_txn *t, void *arg)
{
	struct enroll_ctx *c = arg;
	uint8_t key[KEY_LEN], *blob = NULL;
	size_t bloblen = 0;
	char label[32], d[ENRP_JOURNAL_DETAILS_MAX + 1] = "";
	MDB_val v;
	key_of(c->p.person, key);
	int rc = txn_get(t, DBI_META, key, sizeof(key), &v);
	if (rc == 0)
		return -EEXIST;
	if (rc != -ENOENT)
		return rc;
	if (c->encrypted) {
		label_of(c->p.person, label, sizeof(label));
		if ((rc = enrp_master_wrap(c->m, label, c->secret, ENRP_MFA_SECRET_LEN, &blob,
		                           &bloblen)))
			return rc;
		rc = put_txn(t, &c->p, blob, bloblen);
		enrp_master_buf_free(blob, bloblen);
	} else {
		rc = put_txn(t, &c->p, c->secret, ENRP_MFA_SECRET_LEN);
	}
	if (rc)
		return rc;
	enrp_details_add(d, sizeof(d), "person", "%" PRIu32, c->p.person);
	enrp_details_add(d, sizeof(d), "name", "%s", c->p.name);
	enrp_details_add(d, sizeof(d), "wrapped", "%s", c->p.wrapped ? "yes" : "no");
	return journal_append_txn(t, c->actor, "", "mfa-enroll", d);
}

int enrp_mfa_enroll(enrp_store *st, const enrp_vault *v, uint32_t person, const char *name,
                    int64_t now_ns, const struct enrp_actor *actor,
                    uint8_t secret[ENRP_MFA_SECRET_LEN])
{
	bool encrypted = false;
	int rc = enrp_vault_info(st, &encrypted, NULL, 0);
	if (rc)
		return rc;
	const enrp_master *m = v ? vault_master(v) : NULL;
	if (encrypted && !m)
		return -ENOKEY;
	if ((rc = enrp_codec_random(secret, ENRP_MFA_SECRET_LEN)))
		return rc;
	struct enroll_ctx c = { .m = m, .encrypted = encrypted, .secret = secret, .actor = actor };
	c.p.person = person;
	set_field(c.p.name, sizeof(c.p.name), name ? name : "");
	actor_name(actor, c.p.by, sizeof(c.p.by));
	c.p.enrolled = now_ns;
	c.p.wrapped = encrypted;
	rc = enrp_store_write(st, enroll_fn, &c);
	if (rc)
		OPENSSL_cleanse(secret, ENRP_MFA_SECRET_LEN);
	return rc;
}

/* ---- remove, set ---- */

struct remove_ctx {
	uint32_t person;
	const struct enrp_actor *actor;
};

static int remove_fn(enrp_txn *t, void *arg)
{
	struct remove_ctx *c = arg;
	uint8_t key[KEY_LEN];
	char d[ENRP_JOURNAL_DETAILS_MAX + 1] = "";
	struct enrp_mfa_person p;
	const uint8_t *blob;
	size_t bloblen;
	bool on;
	unsigned n;
	MDB_val v;
	key_of(c->person, key);
	int rc = txn_get(t, DBI_META, key, sizeof(key), &v);
	if (rc)
		return rc;
	if (parse(c->person, &v, &p, &blob, &bloblen))
		p.name[0] = '\0'; /* a damaged record can still be removed */
	if ((rc = setting_txn(t, &on)) || (rc = count_txn(t, &n)))
		return rc;
	if (on && n <= ENRP_MFA_MIN_PEOPLE)
		return -EBUSY;
	if ((rc = txn_del(t, DBI_META, key, sizeof(key))))
		return rc;
	enrp_details_add(d, sizeof(d), "person", "%" PRIu32, c->person);
	enrp_details_add(d, sizeof(d), "name", "%s", p.name);
	return journal_append_txn(t, c->actor, "", "mfa-remove", d);
}

int enrp_mfa_remove(enrp_store *st, uint32_t person, const struct enrp_actor *actor)
{
	struct remove_ctx c = { person, actor };
	return enrp_store_write(st, remove_fn, &c);
}

struct set_ctx {
	bool on;
	const struct enrp_actor *actor;
};

static int set_fn(enrp_txn *t, void *arg)
{
	struct set_ctx *c = arg;
	char d[ENRP_JOURNAL_DETAILS_MAX + 1] = "";
	bool was;
	unsigned n;
	int rc = setting_txn(t, &was);
	if (rc || (rc = count_txn(t, &n)))
		return rc;
	if (c->on && n < ENRP_MFA_MIN_PEOPLE)
		return -EBUSY;
	if ((rc = txn_put(t, DBI_META, SETTING, strlen(SETTING), c->on ? "1" : "0", 1, 0)))
		return rc;
	enrp_details_add(d, sizeof(d), "mfa", "%s", c->on ? "on" : "off");
	enrp_details_add(d, sizeof(d), "was", "%s", was ? "on" : "off");
	enrp_details_add(d, sizeof(d), "enrolled", "%u", n);
	return journal_append_txn(t, c->actor, "", "mfa-set", d);
}

int enrp_mfa_set(enrp_store *st, bool on, const struct enrp_actor *actor)
{
	struct set_ctx c = { on, actor };
	return enrp_store_write(st, set_fn, &c);
}

/* ---- list ---- */

struct walk {
	struct enrp_mfa_person *v;
	size_t n, cap;
};

/* One enrolled person into the walk's array. */
static int walk_one(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct walk *w = arg;
	const uint8_t *blob;
	size_t bloblen;
	if (k->mv_size != KEY_LEN)
		return 0;
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 8;
		struct enrp_mfa_person *nv = realloc(w->v, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		w->v = nv;
		w->cap = cap;
	}
	uint32_t person = be32_get((const uint8_t *)k->mv_data + PREFIX_LEN);
	if (parse(person, v, &w->v[w->n], &blob, &bloblen))
		return -EIO;
	w->n++;
	return 0;
}

static int walk_fn(enrp_txn *t, void *arg)
{
	struct walk *w = arg;
	w->n = 0;
	return txn_prefix_each(t, DBI_META, PREFIX, PREFIX_LEN, walk_one, w);
}

int enrp_mfa_list(enrp_store *st, int (*cb)(const struct enrp_mfa_person *p, void *arg),
                  void *arg)
{
	struct walk w = { 0 };
	int rc = enrp_store_read(st, walk_fn, &w);
	for (size_t i = 0; rc == 0 && i < w.n; i++)
		rc = cb(&w.v[i], arg);
	free(w.v);
	return rc;
}

/* ---- verify ---- */

struct verify_ctx {
	const enrp_master *m;
	const char *code;
	int64_t now_s;
	uint32_t person;
	uint64_t step;
	const char *why; /* for the refusal's record */
};

static int verify_fn(enrp_txn *t, void *arg)
{
	struct verify_ctx *c = arg;
	uint8_t key[KEY_LEN], *secret = NULL, copy[ENRP_MFA_SECRET_LEN + 64];
	const uint8_t *blob;
	size_t bloblen, n = 0;
	struct enrp_mfa_person p;
	char label[32];
	MDB_val v;
	key_of(c->person, key);
	int rc = txn_get(t, DBI_META, key, sizeof(key), &v);
	if (rc) {
		c->why = rc == -ENOENT ? "not-enrolled" : "error";
		return rc;
	}
	if ((rc = parse(c->person, &v, &p, &blob, &bloblen))) {
		c->why = "error";
		return rc;
	}
	if (!c->code) {
		c->why = "missing";
		return -EINVAL;
	}
	if (p.wrapped) {
		if (!c->m) {
			c->why = "no-key";
			return -ENOKEY;
		}
		label_of(c->person, label, sizeof(label));
		if ((rc = enrp_master_unwrap(c->m, label, blob, bloblen, &secret, &n))) {
			c->why = "error";
			return rc;
		}
	} else {
		if (bloblen > sizeof(copy)) {
			c->why = "error";
			return -EIO;
		}
		memcpy(copy, blob, bloblen);
		n = bloblen;
	}
	rc = enrp_totp_match(secret ? secret : copy, n, c->now_s, ENRP_MFA_DIGITS, ENRP_MFA_WINDOW,
	                     c->code, &c->step);
	if (secret)
		enrp_master_buf_free(secret, n);
	if (rc) {
		c->why = rc == -EINVAL ? "malformed" : rc == -EACCES ? "wrong" : "error";
		goto out;
	}
	/* The replay guard: steps only go forward, so a code already used, or
	 * one older than it, is refused even inside the window. */
	if (c->step <= p.last_step) {
		c->why = "replayed";
		rc = -EALREADY;
		goto out;
	}
	p.last_step = c->step;
	rc = p.wrapped ? put_txn(t, &p, blob, bloblen) : put_txn(t, &p, copy, n);
out:
	OPENSSL_cleanse(copy, sizeof(copy));
	return rc;
}

int enrp_mfa_verify(enrp_store *st, const enrp_vault *v, const char *code, int64_t now_ns,
                    const struct enrp_actor *actor, const char *what)
{
	struct verify_ctx c = {
		.m = v ? vault_master(v) : NULL,
		.code = code,
		.now_s = now_ns / 1000000000LL,
		.person = enrp_person_of(actor),
		.why = "error",
	};
	int rc = enrp_store_write(st, verify_fn, &c);
	if (rc == 0)
		return 0;
	/* The refusal is journalled in its own write: the check's own write
	 * was rolled back with it. */
	char d[ENRP_JOURNAL_DETAILS_MAX + 1] = "", name[64];
	actor_name(actor, name, sizeof(name));
	enrp_details_add(d, sizeof(d), "person", "%" PRIu32, c.person);
	enrp_details_add(d, sizeof(d), "name", "%s", name);
	enrp_details_add(d, sizeof(d), "what", "%s", what ? what : "");
	enrp_details_add(d, sizeof(d), "why", "%s", c.why);
	int jrc = enrp_journal_append(st, actor, "", "mfa-failed", "%s", d);
	return jrc && rc != -EIO ? jrc : rc;
}
