/*
 * journal_mirror.c — the audit journal's syslog mirror: what is sent when,
 * where to, and what happens when the target does not take it (DESIGN §7).
 * The bytes of a message, and the parser of anchors, are journal_syslog.c.
 *
 * Why.  The journal is a hash chain in LMDB; whoever holds the store's files
 * can rewrite it whole (edit or delete records and re-hash everything after,
 * cut the tail and move the head, put an older data.mdb back) and the chain
 * still verifies.  So every record is sent, as it becomes durable, to syslog:
 * by default the local socket /dev/log, whose daemon forwards it to a remote
 * collector (a SIEM) that the store's administrator cannot reach.  Each
 * message carries the record's sequence number and hash; any of them is an
 * anchor, and enrp_journal_verify_anchors() proves the chain still holds it.
 *
 * Message.  RFC 5424, one per record, facility authpriv, severity notice:
 *   <85>1 TIME HOST enrp PID journal [enrp@32473 journal="ID" seq="N"
 *     hash="H" prev="P" time="NS" event="E" eir="X" uid="U" pid="P"
 *     cmd="C"] EVENT EIR DETAILS
 * TIME is the record's (UTC, microseconds); ID names the journal (the first
 * 16 hex digits of record 1's hash) so one collector can hold many stores;
 * the details, which may hold any byte a client chose (a path), are only in
 * the free-text MSG part, with control bytes written \xHH so that a line of
 * the collector's file is one message.  Over a datagram socket there is no
 * framing to get wrong: one datagram, one message.
 *
 * When.  Only records that are durable are sent, so the collector never
 * holds a record that a crash then took back: the hook that journal.c
 * registers with txn_on_durable() runs after the synced commit (enrpctl:
 * each write; enrpfs: the group commit), and every read here is
 * store_read_committed(), which never looks into the daemon's open group and
 * sees only commits whose meta page is flushed (store.c).
 *
 * Order, and nothing skipped.  How far the mirror got is a cursor outside
 * LMDB, run/journal-mirror ("seq, hash of the last record handed to
 * syslog"), read and replaced (tmp + rename) only under an exclusive flock
 * of run/journal-mirror.lock, which serialises the senders of every process
 * (enrpfs's committer and its once-a-second tick, and each enrpctl that
 * writes).  A sender sends record cursor+1, cursor+2, ... and moves the
 * cursor past a record only once the target took it, so records reach the
 * target in sequence order, at least once: a crash between a send and the
 * cursor's rename sends that record again (a collector sees a repeat, never a
 * gap).  A cursor file that cannot be read restarts from record 1.
 *
 * Never in the filesystem's way.  Sockets are non-blocking and connected per
 * flush; targets are numeric (no DNS); the daemon's hook takes the lock
 * without waiting and sends at most HOOK_MAX records, and its tick sends the
 * rest.  A target that does not take a record (no socket, no listener, queue
 * full for too long, a UDP port unreachable) leaves the record pending: the
 * cursor stays, the state file says since when and why, one warning is
 * logged per outage (not per record, not per process: the state is shared),
 * `enrpctl audit head|verify|mirror` report it, and everything pending is
 * sent, in order, when the target takes it again.  Nothing fails or waits.
 *
 * Changing the target (enrp_journal_mirror_set) is a journalled change like
 * any other; the setting in DBI_META "journal_mirror" keeps the old target
 * (prev) and the seq of the change record (since).  Records before it go to
 * the old target, the change record to both (old first), later ones to the
 * new one: the old collector always learns where the stream went before any
 * record goes elsewhere.  A change is refused while the old target cannot
 * take the pending records, unless forced (then they, and the change, go to
 * the new target only, and the record says so).
 *
 * Divergence.  The cursor names the hash of the last record sent; if the
 * journal no longer holds that record (tail cut, rollback) or holds another
 * one there (rewrite), the sender raises an alarm to the target (severity
 * alert, SD-ID enrpAlarm@32473, not an anchor) and to the log, and resumes
 * from the journal's present state, so new records are still mirrored.  The
 * collector then holds two different records under one seq, which
 * enrp_journal_verify_anchors() reports.
 *
 * What the mirror cannot see: UDP may lose a datagram after send() accepted
 * it, and a syslog daemon may drop messages (rate limits): a collector's
 * stream can have holes, which only shrink what it anchors.  Forward over a
 * reliable transport (rsyslog omfwd TCP/RELP with a disk queue).
 *
 * Lock order: the mirror flock, then st->lock (inside store reads); no store
 * lock is held while the flock is awaited.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <enrp/details.h>
#include <enrp/enrp.h>

#include "journal_int.h"
#include "record_int.h"

#define SETTING_KEY "journal_mirror"
#define STATE_NAME "journal-mirror"
#define LOCK_NAME "journal-mirror.lock"
#define STATE_MAGIC "enrp-journal-mirror 1"

#define MBATCH 64          /* records read per committed view */
#define HOOK_MAX 256       /* records the daemon's hook sends at most */
#define POLL_MAX 4096      /* records one tick sends at most */
#define POLL_WAIT_MS 200   /* a tick waits this long for a full queue */
#define ALL_WAIT_MS 2000   /* enrpctl waits this long for a full queue */
#define LOCK_WAIT_MS 5000  /* enrpctl waits this long for another sender */

