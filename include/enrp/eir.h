/*
 * eir.h — the registry of electronic information resources (EIRs).
 *
 * Each EIR is one top-level directory of the mount with an access mode, a
 * state on top of it, an owner, a class and a quota.  Every change made here
 * is journalled in the same transaction as the change itself, so the audit
 * journal can never miss or invent one.
 */
#ifndef ENRP_EIR_H
#define ENRP_EIR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/statvfs.h>

#include <enrp/store.h>

#define ENRP_EIR_NAME_MAX 63
#define ENRP_REASON_MAX 255
#define ENRP_NO_UID UINT32_MAX

enum enrp_mode {
	ENRP_MODE_RW,     /* add, change, read */
	ENRP_MODE_WO,     /* add and change, never read */
	ENRP_MODE_RO,     /* read, never add or change */
	ENRP_MODE_ACTIVE, /* the agent has rw, everyone else ro (or rw while escalated) */
};

enum enrp_state {
	ENRP_STATE_NORMAL,    /* accepting copies as the mode allows */
	ENRP_STATE_SUSPENDED, /* operator stopped acceptance: writes EROFS */
	ENRP_STATE_RETIRED,   /* off the critical list: writes EROFS forever */
	ENRP_STATE_DESTROYED, /* gone; kept only as a registry tombstone */
};

/* The name tables: "rw", "wo", "ro", "active" and "normal", "suspended",
 * "retired", "destroyed".  _parse returns -EINVAL for anything else. */
const char *enrp_mode_name(enum enrp_mode mode);
int enrp_mode_parse(const char *s, enum enrp_mode *out);
const char *enrp_state_name(enum enrp_state state);
int enrp_state_parse(const char *s, enum enrp_state *out);

/* One EIR, as callers keep it on the stack. */
struct enrp_eir {
	uint32_t id;                 /* stable, never reused; 0 is invalid */
	char name[ENRP_EIR_NAME_MAX + 1]; /* directory name, see enrp_eir_name_valid */
	uint32_t owner_uid;          /* owner of the EIR directory */
	uint32_t owner_gid;          /* group of the EIR directory */
	uint32_t dir_mode;           /* permission bits of the EIR directory (0700; at most
	                                ENRP_DIR_MODE_ALLOWED, see enrp_policy_eir_dir) */
	uint8_t eir_class;           /* 1, 2 or 3: 1 has priority */
	enum enrp_mode mode;
	enum enrp_state state;
	uint64_t quota;              /* bytes the EIR's clients may make the platform hold
	                                (live files, space reserved with fallocate,
	                                xattr names and values); 0 means unlimited */
	uint64_t max_files;          /* live inodes at most; 0 means unlimited */
	uint32_t agent_uid;          /* replication agent of an active EIR, or ENRP_NO_UID */
	uint32_t rpo_minutes;        /* active EIRs: snapshot at least this often (60) */
	int64_t escalated_until;     /* ns since epoch; 0 when not escalated */
	char escalation_reason[ENRP_REASON_MAX + 1];
	char state_reason[ENRP_REASON_MAX + 1]; /* why suspended or retired */
	uint64_t root_ino;           /* inode of the EIR directory */
	int64_t created;             /* ns since epoch */
};

/* Usage counters of an EIR, maintained by the namespace. */
struct enrp_eir_usage {
	uint64_t bytes;  /* bytes charged to the quota: each regular file's size
	                    (or the end of space reserved past it, if further),
	                    plus xattr names and values */
	uint64_t inodes; /* live inodes (files, dirs, symlinks, special files): what
	                    max_files bounds and statfs shows; not "files", which
	                    are regular files only (struct enrp_eir_files) */
	uint64_t stored; /* bytes of the EIR's chunk files (compressed, encrypted) */
	uint64_t chunks; /* chunks the EIR stores */
};

/* An EIR's regular files by state (linked ones only: a file unlinked while
 * open is not counted), and when the platform last sealed one of them.  The
 * namespace keeps them in the transaction of every inode change, so
 * `.enrp/status` reads them instead of walking the tree. */
