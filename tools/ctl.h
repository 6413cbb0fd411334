/*
 * ctl.h — enrpctl's shared state, command and verb tables, and output helpers.
 *
 * enrpctl is a git.c-style dispatcher: tools/enrpctl.c parses the global
 * options (-S, --json, --help, --version) and runs one command from its
 * table; a command with verbs (eir, audit) dispatches them from its own table
 * in tools/cmd_<group>.c with ctl_dispatch(), and each verb parses its own
 * options with getopt_long.
 *
 * The store is opened lazily, by ctl_open_store() after a verb has parsed
 * its options, so that `--help` and usage errors never need a store.
 *
 * Exit status: CTL_OK (0), CTL_FAIL (1), CTL_USAGE (2).  Data goes to
 * stdout, diagnostics to stderr as "enrpctl: what went wrong" followed by a
 * "hint: what to do" line.
 */
#ifndef ENRP_CTL_H
#define ENRP_CTL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <enrp/calendar.h>
#include <enrp/destroy.h>
#include <enrp/eir.h>
#include <enrp/form.h>
#include <enrp/gc.h>
#include <enrp/ingest.h>
#include <enrp/i18n.h>
#include <enrp/retention.h>
#include <enrp/rundir.h>
#include <enrp/store.h>

enum ctl_exit {
	CTL_OK = 0,
	CTL_FAIL = 1,
	CTL_USAGE = 2,
};

/* Returned by ctl_common_option() when the option was handled and parsing
 * goes on; any other value is the exit status to return at once. */
#define CTL_CONTINUE (-1)

/* What a command or verb needs before it runs. */
enum ctl_need {
	NEED_NOTHING  = 0,      /* no store (init creates one) */
	NEED_STORE_RO = 1 << 0, /* opened ENRP_STORE_RDONLY */
	NEED_STORE_RW = 1 << 1, /* opened for writing */
};

struct ctl {
	const char *store_path; /* -S/--store, else $ENRP_STORE; NULL when neither */
	enrp_store *store;      /* set by ctl_open_store(); closed by main */
	unsigned need;          /* NEED_* of the running command or verb */
	bool json;              /* --json, global or per verb */
	bool tty;               /* isatty(2): progress output allowed */
	char command[64];       /* "enrpctl eir create": the journal's actor command */
	char getopt_prog[80];   /* "enrpctl: eir create": how option errors start */
	char **argv;            /* of the command or verb being parsed (option errors) */
	struct enrp_actor actor;/* filled by ctl_open_store() */
	/* Run by enrpfs for an account that is not root (relay.h): who it is,
	 * from the kernel's peer credentials. */
	bool peer;
	uint32_t peer_uid, peer_gid, peer_pid, peer_login_uid;
	const char *otp;        /* --otp CODE (every verb takes it), for ctl_mfa_check */
	bool mfa_checked;       /* ctl_open_store asked for the code already */
};

/* Help of one command or verb: USAGE is the synopsis after "usage: ", TEXT
 * the description and options (ends with a newline). */
struct ctl_help {
	const char *usage;
	const char *text;
};

/* One verb of a command group. */
struct ctl_verb {
	const char *name;
	int (*fn)(struct ctl *ctl, int argc, char **argv); /* argv[0] is the verb */
	unsigned need;       /* NEED_*: how the store is opened for this verb */
	const char *summary; /* one line for the group's help */
};

/* Options every verb takes, to end its getopt_long table ("hS:"), and the
 * --json option of the verbs that print data. */
#define CTL_OPT_OTP 2000
#define CTL_OPTS_COMMON \
	{ "store", required_argument, NULL, 'S' }, \
	{ "otp",   required_argument, NULL, CTL_OPT_OTP }, \
	{ "help",  no_argument,       NULL, 'h' }, \
	{ NULL, 0, NULL, 0 }
#define CTL_OPT_JSON { "json", no_argument, NULL, 'j' }

