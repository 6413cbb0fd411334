/*
 * approval.c — requests, approvals and their consumption (see
 * include/enrp/approval.h).
 *
 * A request is one DBI_META value under "request:" + be64(id), written as
 * key=value pairs (core/details.c): the fields are few, read rarely and by
 * a person, and the pairs parser already quotes whatever a reason holds.
 * The id comes from the store-wide counter "next_request".
 */
#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/details.h>

#include "approval_int.h"
#include "eir_int.h"
#include "journal_int.h"
#include "record_int.h"

#define PREFIX "request:"
#define PREFIX_LEN (sizeof(PREFIX) - 1)
#define KEY_LEN (PREFIX_LEN + 8)
#define VALUE_MAX 2048

/* Copies SRC into DST (N bytes), cut to fit: stored text is never longer
 * than the field it was written from, but a damaged value must not
 * overflow it. */
static void set_field(char *dst, size_t n, const char *src)
{
	size_t l = strnlen(src, n - 1);
	memcpy(dst, src, l);
	dst[l] = '\0';
}

static const char *const state_names[] = {
	[ENRP_REQUEST_PENDING] = "pending",   [ENRP_REQUEST_APPROVED] = "approved",
	[ENRP_REQUEST_REJECTED] = "rejected", [ENRP_REQUEST_USED] = "used",
	[ENRP_REQUEST_EXPIRED] = "expired",
};

const char *enrp_request_state_name(enum enrp_request_state s)
{
	return (unsigned)s <= ENRP_REQUEST_EXPIRED ? state_names[s] : "?";
}

uint32_t enrp_person_of(const struct enrp_actor *actor)
{
	if (actor->login_uid != ENRP_NO_UID)
		return actor->login_uid;
	if (actor->sudo_uid != ENRP_NO_UID)
		return actor->sudo_uid;
	return actor->uid;
}

static void person_name(const struct enrp_actor *actor, uint32_t person, char *buf, size_t n)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];
	if (actor->login_uid == ENRP_NO_UID && actor->sudo_uid == person && actor->sudo_user[0]) {
		snprintf(buf, n, "%s", actor->sudo_user);
		return;
	}
	if (getpwuid_r(person, &pw, tmp, sizeof(tmp), &res) == 0 && res)
		snprintf(buf, n, "%s", res->pw_name);
	else
		snprintf(buf, n, "uid %" PRIu32, person);
}

static void key_of(uint64_t id, uint8_t key[KEY_LEN])
{
	memcpy(key, PREFIX, PREFIX_LEN);
	be64_put(key + PREFIX_LEN, id);
}

static void encode(const struct enrp_request *r, char *buf, size_t n)
{
	buf[0] = '\0';
	enrp_details_add(buf, n, "action", "%s", r->action);
	enrp_details_add(buf, n, "eir", "%s", r->eir);
	enrp_details_add(buf, n, "target", "%s", r->target);
	enrp_details_add(buf, n, "reason", "%s", r->reason);
	enrp_details_add(buf, n, "requester", "%" PRIu32, r->requester);
	enrp_details_add(buf, n, "requester_name", "%s", r->requester_name);
	enrp_details_add(buf, n, "created", "%" PRId64, r->created);
	enrp_details_add(buf, n, "expires", "%" PRId64, r->expires);
	enrp_details_add(buf, n, "state", "%s", enrp_request_state_name(r->state));
	enrp_details_add(buf, n, "decider", "%" PRIu32, r->decider);
	enrp_details_add(buf, n, "decider_name", "%s", r->decider_name);
	enrp_details_add(buf, n, "note", "%s", r->note);
	enrp_details_add(buf, n, "decided", "%" PRId64, r->decided);
	enrp_details_add(buf, n, "used", "%" PRId64, r->used);
}

