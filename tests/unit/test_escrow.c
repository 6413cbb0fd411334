/*
 * test_escrow.c — requests and approvals (four eyes) and escrow deposits on
 * a real encrypted store: who counts as a person; a requester never
 * approves their own request; an approval opens one get, by the requester,
 * before expiry; a deposit's blob is bound to its slot (a value moved to
 * another id does not open); an unencrypted store refuses escrow; every
 * error is its exact -errno and journals nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/approval.h>
#include <enrp/eir.h>
#include <enrp/enrp.h>
#include <enrp/escrow.h>
#include <enrp/journal.h>
#include <enrp/vault.h>

#include "record_int.h"
#include "store_int.h"

#include "../tap.h"
#include "journal_last.h"

#define HOUR (3600LL * 1000000000LL)

static enrp_store *st;

static struct enrp_actor person(uint32_t login_uid)
{
	struct enrp_actor a;
	enrp_actor_self(&a, "test_escrow");
	a.uid = 0;
	a.login_uid = login_uid;
	a.sudo_uid = ENRP_NO_UID;
	a.sudo_user[0] = '\0';
	return a;
}

static void bail(const char *why)
{
	printf("Bail out! %s\n", why);
	exit(1);
}

static void persons(void)
{
	struct enrp_actor a = person(ENRP_NO_UID);
	is_int((int)enrp_person_of(&a), 0, "no login uid, no sudo: the uid");
	a.sudo_uid = 1005;
	is_int((int)enrp_person_of(&a), 1005, "sudo: the sudo uid");
	a.login_uid = 1001;
	is_int((int)enrp_person_of(&a), 1001, "a login uid wins (kept across su and sudo)");
}

/* Moves the value of deposit FROM to the key of deposit TO (an attacker
 * with the store's files swapping blobs). */
struct swap {
	uint32_t eir;
	uint64_t from, to;
};

static int swap_fn(enrp_txn *t, void *arg)
{
	struct swap *s = arg;
	uint8_t kf[13], kt[13];
	be32_put(kf, s->eir);
	kf[4] = 'e';
	be64_put(kf + 5, s->from);
	memcpy(kt, kf, 5);
	be64_put(kt + 5, s->to);
	MDB_val v;
	int rc = txn_get(t, DBI_KEYS, kf, sizeof(kf), &v);
	if (rc)
		return rc;
	void *copy = malloc(v.mv_size);
	memcpy(copy, v.mv_data, v.mv_size);
	rc = txn_put(t, DBI_KEYS, kt, sizeof(kt), copy, v.mv_size, 0);
	free(copy);
	return rc;
}

