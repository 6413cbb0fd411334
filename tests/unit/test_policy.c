/*
 * test_policy.c — the access decision against DESIGN.md §4, exhaustively.
 *
 * The expectation is a literal table written from the DESIGN table, not
 * derived from policy.c's logic: one row per (state, mode, op), one column
 * per (caller kind, escalation, hold).  Codes: '.' allowed, 'A' EACCES,
 * 'R' EROFS, 'P' EPERM, 'N' ENOENT.
 */
#include <errno.h>

#include <enrp/policy.h>

#include "../tap.h"

#define NOW 1000000000000000000LL /* 2001-09-09, any fixed instant */
#define OWNER 1000
#define OTHER 1001
#define AGENT 2000

enum kind { K_OWNER, K_OTHER, K_ROOT, K_AGENT, K_COUNT };
static const char *const kind_names[K_COUNT] = { "owner", "other", "root", "agent" };
static const uint32_t kind_uid[K_COUNT] = { OWNER, OTHER, 0, AGENT };

enum esc { E_NONE, E_ACTIVE, E_EXPIRED, E_COUNT };
static const char *const esc_names[E_COUNT] = { "not escalated", "escalated", "escalation expired" };

/*
 * Columns, per caller kind (owner other root agent), six each:
 *   not escalated (free, held), escalated (free, held), expired (free, held)
 */
struct row {
	enum enrp_state state;
	enum enrp_mode mode;
	enum enrp_op op;
	const char *expect; /* 4 groups of 6, separated by spaces */
};

#define S_N ENRP_STATE_NORMAL
#define S_S ENRP_STATE_SUSPENDED
#define S_R ENRP_STATE_RETIRED
#define S_D ENRP_STATE_DESTROYED
#define M_RW ENRP_MODE_RW
#define M_WO ENRP_MODE_WO
#define M_RO ENRP_MODE_RO
#define M_AC ENRP_MODE_ACTIVE
#define O_I ENRP_OP_INSPECT
#define O_R ENRP_OP_READ
#define O_W ENRP_OP_WRITE
#define O_X ENRP_OP_REMOVE