static int decode(uint64_t id, const void *data, size_t len, struct enrp_request *r)
{
	char text[VALUE_MAX + 1], key[ENRP_DETAILS_KEY_MAX + 1], value[ENRP_REQUEST_TEXT_MAX + 1];
	if (len > VALUE_MAX)
		return -EIO;
	memcpy(text, data, len);
	text[len] = '\0';
	memset(r, 0, sizeof(*r));
	r->id = id;
	int state = -1;
	const char *cur = text;
	while (enrp_details_next(&cur, key, sizeof(key), value, sizeof(value), NULL)) {
		if (!strcmp(key, "action"))
			set_field(r->action, sizeof(r->action), value);
		else if (!strcmp(key, "eir"))
			set_field(r->eir, sizeof(r->eir), value);
		else if (!strcmp(key, "target"))
			set_field(r->target, sizeof(r->target), value);
		else if (!strcmp(key, "reason"))
			set_field(r->reason, sizeof(r->reason), value);
		else if (!strcmp(key, "requester"))
			r->requester = (uint32_t)strtoul(value, NULL, 10);
		else if (!strcmp(key, "requester_name"))
			set_field(r->requester_name, sizeof(r->requester_name), value);
		else if (!strcmp(key, "created"))
			r->created = strtoll(value, NULL, 10);
		else if (!strcmp(key, "expires"))
			r->expires = strtoll(value, NULL, 10);
		else if (!strcmp(key, "decider"))
			r->decider = (uint32_t)strtoul(value, NULL, 10);
		else if (!strcmp(key, "decider_name"))
			set_field(r->decider_name, sizeof(r->decider_name), value);
		else if (!strcmp(key, "note"))
			set_field(r->note, sizeof(r->note), value);
		else if (!strcmp(key, "decided"))
			r->decided = strtoll(value, NULL, 10);
		else if (!strcmp(key, "used"))
			r->used = strtoll(value, NULL, 10);
		else if (!strcmp(key, "state"))
			for (int s = ENRP_REQUEST_PENDING; s <= ENRP_REQUEST_USED; s++)
				if (!strcmp(value, state_names[s]))
					state = s;
	}
	if (state < 0 || !r->action[0] || !r->expires)
		return -EIO;
	r->state = (enum enrp_request_state)state;
	return 0;
}

static void as_of(struct enrp_request *r, int64_t now_ns)
{
	if ((r->state == ENRP_REQUEST_PENDING || r->state == ENRP_REQUEST_APPROVED) &&
	    now_ns >= r->expires)
		r->state = ENRP_REQUEST_EXPIRED;
}

static int get_txn(enrp_txn *t, uint64_t id, struct enrp_request *r)
{
	uint8_t key[KEY_LEN];
	MDB_val v;
	key_of(id, key);
	int rc = txn_get(t, DBI_META, key, sizeof(key), &v);
	return rc ? rc : decode(id, v.mv_data, v.mv_size, r);
}

static int put_txn(enrp_txn *t, const struct enrp_request *r)
{
	uint8_t key[KEY_LEN];
	char value[VALUE_MAX];
	key_of(r->id, key);
	encode(r, value, sizeof(value));
	return txn_put(t, DBI_META, key, sizeof(key), value, strlen(value), 0);
}

/* ---- create ---- */

struct create_ctx {
	struct enrp_request r;
	const struct enrp_actor *actor;
};

static int create_fn(enrp_txn *t, void *arg)
{
	struct create_ctx *c = arg;
	struct enrp_eir e;
	char d[ENRP_JOURNAL_DETAILS_MAX + 1] = "";
	int rc = eir_get_by_name_txn(t, c->r.eir, &e);
	if (rc)
		return rc;
	if ((rc = txn_next_id(t, "next_request", 1, &c->r.id)) || (rc = put_txn(t, &c->r)))
		return rc;
	enrp_details_add(d, sizeof(d), "request", "%" PRIu64, c->r.id);
	enrp_details_add(d, sizeof(d), "action", "%s", c->r.action);
	enrp_details_add(d, sizeof(d), "target", "%s", c->r.target);
	enrp_details_add(d, sizeof(d), "reason", "%s", c->r.reason);
	enrp_details_add(d, sizeof(d), "requester", "%s", c->r.requester_name);
	return journal_append_txn(t, c->actor, c->r.eir, "request-created", d);
}

static bool text_ok(const char *s, size_t max, bool may_be_empty)
{
	return s && (may_be_empty || *s) && strlen(s) <= max;
}