/* ---- the setting ---- */

static void setting_default(struct mirror_rec *m)
{
	memset(m, 0, sizeof(*m));
	strcpy(m->target, ENRP_JOURNAL_TARGET_DEFAULT);
	strcpy(m->prev, ENRP_JOURNAL_TARGET_DEFAULT);
}

/* The setting, or the default when none was ever set (*PRESENT false). */
static int setting_get(enrp_txn *t, struct mirror_rec *m, bool *present)
{
	MDB_val v;
	int rc = txn_get(t, DBI_META, SETTING_KEY, strlen(SETTING_KEY), &v);
	if (present)
		*present = rc == 0;
	if (rc == -ENOENT) {
		setting_default(m);
		return 0;
	}
	if (rc)
		return rc;
	rc = rec_mirror_decode(v.mv_data, v.mv_size, m);
	if (rc == 0 && (enrp_journal_target_check(m->target) || enrp_journal_target_check(m->prev)))
		rc = -EIO;
	if (rc)
		enrp_log(ENRP_LOG_ERR, "journal: the syslog mirror setting is damaged");
	return rc;
}

static int setting_put(enrp_txn *t, const struct mirror_rec *m)
{
	struct rec_out o;
	rec_out_init(&o);
	int rc = rec_mirror_encode(m, &o);
	if (rc == 0)
		rc = txn_put(t, DBI_META, SETTING_KEY, strlen(SETTING_KEY), o.buf, o.len, 0);
	rec_out_release(&o);
	return rc;
}

/* ---- the cursor (run/journal-mirror) ---- */

/* Besides the cursor, the state keeps the hashes the records CURSOR - 1,
 * CURSOR - 3, CURSOR - 7, ... had when it was written: after a divergence
 * the sender resumes after the last of them the journal still holds, so it
 * sends again at most about twice what changed, and skips nothing. */
#define CP_MAX 64

struct cp {
	uint64_t seq;
	uint8_t hash[32];
};

struct mstate {
	uint64_t seq;          /* last record handed to the target(s) */
	uint8_t hash[32];      /* its hash */
	int64_t failing_since; /* ns; 0 when the last attempt worked */
	char error[160];       /* why it failed */
	unsigned ncp;          /* checkpoints: cp[0] is (seq, hash), then older */
	struct cp cp[CP_MAX];
};

static bool state_differs(const struct mstate *a, const struct mstate *b)
{
	return a->seq != b->seq || memcmp(a->hash, b->hash, 32) != 0 ||
	       a->failing_since != b->failing_since || strcmp(a->error, b->error) != 0;
}