static const struct row table[] = {
	/*                        owner  other  root   agent */
	{ S_N, M_RW, O_I, "...... ...... ...... ......" },
	{ S_N, M_RW, O_R, "...... ...... ...... ......" },
	{ S_N, M_RW, O_W, ".P.P.P .P.P.P .P.P.P .P.P.P" },
	{ S_N, M_RW, O_X, ".P.P.P .P.P.P .P.P.P .P.P.P" },
	{ S_N, M_WO, O_I, "...... ...... ...... ......" },
	{ S_N, M_WO, O_R, "AAAAAA AAAAAA AAAAAA AAAAAA" },
	{ S_N, M_WO, O_W, ".P.P.P .P.P.P .P.P.P .P.P.P" },
	{ S_N, M_WO, O_X, ".P.P.P .P.P.P .P.P.P .P.P.P" },
	{ S_N, M_RO, O_I, "...... ...... ...... ......" },
	{ S_N, M_RO, O_R, "...... ...... ...... ......" },
	{ S_N, M_RO, O_W, "RRRRRR RRRRRR RRRRRR RRRRRR" },
	{ S_N, M_RO, O_X, "RRRRRR RRRRRR RRRRRR RRRRRR" },
	{ S_N, M_AC, O_I, "...... ...... ...... ......" },
	{ S_N, M_AC, O_R, "...... ...... ...... ......" },
	{ S_N, M_AC, O_W, "RR.PRR RR.PRR RR.PRR .P.P.P" },
	{ S_N, M_AC, O_X, "RR.PRR RR.PRR RR.PRR .P.P.P" },

	{ S_S, M_RW, O_I, "...... ...... ...... ......" },
	{ S_S, M_RW, O_R, "...... ...... ...... ......" },
	{ S_S, M_RW, O_W, "RRRRRR RRRRRR RRRRRR RRRRRR" },
	{ S_S, M_RW, O_X, "RRRRRR RRRRRR RRRRRR RRRRRR" },
	{ S_S, M_WO, O_I, "...... ...... ...... ......" },
	{ S_S, M_WO, O_R, "AAAAAA AAAAAA AAAAAA AAAAAA" },
	{ S_S, M_WO, O_W, "RRRRRR RRRRRR RRRRRR RRRRRR" },
	{ S_S, M_WO, O_X, "RRRRRR RRRRRR RRRRRR RRRRRR" },
	{ S_S, M_RO, O_I, "...... ...... ...... ......" },
	{ S_S, M_RO, O_R, "...... ...... ...... ......" },
	{ S_S, M_RO, O_W, "RRRRRR RRRRRR RRRRRR RRRRRR" },
	{ S_S, M_RO, O_X, "RRRRRR RRRRRR RRRRRR RRRRRR" },
	{ S_S, M_AC, O_I, "...... ...... ...... ......" },
	{ S_S, M_AC, O_R, "...... ...... ...... ......" },
	{ S_S, M_AC, O_W, "RRRRRR RRRRRR RRRRRR RRRRRR" },
	{ S_S, M_AC, O_X, "RRRRRR RRRRRR RRRRRR RRRRRR" },

	{ S_R, M_RW, O_I, "...... ...... ...... ......" },
	{ S_R, M_RW, O_R, "...... ...... ...... ......" },
	{ S_R, M_RW, O_W, "RRRRRR RRRRRR RRRRRR RRRRRR" },
	{ S_R, M_RW, O_X, "RRRRRR RRRRRR RRRRRR RRRRRR" },
	{ S_R, M_WO, O_I, "...... ...... ...... ......" },
	{ S_R, M_WO, O_R, "AAAAAA AAAAAA AAAAAA AAAAAA" },
	{ S_R, M_WO, O_W, "RRRRRR RRRRRR RRRRRR RRRRRR" },
	{ S_R, M_WO, O_X, "RRRRRR RRRRRR RRRRRR RRRRRR" },
	{ S_R, M_RO, O_I, "...... ...... ...... ......" },
	{ S_R, M_RO, O_R, "...... ...... ...... ......" },
	{ S_R, M_RO, O_W, "RRRRRR RRRRRR RRRRRR RRRRRR" },
	{ S_R, M_RO, O_X, "RRRRRR RRRRRR RRRRRR RRRRRR" },
	{ S_R, M_AC, O_I, "...... ...... ...... ......" },
	{ S_R, M_AC, O_R, "...... ...... ...... ......" },
	{ S_R, M_AC, O_W, "RRRRRR RRRRRR RRRRRR RRRRRR" },
	{ S_R, M_AC, O_X, "RRRRRR RRRRRR RRRRRR RRRRRR" },

	{ S_D, M_RW, O_I, "NNNNNN NNNNNN NNNNNN NNNNNN" },
	{ S_D, M_RW, O_R, "NNNNNN NNNNNN NNNNNN NNNNNN" },
	{ S_D, M_RW, O_W, "NNNNNN NNNNNN NNNNNN NNNNNN" },
	{ S_D, M_RW, O_X, "NNNNNN NNNNNN NNNNNN NNNNNN" },
	{ S_D, M_WO, O_I, "NNNNNN NNNNNN NNNNNN NNNNNN" },
	{ S_D, M_WO, O_R, "NNNNNN NNNNNN NNNNNN NNNNNN" },
	{ S_D, M_WO, O_W, "NNNNNN NNNNNN NNNNNN NNNNNN" },
	{ S_D, M_WO, O_X, "NNNNNN NNNNNN NNNNNN NNNNNN" },
	{ S_D, M_RO, O_I, "NNNNNN NNNNNN NNNNNN NNNNNN" },
	{ S_D, M_RO, O_R, "NNNNNN NNNNNN NNNNNN NNNNNN" },
	{ S_D, M_RO, O_W, "NNNNNN NNNNNN NNNNNN NNNNNN" },
	{ S_D, M_RO, O_X, "NNNNNN NNNNNN NNNNNN NNNNNN" },
	{ S_D, M_AC, O_I, "NNNNNN NNNNNN NNNNNN NNNNNN" },
	{ S_D, M_AC, O_R, "NNNNNN NNNNNN NNNNNN NNNNNN" },
	{ S_D, M_AC, O_W, "NNNNNN NNNNNN NNNNNN NNNNNN" },
	{ S_D, M_AC, O_X, "NNNNNN NNNNNN NNNNNN NNNNNN" },
};

#define NROWS (sizeof(table) / sizeof(table[0]))

static int code_errno(char c)
{
	switch (c) {
	case '.': return 0;
	case 'A': return -EACCES;
	case 'R': return -EROFS;
	case 'P': return -EPERM;
	case 'N': return -ENOENT;
	default: return 1; /* a typo in the table fails loudly */
	}
}

static void eir_for(struct enrp_eir *e, enum enrp_state state, enum enrp_mode mode,
                    enum esc esc)
{
	enrp_eir_defaults(e, "policy");
	e->id = 1;
	e->owner_uid = OWNER;
	e->owner_gid = OWNER;
	e->agent_uid = AGENT;
	e->state = state;
	e->mode = mode;
	e->escalated_until = esc == E_ACTIVE ? NOW + 1 : esc == E_EXPIRED ? NOW : 0;
}

