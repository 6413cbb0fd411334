/*
 * test_mfa.c — TOTP (core/mfa.c): RFC 6238's SHA-1 test vectors (8 digits,
 * which liboath generates as well as the 6 enrp asks for); the window of
 * one step either way and no more; a code is good once, and never one
 * older than the last used; per-person secrets in an unencrypted and an
 * encrypted store (wrapped: the bytes are not in the store, and without the
 * master key nothing verifies); the lock-out guards of on and remove; every
 * refusal journalled "mfa-failed" with its why.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <enrp/approval.h>
#include <enrp/eir.h>
#include <enrp/enrp.h>
#include <enrp/journal.h>
#include <enrp/mfa.h>
#include <enrp/vault.h>

#include "record_int.h"
#include "store_int.h"

#include "../tap.h"
#include "journal_last.h"

#define SEC 1000000000LL

static void bail(const char *why)
{
	printf("Bail out! %s\n", why);
	exit(1);
}

static struct enrp_actor person(uint32_t login_uid)
{
	struct enrp_actor a;
	enrp_actor_self(&a, "test_mfa");
	a.uid = 0;
	a.login_uid = login_uid;
	a.sudo_uid = ENRP_NO_UID;
	a.sudo_user[0] = '\0';
	return a;
}

static void rfc6238(void)
{
	static const struct {
		int64_t t;
		const char *code;
	} v[] = {
		{ 59, "94287082" },         { 1111111109, "07081804" }, { 1111111111, "14050471" },
		{ 1234567890, "89005924" }, { 2000000000, "69279037" }, { 20000000000LL, "65353130" },
	};
	const uint8_t *key = (const uint8_t *)"12345678901234567890";
	char out[9];
	uint64_t step = 0;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		is_int(enrp_totp_code(key, 20, v[i].t, 8, out), 0, "code at T=%lld", (long long)v[i].t);
		is_str(out, v[i].code, "RFC 6238 SHA-1 vector T=%lld", (long long)v[i].t);
		is_int(enrp_totp_match(key, 20, v[i].t, 8, 0, v[i].code, &step), 0, "it matches");
		is_int((long long)step, v[i].t / 30, "at step T/30");
	}
	/* 6 digits are the last 6 of the 8 (same truncation, smaller modulus). */
	is_int(enrp_totp_code(key, 20, 59, 6, out), 0, "6 digits at T=59");
	is_str(out, "287082", "the last six digits of the vector");
	is_int(enrp_totp_code(key, 20, 59, 5, out), -EINVAL, "5 digits: -EINVAL");

	/* The window: one step either way, not two. */
	int64_t t = 1111111111; /* step 37037037, 1 s into it */
	char prev[7], next[7], far[7];
	enrp_totp_code(key, 20, t - 30, 6, prev);
	enrp_totp_code(key, 20, t + 30, 6, next);
	enrp_totp_code(key, 20, t + 60, 6, far);
	is_int(enrp_totp_match(key, 20, t, 6, 1, prev, &step), 0, "the previous step's code");
	is_int((long long)step, t / 30 - 1, "reported as that step");
	is_int(enrp_totp_match(key, 20, t, 6, 1, next, &step), 0, "the next step's code");
	is_int((long long)step, t / 30 + 1, "reported as that step");
	is_int(enrp_totp_match(key, 20, t, 6, 1, far, &step), -EACCES, "two steps ahead: -EACCES");
	is_int(enrp_totp_match(key, 20, t, 6, 0, prev, &step), -EACCES,
	       "the previous step with no window: -EACCES");
	is_int(enrp_totp_match(key, 20, t, 6, 1, "12345", &step), -EINVAL, "5 digits: -EINVAL");
	is_int(enrp_totp_match(key, 20, t, 6, 1, "12345a", &step), -EINVAL, "a letter: -EINVAL");
	is_int(enrp_totp_match(key, 20, t, 6, 1, " 28708", &step), -EINVAL, "a blank: -EINVAL");
	is_int(enrp_totp_match(key, 20, t, 6, 1, NULL, &step), -EINVAL, "none: -EINVAL");

	char b32[ENRP_MFA_BASE32_MAX];
	is_int(enrp_mfa_base32(key, 20, b32, sizeof(b32)), 0, "base32");
	is_str(b32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "RFC 4648 base32 of the RFC's key");
	is_int(enrp_mfa_base32(key, 20, b32, 32), -ENOSPC, "a buffer without room for the NUL");
}