static int run_path(enrp_store *st, const char *name, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/run/%s", enrp_store_path(st), name);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* One "cp SEQ HASH" line into *C. */
static bool parse_cp(const char *line, struct cp *c)
{
	const char *sp = strchr(line, ' ');
	return sp && journal_parse_seq(line, (size_t)(sp - line), &c->seq) &&
	       journal_unhex(sp + 1, strlen(sp + 1), c->hash, 32);
}

/* 0 with *S read (zeros when there is no file yet); -EIO when it cannot be
 * parsed (*S zeros: everything is sent again); -errno when it cannot be
 * read. */
static int state_read(enrp_store *st, struct mstate *s)
{
	char path[PATH_MAX], buf[8192];
	size_t len = 0;
	ssize_t n;

	memset(s, 0, sizeof(*s));
	if (run_path(st, STATE_NAME, path, sizeof(path)))
		return -ENAMETOOLONG;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	if (n < 0)
		return -EIO;
	buf[len] = '\0';
	bool magic = false, ok = len < sizeof(buf) - 1;
	for (char *line = buf, *next; ok && *line; line = next) {
		next = strchr(line, '\n');
		if (!next) {
			ok = false; /* a torn last line */
			break;
		}
		*next++ = '\0';
		if (!magic) {
			magic = ok = strcmp(line, STATE_MAGIC) == 0;
		} else if (strncmp(line, "failing-since ", 14) == 0) {
			char *end;
			s->failing_since = strtoll(line + 14, &end, 10);
			ok = *end == '\0' && s->failing_since >= 0;
		} else if (strncmp(line, "error ", 6) == 0) {
			snprintf(s->error, sizeof(s->error), "%s", line + 6);
		} else if (strncmp(line, "cp ", 3) == 0) {
			struct cp *c = &s->cp[s->ncp];
			ok = s->ncp < CP_MAX && parse_cp(line + 3, c) &&
			     (s->ncp == 0 || c->seq < s->cp[s->ncp - 1].seq);
			s->ncp++;
		} else {
			ok = false;
		}
	}
	if (!ok || !magic) {
		memset(s, 0, sizeof(*s));
		return -EIO;
	}
	if (s->ncp) {
		s->seq = s->cp[0].seq;
		memcpy(s->hash, s->cp[0].hash, 32);
	}
	return 0;
}

/* Replaces the state file whole: a crash leaves the old one or the new one.
 * No fsync: an older cursor after a power loss only sends records again. */
static int state_write(enrp_store *st, const struct mstate *s)
{
	char path[PATH_MAX], tmp[PATH_MAX], hex[65];
	if (run_path(st, STATE_NAME, path, sizeof(path)) ||
	    run_path(st, STATE_NAME ".tmp", tmp, sizeof(tmp)))
		return -ENAMETOOLONG;
	FILE *f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fprintf(f, STATE_MAGIC "\nfailing-since %lld\nerror %s\n", (long long)s->failing_since,
	        s->error);
	for (unsigned i = 0; i < s->ncp; i++) {
		journal_hex(s->cp[i].hash, 32, hex);
		fprintf(f, "cp %llu %s\n", (unsigned long long)s->cp[i].seq, hex);
	}
	int rc = ferror(f) ? -EIO : 0;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc) {
		unlink(tmp);
		enrp_log(ENRP_LOG_WARNING, "journal: cannot save the syslog mirror's cursor in %s: %s",
		         path, strerror(-rc));
	}
	return rc;
}