/* Every combination, checked in one assertion per row so the TAP output
 * stays readable; a failing combination is named in a diag line. */
static void full_table(void)
{
	bool seen[4][4][4] = { { { false } } };

	for (size_t r = 0; r < NROWS; r++) {
		const struct row *row = &table[r];
		int bad = 0;

		seen[row->state][row->mode][row->op] = true;
		for (int k = 0; k < K_COUNT; k++) {
			for (int es = 0; es < E_COUNT; es++) {
				for (int held = 0; held < 2; held++) {
					struct enrp_eir e;
					struct enrp_caller c = { kind_uid[k], kind_uid[k], 4242 };
					char code = row->expect[k * 7 + es * 2 + held];
					int want = code_errno(code);
					eir_for(&e, row->state, row->mode, (enum esc)es);
					unsigned flags = held ? ENRP_POLICY_HELD : 0;
					int got = enrp_policy_check(&e, row->op, &c, NOW, flags);
					if (got != want) {
						bad++;
						diag("%s %s %s by %s, %s, %s: got %d want %d",
						     enrp_state_name(row->state), enrp_mode_name(row->mode),
						     enrp_op_name(row->op), kind_names[k], esc_names[es],
						     held ? "held" : "not held", got, want);
					}
				}
			}
		}
		ok(bad == 0, "%s/%s/%s: all 24 caller combinations", enrp_state_name(row->state),
		   enrp_mode_name(row->mode), enrp_op_name(row->op));
	}

	int missing = 0;
	for (int s = 0; s < 4; s++)
		for (int m = 0; m < 4; m++)
			for (int o = 0; o < 4; o++)
				missing += !seen[s][m][o];
	is_int(missing, 0, "the table covers every state x mode x op");
}

static void edges(void)
{
	struct enrp_eir e;
	struct enrp_caller nobody = { ENRP_NO_UID, ENRP_NO_UID, 1 };
	struct enrp_caller agent = { AGENT, AGENT, 1 };

	eir_for(&e, ENRP_STATE_NORMAL, ENRP_MODE_ACTIVE, E_NONE);
	e.agent_uid = ENRP_NO_UID;
	is_int(enrp_policy_check(&e, ENRP_OP_WRITE, &nobody, NOW, 0), -EROFS,
	       "active without agent: uid ENRP_NO_UID is nobody's agent");
	is_int(enrp_policy_check(&e, ENRP_OP_WRITE, &agent, NOW, 0), -EROFS,
	       "active without agent: former agent uid gets ro");
	e.escalated_until = NOW + 1;
	is_int(enrp_policy_check(&e, ENRP_OP_WRITE, &agent, NOW, 0), 0,
	       "active without agent: escalation grants rw");
	is_int(enrp_policy_check(&e, ENRP_OP_WRITE, &agent, NOW + 1, 0), -EROFS,
	       "escalation ends exactly at escalated_until");

	eir_for(&e, ENRP_STATE_NORMAL, ENRP_MODE_RW, E_NONE);
	is_int(enrp_policy_check(&e, (enum enrp_op)ENRP_OP_COUNT, &agent, NOW, 0), -EINVAL,
	       "unknown op: -EINVAL");
	e.mode = (enum enrp_mode)17;
	is_int(enrp_policy_check(&e, ENRP_OP_WRITE, &agent, NOW, 0), -EROFS,
	       "unknown mode fails closed for writes");

	is_str(enrp_op_name(ENRP_OP_INSPECT), "inspect", "op name inspect");
	is_str(enrp_op_name(ENRP_OP_READ), "read", "op name read");
	is_str(enrp_op_name(ENRP_OP_WRITE), "write", "op name write");
	is_str(enrp_op_name(ENRP_OP_REMOVE), "remove", "op name remove");
	is_str(enrp_op_name((enum enrp_op)9), "?", "op name out of range");
}

/* The write-only flags: a page-cached handle, a rewrite of bytes the caller
 * did not write.  Codes per (cached, rewrite) in {00, 10, 01, 11}, not held
 * then held; the owner calls, not escalated. */
