/*
 * metrics.c — `enrpfs -o metrics=FILE`: the daemon's numbers in the
 * Prometheus text exposition format, for node_exporter's textfile
 * collector (or anything that reads a file).
 *
 * A thread of its own writes the whole text to FILE.tmp in FILE's
 * directory and renames it over FILE, every metrics_interval seconds and
 * once more when the daemon stops, so a reader always sees one complete
 * text, never a half-written one.  No fsync: after a crash the file is
 * rewritten within one interval, and a stale or missing one is what a
 * crashed daemon should look like (enrp_up and the file's timestamp say
 * how old it is).  The file is 0644: it holds EIR names and sizes, which
 * whoever runs the exporter may read; put it in a directory closed to
 * others if that is too much.
 *
 * What it reads comes from short read transactions of the store (the
 * registry, counters and the queue), so a write costs the same whatever
 * the EIRs hold, and never blocks the filesystem's operations for longer
 * than one of them.
 *
 * Locking: M->lock protects M->stop; the thread sleeps on M->wake.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <enrp/clock.h>
#include <enrp/eir.h>
#include <enrp/enrp.h>
#include <enrp/ingest.h>
#include <enrp/journal.h>
#include <enrp/reader.h>

#include "fs.h"

struct metrics {
	struct fs *fs;
	char *path, *tmp;
	long interval;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop; /* protected by lock */
	bool final; /* the last write (the thread's alone): enrp_up 0 */
};

struct eirs {
	struct enrp_eir *v;
	size_t n, cap;
};