/* Fills S's checkpoints for its cursor from the journal as it is now. */
static int cp_fn(enrp_txn *t, void *arg)
{
	struct mstate *s = arg;
	struct enrp_journal_record *r = malloc(sizeof(*r));
	uint64_t back = 0;

	if (!r)
		return -ENOMEM;
	s->ncp = 0;
	if (s->seq) {
		s->cp[0].seq = s->seq;
		memcpy(s->cp[0].hash, s->hash, 32);
		s->ncp = 1;
	}
	for (unsigned i = 1; i < CP_MAX && s->seq > (back = 2 * back + 1); i++) {
		struct cp *c = &s->cp[s->ncp];
		c->seq = s->seq - back;
		if (journal_get_txn(t, c->seq, r))
			break;
		memcpy(c->hash, r->hash, 32);
		s->ncp++;
	}
	free(r);
	return 0;
}

/* After a divergence: the newest checkpoint the journal still holds, as
 * the new cursor (0 when none: everything is sent again). */
static int resume_fn(enrp_txn *t, void *arg)
{
	struct mstate *s = arg;
	struct enrp_journal_record *r = malloc(sizeof(*r));

	if (!r)
		return -ENOMEM;
	unsigned i;
	for (i = 0; i < s->ncp; i++)
		if (journal_get_txn(t, s->cp[i].seq, r) == 0 &&
		    memcmp(r->hash, s->cp[i].hash, 32) == 0)
			break;
	if (i < s->ncp) {
		s->seq = s->cp[i].seq;
		memcpy(s->hash, s->cp[i].hash, 32);
	} else {
		s->seq = 0;
		memset(s->hash, 0, 32);
	}
	free(r);
	return 0;
}

/* Takes run/journal-mirror.lock, waiting up to WAIT_MS.  The fd, or -EBUSY,
 * or -errno. */
static int lock_take(enrp_store *st, int wait_ms)
{
	char path[PATH_MAX];
	if (run_path(st, LOCK_NAME, path, sizeof(path)))
		return -ENAMETOOLONG;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	for (int waited = 0;; waited += 2) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			int rc = -errno;
			close(fd);
			return rc;
		}
		if (waited >= wait_ms) {
			close(fd);
			return -EBUSY;
		}
		usleep(2000);
	}
}

static void lock_release(int fd)
{
	flock(fd, LOCK_UN);
	close(fd);
}

/* ---- sending ---- */

struct conn {
	char spelling[ENRP_JOURNAL_TARGET_MAX + 1];
	struct journal_target t;
	int fd;
};

static int conn_open(struct conn *c)
{
	union {
		struct sockaddr sa;
		struct sockaddr_un un;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} addr;
	socklen_t alen;
	int family;

	memset(&addr, 0, sizeof(addr));
	if (c->t.kind == TARGET_UNIX) {
		family = AF_UNIX;
		addr.un.sun_family = AF_UNIX;
		snprintf(addr.un.sun_path, sizeof(addr.un.sun_path), "%s", c->t.path);
		alen = sizeof(addr.un);
	} else if (strchr(c->t.host, ':')) {
		family = AF_INET6;
		addr.in6.sin6_family = AF_INET6;
		addr.in6.sin6_port = htons((uint16_t)c->t.port);
		inet_pton(AF_INET6, c->t.host, &addr.in6.sin6_addr);
		alen = sizeof(addr.in6);
	} else {
		family = AF_INET;
		addr.in.sin_family = AF_INET;
		addr.in.sin_port = htons((uint16_t)c->t.port);
		inet_pton(AF_INET, c->t.host, &addr.in.sin_addr);
		alen = sizeof(addr.in);
	}
	c->fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0)
		return -errno;
	if (connect(c->fd, &addr.sa, alen) < 0) {
		int rc = -errno;
		close(c->fd);
		c->fd = -1;
		return rc;
	}
	return 0;
}

/* Sends one message; waits up to WAIT_MS for a receiver whose queue is
 * full.  0 or -errno (-EAGAIN: still full). */