static void wo_flags(void)
{
	static const struct {
		enum enrp_state state;
		enum enrp_mode mode;
		enum enrp_op op;
		const char *expect; /* 8 codes: 00 10 01 11 free, then held */
	} rows[] = {
		{ S_N, M_RW, O_W, "....PPPP" },
		{ S_N, M_WO, O_W, ".AAAPAAA" },
		{ S_N, M_WO, O_X, ".AAAPAAA" },
		{ S_N, M_WO, O_R, "AAAAAAAA" },
		{ S_N, M_WO, O_I, "........" },
		{ S_N, M_RO, O_W, "RRRRRRRR" },
		{ S_N, M_AC, O_W, "RRRRRRRR" },
		{ S_S, M_WO, O_W, "RRRRRRRR" },
		{ S_R, M_WO, O_W, "RRRRRRRR" },
		{ S_D, M_WO, O_W, "NNNNNNNN" },
	};
	struct enrp_caller owner = { OWNER, OWNER, 1 };
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		int bad = 0;
		for (int i = 0; i < 8; i++) {
			struct enrp_eir e;
			eir_for(&e, rows[r].state, rows[r].mode, E_NONE);
			unsigned flags = ((i & 1) ? ENRP_POLICY_CACHED : 0) |
			                 ((i & 2) ? ENRP_POLICY_REWRITE : 0) |
			                 ((i & 4) ? ENRP_POLICY_HELD : 0);
			int got = enrp_policy_check(&e, rows[r].op, &owner, NOW, flags);
			int want = code_errno(rows[r].expect[i]);
			if (got != want) {
				bad++;
				diag("flags %#x: got %d want %d", flags, got, want);
			}
		}
		ok(bad == 0, "wo flags: %s/%s/%s", enrp_state_name(rows[r].state),
		   enrp_mode_name(rows[r].mode), enrp_op_name(rows[r].op));
	}
	struct enrp_eir e;
	eir_for(&e, S_N, M_WO, E_NONE);
	ok(enrp_policy_uncached(&e), "wo: handles bypass the page cache");
	for (enum enrp_mode m = M_RW; m <= M_AC; m++) {
		eir_for(&e, S_N, m, E_NONE);
		if (m != M_WO)
			ok(!enrp_policy_uncached(&e), "%s: handles may be cached", enrp_mode_name(m));
	}
}

/* Who may enter an EIR directory. */
static void eir_dir(void)
{
	struct enrp_eir e;
	struct enrp_dir_access a;

	eir_for(&e, S_N, M_RW, E_NONE);
	e.owner_gid = 500;
	e.dir_mode = 0700;
	enrp_policy_eir_dir(&e, &a);
	ok(a.uid == OWNER && a.gid == 500 && a.mode == 0700 && a.nentrants == 0,
	   "rw: the owner's, 0700, no ACL");

	e.mode = M_AC;
	enrp_policy_eir_dir(&e, &a);
	ok(a.uid == AGENT && a.gid == 500 && a.nentrants == 1 && !a.entrants[0].group &&
	   a.entrants[0].id == OWNER && a.entrants[0].perm == 7 && a.mask == 7 &&
	   a.group_perm == 0 && a.other_perm == 0 && a.mode == 0770,
	   "active: the agent's, the owner a named rwx entry, mask rwx, group nothing");

	e.agent_uid = ENRP_NO_UID;
	enrp_policy_eir_dir(&e, &a);
	ok(a.uid == OWNER && a.nentrants == 0 && a.mode == 0700, "active without agent: the owner's");

	e.agent_uid = OWNER;
	enrp_policy_eir_dir(&e, &a);
	ok(a.uid == OWNER && a.nentrants == 0, "active whose agent is the owner: one account");

	eir_for(&e, S_N, M_WO, E_NONE);
	e.dir_mode = 0755;
	enrp_policy_eir_dir(&e, &a);
	ok(a.uid == OWNER && a.nentrants == 0 && a.mode == 0755,
	   "wo with 0755: the agent of a non-active EIR is nobody; bits as set");

	/* Bits an older record may carry are never presented. */
	e.dir_mode = 07777;
	enrp_policy_eir_dir(&e, &a);
	ok(a.mode == 0755, "07777 is presented as 0755 (no group/other write, no special bits)");

	eir_for(&e, S_N, M_AC, E_NONE);
	e.dir_mode = 0750;
	enrp_policy_eir_dir(&e, &a);
	ok(a.group_perm == 5 && a.mask == 7 && a.mode == 0770 && a.user_perm == 7,
	   "active with 0750: group r-x under a rwx mask");
	e.dir_mode = 0500;
	enrp_policy_eir_dir(&e, &a);
	ok(a.user_perm == 5 && a.entrants[0].perm == 5 && a.mask == 5 && a.mode == 0550,
	   "the owner's entry has the owner's bits");
}

int main(void)
{
	full_table();
	edges();
	wo_flags();
	eir_dir();
	return done_testing();
}