struct enrp_eir_files {
	uint64_t open;       /* in a spool file, not yet queued for sealing */
	uint64_t pending;    /* queued: being checksummed */
	uint64_t verified;
	uint64_t corrupt;
	int64_t last_sealed; /* platform clock (ns) of the latest seal; 0 if none.
	                        Never lowered: a later removal of that file does
	                        not undo the transfer. */
	uint64_t tree_gen;   /* changes with every change of a directory of the
	                        EIR or of a file's state: what .enrp's lists show
	                        is the same while it is (sizes are cached by it) */
};

/* Who did something: recorded in the journal with every change. */
/* Who did something: the process (uid, pid, command) and the person behind
 * it, since root does most administration and "uid 0" names nobody.  The
 * login uid is the kernel's audit login uid (/proc/PID/loginuid: the account
 * that logged in, kept across su and sudo); the sudo fields come from
 * SUDO_USER/SUDO_UID, which only enrpctl sees (a FUSE caller's environment
 * is not read: it proves nothing and costs a file read per request). */
struct enrp_actor {
	uint32_t uid;
	uint32_t pid;
	char command[64];      /* e.g. "enrpctl eir set", "enrpfs", or a caller's comm */
	uint32_t login_uid;    /* ENRP_NO_UID when unset (a daemon, a boot service) */
	uint32_t sudo_uid;     /* ENRP_NO_UID when not run through sudo */
	char sudo_user[33];    /* "" when not run through sudo */
};

/* Fills ACTOR with the calling process's uid, pid, login uid, sudo user and
 * uid, and COMMAND. */
void enrp_actor_self(struct enrp_actor *actor, const char *command);

/* Fills ACTOR for process PID running as UID (a FUSE caller): its login uid
 * and its command name from /proc, when they can be read. */
void enrp_actor_of(struct enrp_actor *actor, uint32_t uid, uint32_t pid);

/* Names: 1-63 characters of [a-z0-9._-], starting with a letter or digit. */
bool enrp_eir_name_valid(const char *name);

/* Fills SPEC with the defaults of a new EIR (rw, class 3, 0700, no quota, no
 * agent, rpo 60) and NAME. */
void enrp_eir_defaults(struct enrp_eir *spec, const char *name);

/* Creates the EIR described by SPEC (its id, root_ino and created are
 * assigned) together with its directory.  -EINVAL bad name or field,
 * -EEXIST name taken (also by a destroyed EIR).  On success *OUT (if not
 * NULL) holds the stored record. */
int enrp_eir_create(enrp_store *st, const struct enrp_eir *spec,
                    const struct enrp_actor *actor, struct enrp_eir *out);

/* -ENOENT if no such EIR. */
int enrp_eir_get(enrp_store *st, const char *name, struct enrp_eir *out);
int enrp_eir_get_by_id(enrp_store *st, uint32_t id, struct enrp_eir *out);
int enrp_eir_usage(enrp_store *st, uint32_t id, struct enrp_eir_usage *out);
/* -ENOENT if no such EIR, or if the store predates these counts and no
 * enrpfs has mounted it since (enrp_ns_recover() counts them). */
int enrp_eir_files(enrp_store *st, uint32_t id, struct enrp_eir_files *out);

/* What statfs(2) reports inside an EIR (DESIGN §3: "statfs reports the EIR's
 * quota as its capacity"), from its limits, its usage U and DISK, the
 * statvfs of the store's filesystem.  Pure.
 *
 * Space is counted in bytes (f_bsize = f_frsize = 1), so "used"
 * (f_blocks - f_bfree, what df shows) is U->bytes exactly.  Free and
 * available space are the same: what the EIR may still write, never more
 * than QUOTA - used (QUOTA 0: no quota) nor more than DISK has available;
 * the size is used + free, so it is at most the quota (or the usage, when
 * the usage exceeds a lowered quota and nothing is free).
 *
 * Inodes are the EIR's own: f_files - f_ffree is U->files.  Free inodes
 * are MAX_FILES - used when the EIR has such a limit (0: none), and never
 * more than DISK's available inodes, which new files' chunk files need;
 * without a limit, DISK's available inodes.
 *
 * Everything else (f_namemax, f_fsid, f_flag) is DISK's. */
