/*
 * mfa.h — a second factor for administrators (issue 11 item 7): with MFA on
 * (`enrpctl mfa on`, the store-wide "--mfa"), approving or rejecting a
 * request, and every administrator verb once roles exist, needs a TOTP code
 * (RFC 6238: HMAC-SHA-1, 30-second steps, 6 digits, one step of clock skew
 * either way) from the person doing it (enrp_person_of).
 *
 * Each person has one secret (20 random bytes, the RFC 4226 size), made by
 * enrp_mfa_enroll and shown once for their authenticator app.  Kept in
 * DBI_META under "mfa:" + be32(person): a description (key=value pairs),
 * a NUL, then the secret — wrapped by the master key when the store is
 * encrypted, as is otherwise (then only the store's file permissions keep
 * it: docs/design.md, "MFA").  No store format change.
 *
 * A code is good once: the step it matched is kept, and a code for the same
 * or an earlier step is refused (-EALREADY), so a code read over a
 * shoulder or from a log cannot be used again.
 *
 * Lock-out: MFA can be turned on only when at least ENRP_MFA_MIN_PEOPLE
 * people are enrolled (four eyes needs two anyway) and the one turning it
 * on proves their own code; while it is on, nobody can remove an enrolled
 * person if fewer would remain, and turning it off needs a code too.
 */
#ifndef ENRP_MFA_H
#define ENRP_MFA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <enrp/eir.h>
#include <enrp/store.h>
#include <enrp/vault.h>

#define ENRP_MFA_SECRET_LEN 20
#define ENRP_MFA_DIGITS 6
#define ENRP_MFA_STEP 30   /* seconds */
#define ENRP_MFA_WINDOW 1  /* steps accepted either side of now */
#define ENRP_MFA_MIN_PEOPLE 2
/* Base32 of the secret: 32 characters for 20 bytes, and a NUL. */
#define ENRP_MFA_BASE32_MAX 64

/* --- RFC 6238, pure (liboath underneath) -------------------------------- */

/* The DIGITS-digit (6 to 8) TOTP code of SECRET (N bytes) at T (seconds
 * since the epoch) into OUT (DIGITS + 1 bytes).  -EINVAL bad DIGITS, -EIO. */
int enrp_totp_code(const uint8_t *secret, size_t n, int64_t t, unsigned digits, char *out);

/* Whether CODE (DIGITS decimal digits exactly) is SECRET's code for a step
 * within WINDOW steps of the one holding NOW_S; *STEP gets the step it
 * matched (T / 30).  0; -EINVAL CODE is not DIGITS digits; -EACCES no
 * match. */
int enrp_totp_match(const uint8_t *secret, size_t n, int64_t now_s, unsigned digits,
                    unsigned window, const char *code, uint64_t *step);

/* SECRET (N bytes) in RFC 4648 base32 without padding, into OUT (SIZE
 * bytes).  -ENOSPC, -ENOMEM. */
int enrp_mfa_base32(const uint8_t *secret, size_t n, char *out, size_t size);

/* --- per person, in the store ------------------------------------------- */

struct enrp_mfa_person {
	uint32_t person;        /* uid */
	char name[64];          /* account name when enrolled */
	int64_t enrolled;       /* ns since the epoch */
	char by[64];            /* who enrolled them */
	uint64_t last_step;     /* of the last code accepted; 0 none yet */
	bool wrapped;           /* the secret is wrapped by the master key */
};

/* Whether MFA is on for ST. */
int enrp_mfa_enabled(enrp_store *st, bool *on);

/* Makes PERSON's secret (NAME: their account name, for the listing and the
 * authenticator's label) and returns it in SECRET.  V is the open vault
 * (enrp_vault_open); for an encrypted store the secret is wrapped by its
 * master key.  Journalled "mfa-enroll".  -EEXIST already enrolled (remove
 * first); -ENOKEY the store is encrypted and V has no master key; -ENOSPC,
 * -EIO. */
int enrp_mfa_enroll(enrp_store *st, const enrp_vault *v, uint32_t person, const char *name,
                    int64_t now_ns, const struct enrp_actor *actor,
                    uint8_t secret[ENRP_MFA_SECRET_LEN]);

/* Forgets PERSON's secret.  Journalled "mfa-remove".  -ENOENT not
 * enrolled; -EBUSY MFA is on and fewer than ENRP_MFA_MIN_PEOPLE would
 * remain. */
int enrp_mfa_remove(enrp_store *st, uint32_t person, const struct enrp_actor *actor);

/* Turns MFA on or off.  Journalled "mfa-set" (also when unchanged: someone
 * asked).  -EBUSY turning it on with fewer than ENRP_MFA_MIN_PEOPLE
 * enrolled. */
int enrp_mfa_set(enrp_store *st, bool on, const struct enrp_actor *actor);

/* Calls CB for every enrolled person, by uid. */
int enrp_mfa_list(enrp_store *st, int (*cb)(const struct enrp_mfa_person *p, void *arg),
                  void *arg);

/* Checks CODE for ACTOR's person at NOW_NS and, when good, keeps its step
 * (the replay guard).  WHAT names what the code is for ("approve 3"), for
 * the journal.  A refusal is journalled "mfa-failed" (person, what, why:
 * not-enrolled, malformed, wrong, replayed, missing — CODE NULL is
 * "missing"); success is not journalled on its own, the action it allows
 * is.  0; -ENOENT not enrolled; -EINVAL malformed or missing code;
 * -EACCES wrong code; -EALREADY a code for that step or a later one was
 * already used; -ENOKEY the secret is wrapped and V has no master key;
 * -EKEYREJECTED the master key does not unwrap it; -EIO. */
int enrp_mfa_verify(enrp_store *st, const enrp_vault *v, const char *code, int64_t now_ns,
                    const struct enrp_actor *actor, const char *what);

#endif