static void four_eyes_and_escrow(const char *dir)
{
	char path[512], key[512];
	enrp_vault *v;
	struct enrp_eir spec, e;
	struct enrp_actor alice = person(1001), bob = person(1002);
	int64_t now = enrp_now_ns();
	uint64_t id1 = 0, id2 = 0, req = 0;
	uint8_t *out = NULL;
	size_t n = 0;
	struct enrp_request r;
	const char secret[] = "passphrase of pop's dumps";

	snprintf(path, sizeof(path), "%s/plain", dir);
	if (enrp_store_create(path) || enrp_store_open(path, 0, &st))
		bail("cannot create a store");
	enrp_eir_defaults(&spec, "pop");
	is_int(enrp_eir_create(st, &spec, &alice, NULL), 0, "create pop (unencrypted store)");
	is_int(enrp_vault_open(st, NULL, &v), 0, "its vault");
	is_int(enrp_escrow_put(st, v, "pop", "k", secret, sizeof(secret), "r", now, &alice, &id1),
	       -ENOKEY, "escrow in an unencrypted store: -ENOKEY");
	enrp_vault_close(v);
	enrp_store_close(st);

	snprintf(path, sizeof(path), "%s/enc", dir);
	snprintf(key, sizeof(key), "%s/master.key", dir);
	if (enrp_store_create(path) || enrp_store_open(path, 0, &st))
		bail("cannot create a store");
	is_int(enrp_vault_init(st, key), 0, "an encrypted store");
	is_int(enrp_vault_open(st, NULL, &v), 0, "its vault");
	is_int(enrp_eir_create(st, &spec, &alice, NULL), 0, "create pop");
	is_int(enrp_eir_get(st, "pop", &e), 0, "pop");

	struct last before = journal_last_of(st);
	is_int(enrp_escrow_put(st, v, "pop", "k", secret, 0, "r", now, &alice, &id1), -EINVAL,
	       "nothing to deposit: -EINVAL");
	is_int(enrp_escrow_put(st, v, "pop", "", secret, sizeof(secret), "r", now, &alice, &id1),
	       -EINVAL, "no name: -EINVAL");
	is_int(enrp_escrow_put(st, v, "nope", "k", secret, sizeof(secret), "r", now, &alice, &id1),
	       -ENOENT, "no such EIR: -ENOENT");
	is_int((int)journal_last_of(st).n, (int)before.n, "refusals journal nothing");

	is_int(enrp_escrow_put(st, v, "pop", "k1", secret, sizeof(secret), "dump key", now, &alice,
	                       &id1),
	       0, "deposit 1");
	is_int(enrp_escrow_put(st, v, "pop", "k2", "other", 5, "dump key", now, &alice, &id2), 0,
	       "deposit 2");
	is_str(journal_last_of(st).rec.event, "escrow-put", "journalled escrow-put");

	char target[32];
	snprintf(target, sizeof(target), "%llu", (unsigned long long)id1);
	is_int(enrp_escrow_get(st, v, "pop", id1, "drill", now, &alice, &out, &n, NULL), -EACCES,
	       "get without an approved request: -EACCES");
	is_int(enrp_request_create(st, "escrow-get", "pop", target, "drill", now, &alice, &req), 0,
	       "alice requests it");
	is_int(enrp_escrow_get(st, v, "pop", id1, "drill", now, &alice, &out, &n, NULL), -EACCES,
	       "pending is not approved: -EACCES");
	is_int(enrp_request_decide(st, req, true, NULL, now, &alice), -EPERM,
	       "alice approving her own: -EPERM");
	struct enrp_actor alice_via_sudo = person(ENRP_NO_UID);
	alice_via_sudo.sudo_uid = 1001;
	is_int(enrp_request_decide(st, req, true, NULL, now, &alice_via_sudo), -EPERM,
	       "nor as herself through sudo: -EPERM");
	is_int(enrp_request_decide(st, req, true, NULL, now + 25 * HOUR, &bob), -ETIME,
	       "bob, 25 hours later: -ETIME");
	is_int(enrp_request_decide(st, req, true, "ok", now, &bob), 0, "bob approves");
	is_int(enrp_request_decide(st, req, false, NULL, now, &bob), -EALREADY,
	       "decided twice: -EALREADY");
	is_int(enrp_request_decide(st, 999, true, NULL, now, &bob), -ENOENT, "no request: -ENOENT");
	is_int(enrp_escrow_get(st, v, "pop", id1, "curious", now, &bob, &out, &n, NULL), -EACCES,
	       "bob cannot use alice's approval");
	is_int(enrp_escrow_get(st, v, "pop", id1, "drill", now + 25 * HOUR, &alice, &out, &n, NULL),
	       -EACCES, "nor alice after expiry");
	is_int(enrp_escrow_get(st, v, "pop", id2, "drill", now, &alice, &out, &n, NULL), -EACCES,
	       "nor for another deposit");
	is_int(enrp_escrow_get(st, v, "pop", id1, "drill", now, &alice, &out, &n, &r), 0,
	       "alice gets deposit 1");
	ok(n == sizeof(secret) && out && !memcmp(out, secret, n), "its bytes");
	ok(r.id == req && r.decider == 1002, "with the request it used, approved by 1002 (%s)",
	   r.decider_name);
	enrp_master_buf_free(out, n);
	out = NULL;
	is_str(journal_last_of(st).rec.event, "escrow-get", "journalled escrow-get");
	is_int(enrp_request_get(st, req, now, &r), 0, "the request");
	is_int(r.state, ENRP_REQUEST_USED, "is used");
	is_int(enrp_escrow_get(st, v, "pop", id1, "drill", now, &alice, &out, &n, NULL), -EACCES,
	       "once");

	/* A blob moved to another slot does not open. */
	struct swap sw = { e.id, id1, id2 };
	is_int(enrp_store_write(st, swap_fn, &sw), 0, "deposit 1's value written over deposit 2");
	snprintf(target, sizeof(target), "%llu", (unsigned long long)id2);
	is_int(enrp_request_create(st, "escrow-get", "pop", target, "drill", now, &alice, &req), 0,
	       "request deposit 2");
	is_int(enrp_request_decide(st, req, true, NULL, now, &bob), 0, "approved");
	is_int(enrp_escrow_get(st, v, "pop", id2, "drill", now, &alice, &out, &n, NULL),
	       -EKEYREJECTED, "the moved blob does not open: -EKEYREJECTED");
	is_int(enrp_request_get(st, req, now, &r), 0, "the request");
	is_int(r.state, ENRP_REQUEST_APPROVED, "is not spent by the failure");

	enrp_vault_close(v);
	enrp_store_close(st);
}

int main(void)
{
	const char *tmp = tap_tmpdir();
	if (!tmp) {
		printf("Bail out! cannot make a temporary directory\n");
		return 1;
	}
	persons();
	four_eyes_and_escrow(tmp);
	tap_rmrf(tmp);
	return done_testing();
}