static int conn_send(struct conn *c, const char *msg, size_t len, int wait_ms)
{
	if (c->t.kind == TARGET_NONE)
		return 0;
	if (c->fd < 0) {
		int rc = conn_open(c);
		if (rc)
			return rc;
	}
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (send(c->fd, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)len)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return errno ? -errno : -EIO;
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long spent = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
		if (spent >= wait_ms)
			return -EAGAIN;
		struct pollfd p = { .fd = c->fd, .events = POLLOUT };
		poll(&p, 1, (int)(wait_ms - spent));
	}
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* The open connection to SPELLING among CONNS[2], made on first use. */
static struct conn *conn_for(struct conn conns[2], const char *spelling)
{
	for (int i = 0; i < 2; i++)
		if (conns[i].spelling[0] && strcmp(conns[i].spelling, spelling) == 0)
			return &conns[i];
	struct conn *c = conns[0].spelling[0] ? &conns[1] : &conns[0];
	conn_close(c);
	snprintf(c->spelling, sizeof(c->spelling), "%s", spelling);
	if (journal_target_parse(spelling, &c->t))
		c->t.kind = TARGET_NONE; /* setting_get refused bad ones already */
	return c;
}

/* ---- flushing ---- */

/* What one committed view shows: the setting, the head, the journal's name,
 * the record under the cursor, and up to MBATCH records after it. */
struct mread {
	uint64_t cursor;
	size_t want;
	struct mirror_rec set;
	uint64_t head;
	char journal[ENRP_JOURNAL_ID_LEN + 1];
	int cursor_rc;          /* record CURSOR: 0 (hash in cursor_hash) or -errno */
	uint8_t cursor_hash[32];
	size_t n;
	int read_rc;            /* why the batch ended early (record CURSOR+N+1) */
	struct enrp_journal_record rec[MBATCH];
};

static int mread_fn(enrp_txn *t, void *arg)
{
	struct mread *m = arg;
	uint8_t hash[32];
	int rc;

	m->n = 0;
	m->read_rc = 0;
	m->journal[0] = '\0';
	rc = setting_get(t, &m->set, NULL);
	if (rc == 0)
		rc = journal_head_txn(t, &m->head, hash);
	if (rc)
		return rc;
	if (m->head == 0)
		return 0;
	rc = journal_get_txn(t, 1, &m->rec[0]);
	if (rc == 0)
		journal_id(m->rec[0].hash, m->journal);
	if (m->cursor) {
		m->cursor_rc = journal_get_txn(t, m->cursor, &m->rec[0]);
		if (m->cursor_rc == 0)
			memcpy(m->cursor_hash, m->rec[0].hash, 32);
	}
	for (uint64_t seq = m->cursor + 1; seq <= m->head && m->n < m->want; seq++) {
		rc = journal_get_txn(t, seq, &m->rec[m->n]);
		if (rc) {
			m->read_rc = rc;
			break;
		}
		m->n++;
	}
	return 0;
}

enum flush_mode {
	FLUSH_HOOK, /* the daemon's committer: no waiting at all */
	FLUSH_POLL, /* the daemon's tick */
	FLUSH_ALL,  /* enrpctl: everything, waiting a little */
};

static void host_name(char host[256])
{
	if (gethostname(host, 256) < 0)
		strcpy(host, "-");
	host[255] = '\0';
}

/* Tells the target (best effort) and the log that the journal no longer
 * holds what was mirrored. */
static void alarm_diverged(struct conn *c, const struct mread *m, const struct mstate *s,
                           const char *what)
{
	char host[256], buf[1024];

	enrp_log(ENRP_LOG_ERR, "journal: %s (record %llu was mirrored, the journal now ends at "
	         "record %llu): the journal was changed, cut or rolled back after it was "
	         "mirrored; mirroring goes on from its present state",
	         what, (unsigned long long)s->seq, (unsigned long long)m->head);
	host_name(host);
	size_t n = journal_syslog_alarm(m->journal, s->seq, s->hash, m->head, what, enrp_now_ns(),
	                                host, (int)getpid(), buf, sizeof(buf));
	if (n)
		conn_send(c, buf, n, 0);
}