/* Command groups: argv[0] is the command name; return an exit status. */
int cmd_init(struct ctl *ctl, int argc, char **argv);
int cmd_eir(struct ctl *ctl, int argc, char **argv);
int cmd_status(struct ctl *ctl, int argc, char **argv);
int cmd_audit(struct ctl *ctl, int argc, char **argv);
int cmd_scrub(struct ctl *ctl, int argc, char **argv);
int cmd_gc(struct ctl *ctl, int argc, char **argv);
int cmd_prune(struct ctl *ctl, int argc, char **argv);
int cmd_hold(struct ctl *ctl, int argc, char **argv);
int cmd_snapshot(struct ctl *ctl, int argc, char **argv);
/* "EIR@NAME" into EIR (size EIRSZ) and NAME, both valid names (cmd_snapshot.c;
 * hold takes snapshots by the same spelling).  False otherwise. */
bool ctl_split_snapshot(const char *s, char *eir, size_t eirsz, const char **name);
int cmd_trash(struct ctl *ctl, int argc, char **argv);
int cmd_fsck(struct ctl *ctl, int argc, char **argv);
int cmd_restore_test(struct ctl *ctl, int argc, char **argv);
int cmd_calendar(struct ctl *ctl, int argc, char **argv);
int cmd_wait(struct ctl *ctl, int argc, char **argv);
int cmd_notify(struct ctl *ctl, int argc, char **argv);
int cmd_escrow(struct ctl *ctl, int argc, char **argv);
/* Four eyes (cmd_escrow.c): CTL_CONTINUE when ACTOR's person has an approved
 * request for ACTION on EIR/TARGET; else makes one (with REASON) or finds it
 * still pending, says so naming WHAT (the command, for the message), and
 * returns CTL_FAIL.  The caller then consumes the request with its action. */
int ctl_approval_ready(struct ctl *ctl, const char *action, const char *eir,
                       const char *target, const char *reason, const char *what);
int cmd_requests(struct ctl *ctl, int argc, char **argv);
int cmd_mfa(struct ctl *ctl, int argc, char **argv);
/* The second factor (cmd_mfa.c), for approve and reject and, once roles
 * exist, every administrator verb: CTL_CONTINUE when MFA is off, or when
 * the person (enrp_person_of) gave a good TOTP code — from --otp, else
 * $ENRP_OTP, else typed on the terminal without echo.  Else says why
 * (WHAT names the action, "approve 3", also for the journal's mfa-failed
 * record) and returns CTL_FAIL.  Call it after ctl_open_store, once per
 * run: a code is good only once. */
int ctl_mfa_check(struct ctl *ctl, const char *what);
int cmd_approve(struct ctl *ctl, int argc, char **argv);
int cmd_reject(struct ctl *ctl, int argc, char **argv);
int cmd_roles(struct ctl *ctl, int argc, char **argv);
int cmd_report(struct ctl *ctl, int argc, char **argv);

/* --- enrpctl.c: shared plumbing ----------------------------------------- */

/* Runs the verb named by argv[1] from VERBS (N entries) of GROUP; prints the
 * group help (GROUP_HELP) for "--help"/"-h", and usage on stderr with exit 2
 * for a missing or unknown verb. */
int ctl_dispatch(struct ctl *ctl, const char *group, const struct ctl_help *group_help,
                 const struct ctl_verb *verbs, size_t n, int argc, char **argv);

/* Prepares getopt_long for a verb or command whose arguments are ARGV: resets
 * getopt and makes its messages start with ctl->command. */
void ctl_getopt_begin(struct ctl *ctl, char **argv);

/* Handles the options every verb and command shares: 'h' (--help: HELP on
 * stdout, exit 0), 'S' (--store), 'j' (--json), '?' and ':' (getopt already
 * said what was wrong; prints the usage line, exit 2).  Returns CTL_CONTINUE
 * or the exit status. */
int ctl_common_option(struct ctl *ctl, int c, const char *arg, const struct ctl_help *help);

/* Prints "enrpctl: MSG" on stderr, then the usage line of HELP and the
 * --help hint; returns CTL_USAGE. */