/* Whether the N bytes at P occur in any DBI_META value. */
struct find {
	const uint8_t *p;
	size_t n;
	bool found;
};

static int find_fn(enrp_txn *t, void *arg)
{
	struct find *f = arg;
	MDB_cursor *cur;
	MDB_val k, v;
	if (txn_cursor(t, DBI_META, &cur))
		return -EIO;
	for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		if (v.mv_size >= f->n && memmem(v.mv_data, v.mv_size, f->p, f->n))
			f->found = true;
	mdb_cursor_close(cur);
	return 0;
}

static int count_cb(const struct enrp_mfa_person *p, void *arg)
{
	(void)p;
	(*(int *)arg)++;
	return 0;
}

static void with_store(const char *dir, bool encrypt)
{
	char path[512], key[512], code[7];
	enrp_store *st;
	enrp_vault *v;
	struct enrp_actor alice = person(1001), bob = person(1002), carol = person(1003);
	uint8_t sa[ENRP_MFA_SECRET_LEN], sb[ENRP_MFA_SECRET_LEN];
	const char *kind = encrypt ? "encrypted" : "plain";
	int64_t now = 1700000000LL * SEC + 5 * SEC; /* 5 s into a step */
	bool on = true;

	snprintf(path, sizeof(path), "%s/%s", dir, kind);
	snprintf(key, sizeof(key), "%s/%s.key", dir, kind);
	if (enrp_store_create(path) || enrp_store_open(path, 0, &st))
		bail("cannot create a store");
	if (encrypt && enrp_vault_init(st, key))
		bail("cannot encrypt the store");
	if (enrp_vault_open(st, NULL, &v))
		bail("cannot open the vault");

	is_int(enrp_mfa_enabled(st, &on), 0, "%s: MFA state", kind);
	ok(!on, "off in a new store");
	if (encrypt)
		is_int(enrp_mfa_enroll(st, NULL, 1001, "alice", now, &alice, sa), -ENOKEY,
		       "enroll in an encrypted store without its key: -ENOKEY");
	is_int(enrp_mfa_enroll(st, v, 1001, "alice", now, &alice, sa), 0, "enroll alice");
	is_str(journal_last_of(st).rec.event, "mfa-enroll", "journalled mfa-enroll");
	struct last before = journal_last_of(st);
	is_int(enrp_mfa_enroll(st, v, 1001, "alice", now, &alice, sb), -EEXIST,
	       "enroll alice twice: -EEXIST");
	is_int((int)journal_last_of(st).n, (int)before.n, "journals nothing");
	is_int(enrp_mfa_set(st, true, &alice), -EBUSY, "on with one person enrolled: -EBUSY");
	is_int(enrp_mfa_enroll(st, v, 1002, "bob", now, &bob, sb), 0, "enroll bob");
	ok(memcmp(sa, sb, sizeof(sa)), "their secrets differ");

	struct find f = { sa, sizeof(sa), false };
	enrp_store_read(st, find_fn, &f);
	ok(f.found == !encrypt, "%s: alice's secret bytes %s in the store", kind,
	   encrypt ? "are not" : "are");

	int64_t t = now / SEC;
	enrp_totp_code(sa, sizeof(sa), t, 6, code);
	is_int(enrp_mfa_verify(st, v, code, now, &alice, "test"), 0, "alice's code now");
	before = journal_last_of(st);
	is_int(enrp_mfa_verify(st, v, code, now, &alice, "test"), -EALREADY, "replayed: -EALREADY");
	ok(journal_last_of(st).n == before.n + 1 &&
	       !strcmp(journal_last_of(st).rec.event, "mfa-failed") &&
	       strstr(journal_last_of(st).rec.details, "why=replayed"),
	   "journalled mfa-failed why=replayed (%s)", journal_last_of(st).rec.details);
	is_int(enrp_mfa_verify(st, v, code, now + 30 * SEC, &alice, "test"), -EALREADY,
	       "still refused a step later (inside the window)");
	enrp_totp_code(sa, sizeof(sa), t - 30, 6, code);
	is_int(enrp_mfa_verify(st, v, code, now, &alice, "test"), -EALREADY,
	       "an older step's code after a newer one: -EALREADY");
	enrp_totp_code(sa, sizeof(sa), t + 30, 6, code);
	is_int(enrp_mfa_verify(st, v, code, now, &alice, "test"), 0, "the next step's code, once");
	enrp_totp_code(sa, sizeof(sa), t + 90, 6, code);
	is_int(enrp_mfa_verify(st, v, code, now, &alice, "test"), -EACCES,
	       "three steps ahead: -EACCES");
	ok(strstr(journal_last_of(st).rec.details, "why=wrong") != NULL, "why=wrong");
	/* Bob's code is not alice's: secrets are per person. */
	enrp_totp_code(sb, sizeof(sb), t + 120, 6, code);
	is_int(enrp_mfa_verify(st, v, code, now + 120 * SEC, &alice, "test"), -EACCES,
	       "bob's code for alice: -EACCES");
	is_int(enrp_mfa_verify(st, v, code, now + 120 * SEC, &bob, "test"), 0, "is bob's");
	is_int(enrp_mfa_verify(st, v, NULL, now, &bob, "test"), -EINVAL, "no code: -EINVAL");
	ok(strstr(journal_last_of(st).rec.details, "why=missing") != NULL, "why=missing");
	is_int(enrp_mfa_verify(st, v, "12a456", now, &bob, "test"), -EINVAL,
	       "malformed: -EINVAL");
	is_int(enrp_mfa_verify(st, v, "123456", now, &carol, "approve 7"), -ENOENT,
	       "carol is not enrolled: -ENOENT");
	ok(strstr(journal_last_of(st).rec.details, "why=not-enrolled") &&
	       strstr(journal_last_of(st).rec.details, "what=\"approve 7\""),
	   "why=not-enrolled, what (%s)", journal_last_of(st).rec.details);
	if (encrypt) {
		enrp_totp_code(sb, sizeof(sb), t + 150, 6, code);
		is_int(enrp_mfa_verify(st, NULL, code, now + 150 * SEC, &bob, "test"), -ENOKEY,
		       "without the master key nothing verifies: -ENOKEY");
	}

	int n = 0;
	is_int(enrp_mfa_list(st, count_cb, &n), 0, "list");
	is_int(n, 2, "two enrolled");
	is_int(enrp_mfa_set(st, true, &alice), 0, "on with two");
	is_str(journal_last_of(st).rec.event, "mfa-set", "journalled mfa-set");
	is_int(enrp_mfa_enabled(st, &on), 0, "state");
	ok(on, "on");
	is_int(enrp_mfa_remove(st, 1002, &alice), -EBUSY,
	       "removing bob would leave one: -EBUSY while on");
	is_int(enrp_mfa_remove(st, 1003, &alice), -ENOENT, "carol is not enrolled: -ENOENT");
	is_int(enrp_mfa_set(st, false, &alice), 0, "off");
	is_int(enrp_mfa_remove(st, 1002, &alice), 0, "then bob can be removed");
	is_str(journal_last_of(st).rec.event, "mfa-remove", "journalled mfa-remove");
	enrp_totp_code(sb, sizeof(sb), t + 180, 6, code);
	is_int(enrp_mfa_verify(st, v, code, now + 180 * SEC, &bob, "test"), -ENOENT,
	       "a removed person's code: -ENOENT");
	enrp_vault_close(v);
	enrp_store_close(st);
}

int main(void)
{
	const char *tmp = tap_tmpdir();
	if (!tmp)
		bail("cannot make a temporary directory");
	rfc6238();
	with_store(tmp, false);
	with_store(tmp, true);
	tap_rmrf(tmp);
	return done_testing();
}