int enrp_request_create(enrp_store *st, const char *action, const char *eir,
                        const char *target, const char *reason, int64_t now_ns,
                        const struct enrp_actor *actor, uint64_t *id)
{
	if (!text_ok(action, ENRP_REQUEST_ACTION_MAX, false) ||
	    !text_ok(target, ENRP_REQUEST_TARGET_MAX, true) ||
	    !text_ok(reason, ENRP_REQUEST_TEXT_MAX, false) || !text_ok(eir, ENRP_EIR_NAME_MAX, false))
		return -EINVAL;
	struct create_ctx c = { .actor = actor };
	snprintf(c.r.action, sizeof(c.r.action), "%s", action);
	snprintf(c.r.eir, sizeof(c.r.eir), "%s", eir);
	snprintf(c.r.target, sizeof(c.r.target), "%s", target);
	snprintf(c.r.reason, sizeof(c.r.reason), "%s", reason);
	c.r.requester = enrp_person_of(actor);
	person_name(actor, c.r.requester, c.r.requester_name, sizeof(c.r.requester_name));
	c.r.created = now_ns;
	c.r.expires = now_ns + ENRP_REQUEST_TTL_NS;
	c.r.state = ENRP_REQUEST_PENDING;
	int rc = enrp_store_write(st, create_fn, &c);
	if (!rc && id)
		*id = c.r.id;
	return rc;
}

/* ---- decide ---- */

struct decide_ctx {
	uint64_t id;
	bool approve;
	const char *note;
	int64_t now;
	const struct enrp_actor *actor;
};

static int decide_fn(enrp_txn *t, void *arg)
{
	struct decide_ctx *c = arg;
	struct enrp_request r;
	char d[ENRP_JOURNAL_DETAILS_MAX + 1] = "";
	int rc = get_txn(t, c->id, &r);
	if (rc)
		return rc;
	as_of(&r, c->now);
	if (r.state == ENRP_REQUEST_EXPIRED)
		return -ETIME;
	if (r.state != ENRP_REQUEST_PENDING)
		return -EALREADY;
	uint32_t person = enrp_person_of(c->actor);
	if (person == r.requester)
		return -EPERM;
	r.state = c->approve ? ENRP_REQUEST_APPROVED : ENRP_REQUEST_REJECTED;
	r.decider = person;
	person_name(c->actor, person, r.decider_name, sizeof(r.decider_name));
	snprintf(r.note, sizeof(r.note), "%s", c->note ? c->note : "");
	r.decided = c->now;
	if ((rc = put_txn(t, &r)))
		return rc;
	enrp_details_add(d, sizeof(d), "request", "%" PRIu64, r.id);
	enrp_details_add(d, sizeof(d), "action", "%s", r.action);
	enrp_details_add(d, sizeof(d), "target", "%s", r.target);
	enrp_details_add(d, sizeof(d), "requester", "%s", r.requester_name);
	enrp_details_add(d, sizeof(d), "by", "%s", r.decider_name);
	if (r.note[0])
		enrp_details_add(d, sizeof(d), "note", "%s", r.note);
	return journal_append_txn(t, c->actor, r.eir,
	                          c->approve ? "request-approved" : "request-rejected", d);
}

int enrp_request_decide(enrp_store *st, uint64_t id, bool approve, const char *note,
                        int64_t now_ns, const struct enrp_actor *actor)
{
	if (note && strlen(note) > ENRP_REQUEST_TEXT_MAX)
		return -EINVAL;
	struct decide_ctx c = { id, approve, note, now_ns, actor };
	return enrp_store_write(st, decide_fn, &c);
}

/* ---- reading ---- */

struct get_ctx {
	uint64_t id;
	struct enrp_request *out;
};

static int get_fn(enrp_txn *t, void *arg)
{
	struct get_ctx *c = arg;
	return get_txn(t, c->id, c->out);
}

int enrp_request_get(enrp_store *st, uint64_t id, int64_t now_ns, struct enrp_request *out)
{
	struct get_ctx c = { id, out };
	int rc = enrp_store_read(st, get_fn, &c);
	if (!rc)
		as_of(out, now_ns);
	return rc;
}