static void set_failing(struct mstate *s, const char *target, int err)
{
	if (!s->failing_since)
		s->failing_since = enrp_now_ns();
	snprintf(s->error, sizeof(s->error), "%s: %s", target,
	         err == -EAGAIN ? "the receiver does not read (queue full)" : strerror(-err));
}

static int mirror_flush(enrp_store *st, enum flush_mode mode)
{
	size_t limit = mode == FLUSH_HOOK ? HOOK_MAX : mode == FLUSH_POLL ? POLL_MAX : SIZE_MAX;
	int wait_ms = mode == FLUSH_HOOK ? 0 : mode == FLUSH_POLL ? POLL_WAIT_MS : ALL_WAIT_MS;
	struct conn conns[2] = { { .fd = -1 }, { .fd = -1 } };
	struct mstate s, orig;
	struct mread *m = NULL;
	char host[256], *msg = NULL;
	size_t sent = 0;
	bool resumed = false;
	int rc;

	int lock = lock_take(st, mode == FLUSH_ALL ? LOCK_WAIT_MS : 0);
	if (lock < 0)
		return lock;
	rc = state_read(st, &s);
	if (rc == -EIO) {
		enrp_log(ENRP_LOG_WARNING, "journal: the syslog mirror's cursor (run/%s) cannot be "
		         "parsed; mirroring again from record 1", STATE_NAME);
	} else if (rc) {
		/* Not knowing where to start, send nothing. */
		enrp_log(ENRP_LOG_WARNING, "journal: cannot read the syslog mirror's cursor (run/%s): "
		         "%s", STATE_NAME, strerror(-rc));
		lock_release(lock);
		return rc;
	}
	orig = s;
	m = malloc(sizeof(*m));
	msg = malloc(JOURNAL_SYSLOG_MAX);
	if (!m || !msg) {
		rc = -ENOMEM;
		goto out;
	}
	host_name(host);
	for (;;) {
		m->cursor = s.seq;
		m->want = limit - sent < MBATCH ? limit - sent : MBATCH;
		rc = store_read_committed(st, mread_fn, m);
		if (rc) {
			set_failing(&s, "the journal", rc);
			goto out;
		}
		if (s.seq && (m->head < s.seq || m->cursor_rc ||
		              memcmp(m->cursor_hash, s.hash, 32) != 0)) {
			uint64_t was = s.seq;
			if (resumed) {
				/* The journal changes under the sender: wait for it to settle. */
				rc = -EAGAIN;
				goto out;
			}
			resumed = true;
			alarm_diverged(conn_for(conns, m->set.target), m, &s,
			               m->head < s.seq ? "the journal is shorter than what was mirrored"
			                               : "the last record mirrored is not in the journal "
			                                 "any more");
			rc = store_read_committed(st, resume_fn, &s);
			if (rc) {
				set_failing(&s, "the journal", rc);
				goto out;
			}
			enrp_log(ENRP_LOG_WARNING, "journal: mirroring again from record %llu (record "
			         "%llu was mirrored last)", (unsigned long long)s.seq + 1,
			         (unsigned long long)was);
			continue; /* read again from the record the journal still holds */
		}
		for (size_t i = 0; i < m->n; i++) {
			const struct enrp_journal_record *r = &m->rec[i];
			const struct mirror_rec *set = &m->set;
			const char *to[2] = { set->target, NULL };
			if (set->since && r->seq < set->since) {
				to[0] = set->prev;
			} else if (set->since && r->seq == set->since) {
				to[0] = set->prev; /* the old collector first */
				if (strcmp(set->prev, set->target) != 0)
					to[1] = set->target;
			}
			size_t len = journal_syslog_format(r, m->journal, host, (int)getpid(), msg,
			                                   JOURNAL_SYSLOG_MAX);
			for (int k = 0; k < 2 && to[k]; k++) {
				rc = len ? conn_send(conn_for(conns, to[k]), msg, len, wait_ms) : -EMSGSIZE;
				if (rc == -EAGAIN && mode == FLUSH_HOOK)
					goto out; /* busy, not broken: the tick goes on */
				if (rc) {
					set_failing(&s, to[k], rc);
					goto out;
				}
			}
			s.seq = r->seq;
			memcpy(s.hash, r->hash, 32);
			sent++;
		}
		if (m->read_rc) {
			rc = m->read_rc;
			snprintf(s.error, sizeof(s.error), "record %llu cannot be read: %s",
			         (unsigned long long)s.seq + 1, strerror(-rc));
			if (!s.failing_since)
				s.failing_since = enrp_now_ns();
			goto out;
		}
		if (s.seq >= m->head || sent >= limit)
			break;
	}
	rc = s.seq >= m->head ? 0 : -EAGAIN;
	if (s.failing_since) {
		enrp_log(ENRP_LOG_NOTICE, "journal: the syslog mirror works again (%s): records up "
		         "to %llu sent", m->set.target, (unsigned long long)s.seq);
		s.failing_since = 0;
		s.error[0] = '\0';
	}
out:
	if (s.failing_since && !orig.failing_since)
		enrp_log(ENRP_LOG_WARNING, "journal: cannot mirror record %llu to syslog (%s); "
		         "records stay pending and are sent once it works again ('enrpctl audit "
		         "mirror' shows the state)", (unsigned long long)s.seq + 1, s.error);
	if (state_differs(&s, &orig)) {
		if (s.seq != orig.seq || s.ncp == 0)
			store_read_committed(st, cp_fn, &s);
		state_write(st, &s);
	}
	conn_close(&conns[0]);
	conn_close(&conns[1]);
	free(msg);
	free(m);
	lock_release(lock);
	return rc;
}