int ctl_usage_error(struct ctl *ctl, const struct ctl_help *help, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prints HELP ("usage: ..." then the text) on F. */
void ctl_print_help(FILE *f, const struct ctl_help *help);

/* Opens the store as ctl->need says (no-op if open).  Reports a missing store
 * path (exit 2) and every open error with a hint (exit 1).  Returns CTL_OK,
 * CTL_FAIL or CTL_USAGE. */
int ctl_open_store(struct ctl *ctl);

/* Reports a store that is not root's alone (enrp_store_check's -EPERM):
 * "cannot WHAT store 'PATH': 'X' is ..." and the hint with the fix. */
void ctl_store_not_roots(const char *what, const char *path, const struct enrp_trust_problem *p);

/* One line of output on F: the formatted text with everything a terminal
 * would act on escaped (enrp_text_escape), then a newline.  Every line that
 * can hold a string enrpctl did not write itself (a name, a path, a reason,
 * an option value, a journal detail, a file name from a finding) is printed
 * through this, ctl_err/ctl_hint/ctl_warn (which use it), the table printer
 * or the JSON writer; FMT itself holds no newline. */
void ctl_line(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "enrpctl: MSG" on stderr. */
void ctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "hint: MSG" on stderr. */
void ctl_hint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "enrpctl: warning: MSG" on stderr. */
void ctl_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Reports an EIR lookup or change error: -ENOENT as "no EIR named 'x'" with
 * the 'eir list' hint, -EROFS as "cannot WHAT EIR 'x': it is retired, and
 * retirement is final", else "cannot WHAT EIR 'x': strerror".  Returns
 * CTL_FAIL. */
int ctl_eir_error(const char *what, const char *name, int err);

/* Confirmation of what cannot be undone, typed on a terminal.
 *
 * ctl_confirm_open() finds the terminal to ask on: the controlling terminal
 * (/dev/tty), else standard input when it is a terminal.  Piped input never
 * confirms anything, so `yes | enrpctl ...` cannot answer for a person.
 * Returns false when there is none; then the caller refuses unless --yes.
 *
 * ctl_confirm() writes the question PROMPT (escaped like ctl_line; the
 * answer follows on its line) on that terminal, reads one line and returns
 * whether it was exactly WORD; EOF or anything else is no.  Closes the
 * terminal either way. */
struct ctl_tty {
	int in, out; /* descriptors; in == out for /dev/tty */
	bool owned;  /* opened by ctl_confirm_open (closed by ctl_confirm) */
};
bool ctl_confirm_open(struct ctl_tty *t);
bool ctl_confirm(struct ctl_tty *t, const char *word, const char *prompt, ...)
	__attribute__((format(printf, 3, 4)));

/* Tells a running enrpfs that EIR ID changed.  A missing daemon is not an
 * error; any other failure is warned about.  Returns CTL_OK or CTL_FAIL. */
int ctl_notify_eir(struct ctl *ctl, const char *name, uint32_t id);

/* How long a command that needs the store to itself waits for an enrpfs
 * that is shutting down (unmounted, still finishing its work). */
#define CTL_DAEMON_STOP_WAIT_MS 30000

/* The daemon of the store, after waiting (at most CTL_DAEMON_STOP_WAIT_MS)
 * for one that is shutting down to exit, saying so on stderr: after
 * `fusermount3 -u` the daemon still holds the store for a moment.  OUT's
 * state is NONE when the store is free, SERVING when a daemon serves it,
 * STOPPING when it did not exit in time (said too).  A failed probe is
 * taken as SERVING, so the caller refuses rather than races. */
void ctl_await_daemon_exit(struct ctl *ctl, struct enrp_daemon_info *out);

/* Memory that cannot be had ends enrpctl: prints and exits 1. */
void *ctl_xmalloc(size_t size);
/* FMT's text escaped (enrp_text_escape: a name, a path, a reason or a
 * journal detail cannot act on the terminal or start a line of its own),
 * in a new string.  Memory failures end enrpctl. */
__attribute__((format(printf, 1, 0)))
char *ctl_vescaped(const char *fmt, va_list ap);
void *ctl_xrealloc(void *p, size_t nmemb, size_t size);
char *ctl_xstrdup(const char *s);

/* --- eirview.c: the EIR view of status, eir list and eir show ------------ */

/* One EIR with everything the view shows.  A HAVE_* false means the store
 * did not have that record (an older store, until enrpfs mounts it). */
struct eir_row {
	struct enrp_eir eir;
	struct enrp_eir_usage usage;  /* usage.stored: bytes of the chunks the index
	                                 still references ("stored") */
	bool have_usage;
	struct enrp_eir_files fc;     /* regular files by state */
	bool have_files;
	uint64_t files;               /* regular files: open + pending + verified +
	                                 corrupt; usage.inodes counts every inode */
	struct enrp_ingest_backlog backlog; /* queued files and the oldest's time */
	bool have_backlog;
	struct enrp_gc_disk disk;     /* chunk files on disk (counted on request) */
	bool have_disk;
	struct enrp_retention retention;
	bool have_retention;
	uint32_t lock_days; /* eir set --lock; 0 is none */
	bool have_lock;
	int64_t window;   /* eir set --window, seconds; 0: until the next slot */
	bool have_window;
	struct enrp_eir_form form; /* the registration form ("" fields: not filled in) */
	bool have_form;
	struct enrp_destruction destruction; /* destroyed EIRs: what, how, when, who */
	bool have_destruction;
};

/* Fills ROW (its eir already read) from the store; WANT_DISK also lists
 * the EIR's chunk files (time linear in its chunks). */
void eir_row_read(struct ctl *ctl, struct eir_row *row, bool want_disk);

/* Reads every EIR, in name order, into a new array (*ROWS, *N; caller frees
 * with free()).  0 or -errno of the store; reports nothing. */
int eir_collect(struct ctl *ctl, bool want_disk, struct eir_row **rows, size_t *n);

/* The interval within which a verified transfer is expected: an active
 * EIR's rpo; 0 (none: no check) for other modes, and for EIRs that accept
 * no transfers (suspended, retired, destroyed). */
int64_t eir_interval_ns(const struct enrp_eir *e);

struct json;
/* Writes ROW as one JSON object with every field, raw numbers (the format of
 * `eir show --json`, `eir list --json` and status's "eirs"). */
void eir_json(struct json *j, const struct eir_row *row, int64_t now);

/* The columns of the table view, chosen with -o. */
#define EIR_COLUMNS_MAX 32
struct eir_columns {
	size_t n;
	unsigned col[EIR_COLUMNS_MAX];
	bool need_disk; /* a column needs the chunk files counted */
};
/* The default columns (status and eir list show the same). */
void eir_columns_default(struct eir_columns *c);
/* Parses "name,mode,..." into C.  On an unknown or repeated column reports
 * it with the list of valid ones and returns CTL_USAGE; else CTL_CONTINUE. */
int eir_columns_parse(const char *spec, struct eir_columns *c);
/* Prints ROWS as a table of the columns C. */
void eir_table_print(const struct eir_columns *c, const struct eir_row *rows, size_t n,
                     int64_t now, FILE *f);
/* "45s", "12m", "3h05m", "2d04h" ("1h", "1m" when whole): an age or
 * interval, for people. */
#define AGE_BUF 32
void age_human(int64_t ns, char buf[AGE_BUF]);

/* --- cmd_gc.c: shared with prune -------------------------------------- */

struct enrp_gc_result;
/* Asks the enrpfs serving the store to collect garbage now and follows its
 * run to the end into R, with gc's progress line on a terminal.  0, the
 * run's -errno, or the request's (-ENOENT, -ECONNREFUSED: no daemon). */
int ctl_gc_follow(struct ctl *ctl, struct enrp_gc_result *r);

/* --- cmd_calendar.c: the platform's date ------------------------------- */

/* 0 when ZONE is a valid name (enrp_zone_name_valid) that the host's tz
 * database ($TZDIR, else /usr/share/zoneinfo) holds; -EINVAL, -ENOENT. */
int ctl_zone_known(const char *zone);
/* ZONE's offset from UTC at the instant NS, in seconds east (sets TZ for
 * this process).  -EINVAL, -ENOENT as ctl_zone_known. */
int ctl_zone_offset(const char *zone, int64_t ns, int32_t *offset_s);

/* Now, and the platform's date and zone now. */
struct ctl_today {
	int64_t now_ns;
	enrp_day today;
	int32_t offset_s;
	char zone[ENRP_ZONE_MAX + 1];
};
/* Fills OUT from the open store's zone and the clock; reports what fails.
 * CTL_OK or CTL_FAIL. */
int ctl_platform_today(struct ctl *ctl, struct ctl_today *out);

/* Parses S as a YYYY-MM-DD operand named WHAT: CTL_CONTINUE, or reports a
 * usage error with HELP and returns CTL_USAGE. */
int ctl_parse_day(struct ctl *ctl, const struct ctl_help *help, const char *what, const char *s,
                  enrp_day *out);

/* --- output.c: tables, JSON, sizes, names ------------------------------- */

/* An aligned table: cells are collected, then printed with each column as
 * wide as its widest cell, two spaces apart; the last column is not padded.
 * Memory failures end enrpctl (ctl_xmalloc). */
struct table;

struct table *table_new(size_t ncols, const char *const *headers);
/* Right-aligns column COL (numbers). */
void table_align_right(struct table *t, size_t col);
/* Starts a new row; then exactly ncols table_cell() calls fill it. */
void table_row(struct table *t);
void table_cell(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void table_print(const struct table *t, FILE *f);
void table_free(struct table *t); /* NULL is a no-op */

/* A streaming JSON writer with 2-space indentation.  Strings are escaped
 * (quotes, backslashes, control characters) and invalid UTF-8 is replaced by
 * U+FFFD, so the output is always valid JSON.  Nesting is at most
 * JSON_DEPTH_MAX deep (a programmer invariant, asserted). */
#define JSON_DEPTH_MAX 16

struct json {
	FILE *f;
	int depth;
	bool first[JSON_DEPTH_MAX]; /* nothing written yet at this level */
	bool after_key;             /* a key was written; its value comes next */
	bool compact;               /* all on one line (JSON lines: set after json_init) */
};

void json_init(struct json *j, FILE *f);
void json_object_begin(struct json *j);
void json_object_end(struct json *j);
void json_array_begin(struct json *j);
void json_array_end(struct json *j);
void json_key(struct json *j, const char *key);
void json_str(struct json *j, const char *s); /* NULL writes null */
void json_u64(struct json *j, uint64_t v);
void json_i64(struct json *j, int64_t v);
/* A finite number with DECIMALS digits after the point. */
void json_f64(struct json *j, double v, int decimals);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
/* Ends the document with a newline. */
void json_finish(struct json *j);
/* key + value shorthands. */
void json_kv_str(struct json *j, const char *key, const char *s);
void json_kv_u64(struct json *j, const char *key, uint64_t v);
void json_kv_i64(struct json *j, const char *key, int64_t v);
void json_kv_bool(struct json *j, const char *key, bool v);
/* Whether S is valid UTF-8 (no overlong forms, surrogates or values past
 * U+10FFFF). */
bool utf8_valid(const char *s);
/* Writes S as a quoted, escaped JSON string on F. */
void json_write_string(FILE *f, const char *s);

/* A listing: with --json a JSON array on stdout (rows through JSON), else a
 * table of NCOLS columns (rows through T).  listing_end() closes the array,
 * or prints the table when OK, and frees it. */
struct listing {
	struct json j;
	struct json *json; /* &j with --json, else NULL */
	struct table *t;   /* without --json, else NULL */
};
void listing_begin(struct listing *l, bool json, size_t ncols, const char *const *headers);
void listing_end(struct listing *l, bool ok);

/* A progress line on stderr for long work, redrawn in place: only when
 * ON (ctl->tty: stderr is a terminal), and at most every 100 ms unless
 * forced, so a fast loop costs no terminal writes.  Piped or redirected
 * output never holds it. */
struct progress {
	bool on;
	bool drawn;        /* a line is on the terminal, not yet ended */
	size_t width;      /* of the line drawn last (shorter ones pad it out) */
	int64_t last_ns;   /* monotonic time of the last draw */
};
void progress_begin(struct progress *p, bool on);
/* Draws the formatted line over the previous one when due (or FORCE). */
void progress_line(struct progress *p, bool force, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Leaves the last line drawn on the terminal and ends it. */
void progress_end(struct progress *p);
/* Erases the line drawn, before other output or when a summary follows. */
void progress_clear(struct progress *p);

/* Sizes: "50G" style; a quota of 0 is "none". */
#define SIZE_BUF 32
void size_human(uint64_t bytes, char buf[SIZE_BUF]);
void quota_human(uint64_t quota, char buf[SIZE_BUF]);

/* Times: "2026-11-21T10:00:00Z". */
#define TIME_BUF 40
void time_iso(int64_t ns, char buf[TIME_BUF]);

/* Lower-case hex of N bytes into BUF (room for 2*N+1). */
void hex_encode(const uint8_t *data, size_t n, char *buf);

/* The user or group name of an id, or NULL when it has none.  Caller frees. */
char *user_name(uint32_t uid);
char *group_name(uint32_t gid);
/* The name, or the number in decimal when there is no name.  Caller frees. */
char *user_label(uint32_t uid);
char *group_label(uint32_t gid);

/* --- the registration form (cmd_eir_form.c) --- */

/* getopt values of the form options: FORM_OPT_BASE + enum enrp_form_field. */
#define FORM_OPT_BASE 1000
#define EIR_FORM_OPTIONS \
	{ "full-name",    required_argument, NULL, FORM_OPT_BASE + ENRP_FORM_FULL_NAME }, \
	{ "os",           required_argument, NULL, FORM_OPT_BASE + ENRP_FORM_OS }, \
	{ "dbms",         required_argument, NULL, FORM_OPT_BASE + ENRP_FORM_DBMS }, \
	{ "db-size-gb",   required_argument, NULL, FORM_OPT_BASE + ENRP_FORM_DB_SIZE }, \
	{ "dump-size-gb", required_argument, NULL, FORM_OPT_BASE + ENRP_FORM_DUMP_SIZE }, \
	{ "growth-gb",    required_argument, NULL, FORM_OPT_BASE + ENRP_FORM_GROWTH }, \
	{ "cpus",         required_argument, NULL, FORM_OPT_BASE + ENRP_FORM_CPUS }, \
	{ "cpu-load-pct", required_argument, NULL, FORM_OPT_BASE + ENRP_FORM_CPU_LOAD }, \
	{ "ram-gb",       required_argument, NULL, FORM_OPT_BASE + ENRP_FORM_RAM }, \
	{ "backup-tools", required_argument, NULL, FORM_OPT_BASE + ENRP_FORM_BACKUP_TOOLS }, \
	{ "organisation", required_argument, NULL, FORM_OPT_BASE + ENRP_FORM_ORGANISATION }, \
	{ "responsible",  required_argument, NULL, FORM_OPT_BASE + ENRP_FORM_RESPONSIBLE }, \
	{ "phone",        required_argument, NULL, FORM_OPT_BASE + ENRP_FORM_PHONE }, \
	{ "schedule",     required_argument, NULL, FORM_OPT_BASE + ENRP_FORM_SCHEDULE }, \
	{ "backup-type",  required_argument, NULL, FORM_OPT_BASE + ENRP_FORM_BACKUP_TYPE }, \
	{ "method",       required_argument, NULL, FORM_OPT_BASE + ENRP_FORM_METHOD }, \
	{ "backup-mode",  required_argument, NULL, FORM_OPT_BASE + ENRP_FORM_HOTCOLD }

/* The form options as given (NULL: not given). */
struct form_opts {
	const char *value[ENRP_FORM_FIELDS];
};

/* The option name of FIELD ("full-name", ...), which is also its key in
 * 'eir show'. */
const char *form_option_name(unsigned field);
/* Stores a form option; false if C is not one. */
bool form_opts_take(struct form_opts *fo, int c, const char *arg);
/* Checks the given options into FORM (canonical values) and sets their bits
 * (1 << field) in *MASK; CTL_USAGE after an error message. */
int form_opts_apply(const struct form_opts *fo, struct enrp_eir_form *form, uint32_t *mask);
/* The form's "key: value" lines of 'eir show'. */
void form_show_text(const struct eir_row *row);
/* eir import and eir export. */
int cmd_eir_import(struct ctl *ctl, int argc, char **argv);
int cmd_eir_export(struct ctl *ctl, int argc, char **argv);
/* eir destroy (cmd_eir_destroy.c), and the "destroyed*" lines of a
 * destruction record (eir show). */
int cmd_eir_destroy(struct ctl *ctl, int argc, char **argv);
void destroy_record_text(FILE *f, const struct enrp_destruction *d);
/* cmd_eir_schedule.c: eir schedule. */
int cmd_eir_schedule(struct ctl *ctl, int argc, char **argv);

#endif