struct walk {
	int64_t now;
	int (*cb)(const struct enrp_request *r, void *arg);
	void *arg;
	struct enrp_request *v;
	size_t n, cap;
};

/* One request into the walk's array. */
static int walk_one(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct walk *w = arg;
	if (k->mv_size != KEY_LEN)
		return 0;
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;
		struct enrp_request *nv = realloc(w->v, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		w->v = nv;
		w->cap = cap;
	}
	int rc = decode(be64_get((const uint8_t *)k->mv_data + PREFIX_LEN), v->mv_data, v->mv_size,
	                &w->v[w->n]);
	if (rc == 0)
		w->n++;
	return rc;
}

/* Collects every request (the callback runs outside the transaction). */
static int walk_fn(enrp_txn *t, void *arg)
{
	return txn_prefix_each(t, DBI_META, PREFIX, PREFIX_LEN, walk_one, arg);
}

int enrp_request_list(enrp_store *st, int64_t now_ns,
                      int (*cb)(const struct enrp_request *r, void *arg), void *arg)
{
	struct walk w = { .now = now_ns };
	int rc = enrp_store_read(st, walk_fn, &w);
	for (size_t i = 0; !rc && i < w.n; i++) {
		as_of(&w.v[i], now_ns);
		rc = cb(&w.v[i], arg);
	}
	free(w.v);
	return rc;
}

static bool matches(const struct enrp_request *r, const char *action, const char *eir,
                    const char *target, uint32_t person)
{
	return r->requester == person && !strcmp(r->action, action) && !strcmp(r->eir, eir) &&
	       !strcmp(r->target, target);
}

struct find_ctx {
	const char *action, *eir, *target;
	uint32_t person;
	bool found;
	struct enrp_request *out;
};

static int find_cb(const struct enrp_request *r, void *arg)
{
	struct find_ctx *f = arg;
	if ((r->state == ENRP_REQUEST_PENDING || r->state == ENRP_REQUEST_APPROVED) &&
	    matches(r, f->action, f->eir, f->target, f->person)) {
		*f->out = *r;
		f->found = true;
	}
	return 0;
}

int enrp_request_find(enrp_store *st, const char *action, const char *eir, const char *target,
                      int64_t now_ns, const struct enrp_actor *actor, struct enrp_request *out)
{
	struct find_ctx f = { action, eir, target, enrp_person_of(actor), false, out };
	int rc = enrp_request_list(st, now_ns, find_cb, &f);
	return rc ? rc : f.found ? 0 : -ENOENT;
}

int request_consume_txn(enrp_txn *t, const char *action, const char *eir, const char *target,
                        int64_t now_ns, const struct enrp_actor *actor, struct enrp_request *out)
{
	struct walk w = { .now = now_ns };
	int rc = walk_fn(t, &w);
	uint32_t person = enrp_person_of(actor);
	struct enrp_request *best = NULL;
	for (size_t i = 0; !rc && i < w.n; i++) {
		struct enrp_request *r = &w.v[i];
		as_of(r, now_ns);
		if (r->state == ENRP_REQUEST_APPROVED && matches(r, action, eir, target, person))
			best = r; /* the newest: ids rise */
	}
	if (!rc && !best)
		rc = -ENOENT;
	if (!rc) {
		best->state = ENRP_REQUEST_USED;
		best->used = now_ns;
		rc = put_txn(t, best);
		if (!rc && out)
			*out = *best;
	}
	free(w.v);
	return rc;
}

struct consume_ctx {
	const char *action, *eir, *target;
	int64_t now;
	const struct enrp_actor *actor;
	struct enrp_request *out;
};

static int consume_fn(enrp_txn *t, void *arg)
{
	struct consume_ctx *c = arg;
	return request_consume_txn(t, c->action, c->eir, c->target, c->now, c->actor, c->out);
}

int enrp_request_consume(enrp_store *st, const char *action, const char *eir,
                         const char *target, int64_t now_ns, const struct enrp_actor *actor,
                         struct enrp_request *out)
{
	struct consume_ctx c = { action, eir, target, now_ns, actor, out };
	return enrp_store_write(st, consume_fn, &c);
}