void journal_mirror_hook(enrp_store *st, uint64_t seq)
{
	(void)seq; /* everything pending goes, in order, up to the durable head */
	mirror_flush(st, store_group_commit(st) ? FLUSH_HOOK : FLUSH_ALL);
}

int enrp_journal_mirror_flush(enrp_store *st)
{
	int rc = mirror_flush(st, FLUSH_ALL);
	if (rc == -EAGAIN) {
		struct mstate s;
		/* Not a full queue: a target that failed. */
		if (state_read(st, &s) == 0 && s.failing_since)
			rc = -EHOSTUNREACH;
	}
	return rc;
}

void enrp_journal_mirror_poll(enrp_store *st)
{
	mirror_flush(st, FLUSH_POLL);
}

/* ---- status, init, set ---- */

struct status_ctx {
	struct mirror_rec set;
	uint64_t head;
};

static int status_fn(enrp_txn *t, void *arg)
{
	struct status_ctx *c = arg;
	uint8_t hash[32];
	int rc = setting_get(t, &c->set, NULL);
	return rc ? rc : journal_head_txn(t, &c->head, hash);
}

int enrp_journal_mirror_status(enrp_store *st, struct enrp_journal_mirror_status *out)
{
	struct status_ctx c;
	struct mstate s;

	memset(out, 0, sizeof(*out));
	int rc = store_read_committed(st, status_fn, &c);
	if (rc)
		return rc;
	snprintf(out->target, sizeof(out->target), "%s", c.set.target);
	out->head_seq = c.head;
	rc = state_read(st, &s);
	if (rc) {
		snprintf(out->error, sizeof(out->error), "the cursor run/%s cannot be read: %s",
		         STATE_NAME, strerror(-rc));
		out->failing_since = 1;
		return 0;
	}
	out->sent_seq = s.seq;
	out->failing_since = s.failing_since;
	snprintf(out->error, sizeof(out->error), "%s", s.error);
	return 0;
}

struct init_ctx {
	const char *target;
};