static int eir_cb(const struct enrp_eir *e, void *arg)
{
	struct eirs *l = arg;
	if (e->state == ENRP_STATE_DESTROYED)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct enrp_eir *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *e;
	return 0;
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One family of per-EIR values: VALUE(i) for each EIR that has it. */
#define PER_EIR(f, l, metric, type, help, have, fmt, value) \
	do { \
		head(f, metric, type, help); \
		for (size_t i = 0; i < (l)->n; i++) \
			if (have) \
				fprintf(f, "%s{eir=\"%s\"} " fmt "\n", metric, (l)->v[i].name, value); \
	} while (0)

/* Writes the whole text on F.  Names are [a-z0-9._-] (enrp_eir_name_valid),
 * so they need no escaping in a label value. */
static int render(struct metrics *m, FILE *f)
{
	enrp_store *st = m->fs->st;
	struct eirs l = { 0 };
	int rc = enrp_eir_list(st, eir_cb, &l);
	if (rc) {
		free(l.v);
		return rc;
	}
	struct enrp_eir_usage *u = calloc(l.n ? l.n : 1, sizeof(*u));
	struct enrp_eir_files *fc = calloc(l.n ? l.n : 1, sizeof(*fc));
	struct enrp_ingest_backlog *bl = calloc(l.n ? l.n : 1, sizeof(*bl));
	bool *hu = calloc(l.n ? l.n : 1, 3 * sizeof(bool));
	if (!u || !fc || !bl || !hu) {
		rc = -ENOMEM;
		goto out;
	}
	bool *hf = hu + l.n, *hb = hu + 2 * l.n;
	for (size_t i = 0; i < l.n; i++) {
		hu[i] = enrp_eir_usage(st, l.v[i].id, &u[i]) == 0;
		hf[i] = enrp_eir_files(st, l.v[i].id, &fc[i]) == 0;
		hb[i] = enrp_ingest_backlog(st, l.v[i].id, &bl[i]) == 0;
	}
	struct enrp_ingest_stats is;
	enrp_ingest_stats(m->fs->ing, &is);
	struct enrp_journal_head jh;
	bool have_head = enrp_journal_head(st, &jh) == 0;
	int64_t now = enrp_now_ns();

	head(f, "enrp_up", "gauge",
	     "1 while enrpfs serves the store; 0 in the last file it wrote as it stopped.");
	fprintf(f, "enrp_up %d\n", m->final ? 0 : 1);
	head(f, "enrp_metrics_timestamp_seconds", "gauge",
	     "When enrpfs wrote this file (Unix time): a stale value means a stopped daemon.");
	fprintf(f, "enrp_metrics_timestamp_seconds %" PRId64 "\n", now / 1000000000);
	head(f, "enrp_seal_files_total", "counter",
	     "Files sealed (checksummed, chunked, stored and verified) since enrpfs started.");
	fprintf(f, "enrp_seal_files_total %" PRIu64 "\n", is.sealed_files);
	head(f, "enrp_seal_bytes_total", "counter",
	     "Logical bytes of the files sealed since enrpfs started.");
	fprintf(f, "enrp_seal_bytes_total %" PRIu64 "\n", is.sealed_bytes);
	head(f, "enrp_verify_failures_total", "counter",
	     "Chunks that failed their check on a read since enrpfs started (each marks its file corrupt).");
	fprintf(f, "enrp_verify_failures_total %" PRIu64 "\n", enrp_reader_verify_failures());
	head(f, "enrp_fsync_total", "counter",
	     "Client fsyncs of files since enrpfs started, by what made them durable: the file's "
	     "spool file alone, or with a metadata commit.");
	fprintf(f, "enrp_fsync_total{kind=\"alone\"} %" PRIu64 "\n",
	        atomic_load(&m->fs->fsyncs_alone));
	fprintf(f, "enrp_fsync_total{kind=\"commit\"} %" PRIu64 "\n",
	        atomic_load(&m->fs->fsyncs_committed));
	struct enrp_clock_sync cs;
	if (enrp_clock_sync(&cs) == 0) {
		head(f, "enrp_clock_synchronised", "gauge",
		     "1 when the host clock is disciplined (adjtimex: no STA_UNSYNC, state not TIME_ERROR), else 0.");
		fprintf(f, "enrp_clock_synchronised %d\n", cs.synchronised ? 1 : 0);
		head(f, "enrp_clock_maxerror_seconds", "gauge",
		     "Maximum error of the host clock as the kernel estimates it (adjtimex maxerror).");
		fprintf(f, "enrp_clock_maxerror_seconds %.6f\n", (double)cs.maxerror_us / 1e6);
	}
	if (have_head) {
		head(f, "enrp_journal_head_seq", "gauge",
		     "Sequence number of the last audit journal record.");
		fprintf(f, "enrp_journal_head_seq %" PRIu64 "\n", jh.seq);
	}
	PER_EIR(f, &l, "enrp_ingest_backlog_files", "gauge",
	        "Files of the EIR queued for sealing.", hb[i], "%" PRIu64, bl[i].files);
	PER_EIR(f, &l, "enrp_ingest_backlog_oldest_seconds", "gauge",
	        "How long the oldest file of the EIR queued for sealing has waited (0: none).",
	        hb[i], "%" PRId64,
	        bl[i].files && now > bl[i].oldest_queued ? (now - bl[i].oldest_queued) / 1000000000
	                                                 : (int64_t)0);
	PER_EIR(f, &l, "enrp_eir_used_bytes", "gauge",
	        "Bytes charged to the EIR's quota.", hu[i], "%" PRIu64, u[i].bytes);
	PER_EIR(f, &l, "enrp_eir_quota_bytes", "gauge",
	        "The EIR's quota in bytes (0: none).", true, "%" PRIu64, l.v[i].quota);
	PER_EIR(f, &l, "enrp_eir_stored_bytes", "gauge",
	        "Bytes of the chunks the EIR still references (files, snapshots, trash).", hu[i],
	        "%" PRIu64, u[i].stored);
	PER_EIR(f, &l, "enrp_eir_inodes", "gauge", "Live inodes of the EIR.", hu[i], "%" PRIu64,
	        u[i].inodes);
	head(f, "enrp_eir_files", "gauge",
	     "Regular files of the EIR by state (verified + pending + corrupt = all).");
	for (size_t i = 0; i < l.n; i++) {
		if (!hf[i])
			continue;
		fprintf(f, "enrp_eir_files{eir=\"%s\",state=\"verified\"} %" PRIu64 "\n", l.v[i].name,
		        fc[i].verified);
		fprintf(f, "enrp_eir_files{eir=\"%s\",state=\"pending\"} %" PRIu64 "\n", l.v[i].name,
		        fc[i].open + fc[i].pending);
		fprintf(f, "enrp_eir_files{eir=\"%s\",state=\"corrupt\"} %" PRIu64 "\n", l.v[i].name,
		        fc[i].corrupt);
	}
	PER_EIR(f, &l, "enrp_eir_last_verified_timestamp_seconds", "gauge",
	        "When the EIR's latest verified transfer was sealed (Unix time; 0: never).",
	        hf[i], "%" PRId64, fc[i].last_sealed / 1000000000);
	head(f, "enrp_eir_info", "gauge",
	     "The EIR's mode, state and class as labels; the value is always 1.");
	for (size_t i = 0; i < l.n; i++)
		fprintf(f, "enrp_eir_info{eir=\"%s\",mode=\"%s\",state=\"%s\",class=\"%u\"} 1\n",
		        l.v[i].name, enrp_mode_name(l.v[i].mode), enrp_state_name(l.v[i].state),
		        (unsigned)l.v[i].eir_class);
out:
	free(hu);
	free(bl);
	free(fc);
	free(u);
	free(l.v);
	return rc;
}

/* Writes the file: FILE.tmp, then rename over FILE. */
static int write_file(struct metrics *m)
{
	int fd = open(m->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	fchmod(fd, 0644); /* whatever the daemon's umask */
	FILE *f = fdopen(fd, "w");
	if (!f) {
		int err = -errno;
		close(fd);
		unlink(m->tmp);
		return err;
	}
	int rc = render(m, f);
	if (ferror(f) && rc == 0)
		rc = -EIO;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(m->tmp, m->path) != 0)
		rc = -errno;
	if (rc)
		unlink(m->tmp);
	return rc;
}

static void *metrics_main(void *arg)
{
	pthread_setname_np(pthread_self(), "enrp-metrics");
	struct metrics *m = arg;
	bool warned = false;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals are the FUSE loop's */
	pthread_mutex_lock(&m->lock);
	for (;;) {
		bool last = m->stop;
		pthread_mutex_unlock(&m->lock);
		m->final = last;
		int rc = write_file(m);
		if (rc && !warned)
			enrp_log(ENRP_LOG_WARNING, "cannot write metrics file '%s': %s", m->path,
			         enrp_strerror(rc));
		warned = rc != 0; /* say it again once it worked in between */
		pthread_mutex_lock(&m->lock);
		if (last)
			break;
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += m->interval;
		while (!m->stop && pthread_cond_timedwait(&m->wake, &m->lock, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

int metrics_check_path(const char *path)
{
	char *tmp;
	if (path[0] != '/' || asprintf(&tmp, "%s.tmp", path) < 0)
		return -EINVAL;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	int err = fd < 0 ? -errno : 0;
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	free(tmp);
	return err;
}

int metrics_start(struct fs *fs, const char *path, long interval, struct metrics **out)
{
	struct metrics *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->fs = fs;
	m->interval = interval;
	m->path = strdup(path);
	if (!m->path || asprintf(&m->tmp, "%s.tmp", path) < 0) {
		free(m->path);
		free(m);
		return -ENOMEM;
	}
	pthread_mutex_init(&m->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->wake, &ca);
	pthread_condattr_destroy(&ca);
	int rc = pthread_create(&m->thread, NULL, metrics_main, m);
	if (rc) {
		pthread_cond_destroy(&m->wake);
		pthread_mutex_destroy(&m->lock);
		free(m->tmp);
		free(m->path);
		free(m);
		return -rc;
	}
	*out = m;
	return 0;
}

void metrics_stop(struct metrics *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	m->stop = true;
	pthread_cond_signal(&m->wake);
	pthread_mutex_unlock(&m->lock);
	pthread_join(m->thread, NULL);
	pthread_cond_destroy(&m->wake);
	pthread_mutex_destroy(&m->lock);
	free(m->tmp);
	free(m->path);
	free(m);
}