void enrp_eir_statfs(uint64_t quota, uint64_t max_files, const struct enrp_eir_usage *u,
                     const struct statvfs *disk, struct statvfs *out);

/* Calls CB for every EIR in name order (destroyed ones included); a non-zero
 * return from CB stops the walk and is returned. */
int enrp_eir_list(enrp_store *st, int (*cb)(const struct enrp_eir *eir, void *arg), void *arg);

/* Fields enrp_eir_set changes. */
enum enrp_eir_set_flags {
	ENRP_EIR_SET_MODE     = 1 << 0,
	ENRP_EIR_SET_OWNER    = 1 << 1, /* owner_uid and owner_gid */
	ENRP_EIR_SET_CLASS    = 1 << 2,
	ENRP_EIR_SET_QUOTA    = 1 << 3,
	ENRP_EIR_SET_AGENT    = 1 << 4,
	ENRP_EIR_SET_RPO      = 1 << 5,
	ENRP_EIR_SET_DIR_MODE = 1 << 6,
	ENRP_EIR_SET_MAX_FILES = 1 << 7,
	/* Not a field: lets a new quota or file limit be below what the EIR
	 * holds now (enrpctl's --force). */
	ENRP_EIR_SET_BELOW_USAGE = 1 << 15,
};

/* Copies the fields named by FLAGS from NEW into the EIR NAME and journals
 * one record listing old and new values.  -ENOENT, -EINVAL (bad value, or a
 * destroyed EIR), -EROFS (a retired EIR: retirement is final, whatever the
 * values), -EDQUOT (a changed quota below the EIR's usage bytes, or a changed
 * max_files below its files, without ENRP_EIR_SET_BELOW_USAGE; "none" is
 * never below), 0 also when nothing changed (then nothing is journalled).
 * Owner and dir_mode changes apply to the EIR directory's inode too. */
int enrp_eir_set(enrp_store *st, const char *name, const struct enrp_eir *new_values,
                 unsigned flags, const struct enrp_actor *actor);

enum enrp_eir_escalate_flags {
	/* UNTIL may be earlier than the end of the escalation in force. */
	ENRP_EIR_ESCALATE_SHORTEN = 1 << 0,
};

/* Grants users of an active EIR rw until UNTIL (ns since epoch) with REASON.
 * -EINVAL if the EIR is not active, REASON is empty, UNTIL is not in the
 * future or FLAGS holds an unknown bit; -EEXIST if an escalation in force ends
 * after UNTIL and FLAGS lacks ENRP_EIR_ESCALATE_SHORTEN (a second escalation
 * never cuts a first one short by accident).  Deescalate ends it now
 * (-EALREADY if not escalated). */
int enrp_eir_escalate(enrp_store *st, const char *name, int64_t until, const char *reason,
                      unsigned flags, const struct enrp_actor *actor);
int enrp_eir_deescalate(enrp_store *st, const char *name, const struct enrp_actor *actor);

/* State changes: suspend needs a reason (-EINVAL) and -EALREADY if
 * suspended; resume leaves suspended only (-EALREADY if normal); retire is
 * final (-EALREADY if retired), its reason optional.  All, escalate and
 * deescalate too: -ENOENT no such EIR, -EINVAL destroyed, -EROFS retired
 * (except retire); nothing is journalled on an error.  Retiring or leaving
 * active ends an escalation. */
int enrp_eir_suspend(enrp_store *st, const char *name, const char *reason,
                     const struct enrp_actor *actor);
int enrp_eir_resume(enrp_store *st, const char *name, const struct enrp_actor *actor);
int enrp_eir_retire(enrp_store *st, const char *name, const char *reason,
                    const struct enrp_actor *actor);

/* Ends every escalation whose time has passed and journals its expiry.  Sets
 * *EXPIRED (if not NULL) to the number ended; IDS (if not NULL, room for
 * MAX_IDS) receives their ids so the caller can invalidate caches. */
int enrp_eir_expire_escalations(enrp_store *st, int64_t now, const struct enrp_actor *actor,
                                uint32_t *ids, unsigned max_ids, unsigned *expired);

#endif