static int init_fn(enrp_txn *t, void *arg)
{
	struct init_ctx *c = arg;
	struct mirror_rec m;
	uint8_t hash[32];
	uint64_t head;
	bool present;
	int rc = setting_get(t, &m, &present);
	if (rc == 0)
		rc = journal_head_txn(t, &head, hash);
	if (rc)
		return rc;
	if (present || head)
		return -EEXIST;
	memset(&m, 0, sizeof(m));
	strcpy(m.target, c->target);
	strcpy(m.prev, c->target);
	return setting_put(t, &m);
}

int enrp_journal_mirror_init(enrp_store *st, const char *target)
{
	if (enrp_journal_target_check(target))
		return -EINVAL;
	struct init_ctx c = { target };
	return enrp_store_write(st, init_fn, &c);
}

struct set_ctx {
	const struct enrp_actor *actor;
	const char *target;
	bool force;
	uint64_t unsent;
	char from[ENRP_JOURNAL_TARGET_MAX + 1];
};

static int set_fn(enrp_txn *t, void *arg)
{
	struct set_ctx *c = arg;
	struct mirror_rec m;
	uint8_t hash[32];
	char details[3 * ENRP_JOURNAL_TARGET_MAX];
	int rc = setting_get(t, &m, NULL);
	if (rc)
		return rc;
	if (strcmp(m.target, c->target) == 0)
		return -EALREADY;
	snprintf(c->from, sizeof(c->from), "%s", m.target);
	details[0] = '\0';
	enrp_details_add(details, sizeof(details), "from", "%s", m.target);
	enrp_details_add(details, sizeof(details), "to", "%s", c->target);
	enrp_details_add(details, sizeof(details), "forced", "%s", c->force ? "yes" : "no");
	enrp_details_add(details, sizeof(details), "unsent", "%llu", (unsigned long long)c->unsent);
	rc = journal_append_txn(t, c->actor, "", "mirror-target", details);
	if (rc)
		return rc;
	/* Forced: the old target cannot take them, so everything pending goes
	 * to the new one. */
	snprintf(m.prev, sizeof(m.prev), "%s", c->force ? c->target : m.target);
	snprintf(m.target, sizeof(m.target), "%s", c->target);
	rc = journal_head_txn(t, &m.since, hash);
	return rc ? rc : setting_put(t, &m);
}

/* Whether a unix-socket target has a listener now (a datagram to a UDP
 * target cannot be confirmed: it counts as reachable). */
static int probe(const char *spelling)
{
	struct conn c = { .fd = -1 };
	snprintf(c.spelling, sizeof(c.spelling), "%s", spelling);
	if (journal_target_parse(spelling, &c.t) || c.t.kind == TARGET_NONE)
		return 0;
	int rc = conn_open(&c);
	conn_close(&c);
	return rc;
}

int enrp_journal_mirror_set(enrp_store *st, const struct enrp_actor *actor, const char *target,
                            bool force)
{
	struct enrp_journal_mirror_status ms;
	if (enrp_journal_target_check(target))
		return -EINVAL;
	int rc = enrp_journal_mirror_status(st, &ms);
	if (rc)
		return rc;
	if (strcmp(ms.target, target) == 0)
		return -EALREADY;
	/* Everything pending goes to the old target first. */
	int frc = enrp_journal_mirror_flush(st);
	rc = enrp_journal_mirror_status(st, &ms);
	if (rc)
		return rc;
	uint64_t unsent = ms.head_seq > ms.sent_seq ? ms.head_seq - ms.sent_seq : 0;
	if (!force && (frc || unsent || probe(ms.target)))
		return -EHOSTUNREACH;
	struct set_ctx c = { actor, target, force, unsent, "" };
	rc = enrp_store_write(st, set_fn, &c);
	if (rc)
		return rc;
	enrp_log(ENRP_LOG_INFO, "journal: syslog mirror moved from %s to %s", c.from, target);
	/* enrpctl's hook has sent the change already; a daemon's sends it now. */
	enrp_journal_mirror_flush(st);
	return 0;
}
