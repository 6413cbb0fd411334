/*
 * notify.c — the control socket (changes made by enrpctl) and the periodic
 * maintenance thread (denial records, trash records, escalation expiry,
 * the schedules' transfer-missed and transfer-late records, the daily usage
 * samples of the compliance report).
 *
 * An EIR change is applied before the answer goes back to enrpctl, so it is
 * in force for every operation that starts after enrpctl returns (DESIGN
 * §2): the new mode is already committed (core reads it on every op); what is
 * left is the kernel's caches.  Taking fs->mode_lock for writing waits out
 * data reads that passed their check under the old mode; the kernel's pages
 * and attributes of the EIR's inodes are then invalidated — with no lock
 * held, since the kernel may wait on a read in flight that needs our reply.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <enrp/calendar.h>
#include <enrp/clock.h>
#include <enrp/enrp.h>
#include <enrp/ns.h>
#include <enrp/report.h>
#include <enrp/snapshot.h>
#include <enrp/rundir.h>
#include <enrp/transfer.h>
#include <enrp/trash.h>

#include <enrp/vault.h>

#include "fs.h"

void invalidate_eir(struct fs *fs, uint32_t eir_id)
{
	pthread_rwlock_wrlock(&fs->mode_lock);
	pthread_rwlock_unlock(&fs->mode_lock);

	uint64_t *inos;
	size_t n;
	if (nodes_of_eir(fs, eir_id, &inos, &n) == 0) {
		for (size_t i = 0; i < n; i++)
			fuse_lowlevel_notify_inval_inode(fs->se, inos[i], 0, 0);
		free(inos);
	}
	struct enrp_eir e;
	if (enrp_eir_get_by_id(fs->st, eir_id, &e) == 0) {
		/* Destroyed: its key must not outlive it in this process either. */
		if (e.state == ENRP_STATE_DESTROYED && fs->vault)
			enrp_vault_forget(fs->vault, eir_id);
		fuse_lowlevel_notify_inval_inode(fs->se, e.root_ino, 0, 0);
		fuse_lowlevel_notify_inval_entry(fs->se, ENRP_ROOT_INO, e.name, strlen(e.name));
	}
	fuse_lowlevel_notify_inval_inode(fs->se, ENRP_ROOT_INO, 0, 0);
}

static int unhex_name(const char *hex, char *name, size_t size)
{
	size_t n = strlen(hex);
	if (n == 0 || n % 2 || n / 2 >= size)
		return -EINVAL;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned byte;
		if (sscanf(hex + 2 * i, "%2x", &byte) != 1 || !isxdigit((unsigned char)hex[2 * i]) ||
		    !isxdigit((unsigned char)hex[2 * i + 1]))
			return -EINVAL;
		name[i] = (char)byte;
	}
	name[n / 2] = '\0';
	return memchr(name, '\0', n / 2) || strchr(name, '/') ? -EINVAL : 0;
}

/* "expire PARENT INO SEALED_BEFORE HEXNAME": prune removes a live file past
 * its retention.  Done here, not by enrpctl, because only the daemon knows
 * whether the kernel holds the inode (its orphan is freed now or at
 * forget), and the kernel must learn that the name is gone. */
static void expire_request(struct fs *fs, const char *request, char *reply, size_t reply_size)
{
	uint64_t parent, ino;
	int64_t before;
	char hex[2 * ENRP_NAME_MAX + 2], name[ENRP_NAME_MAX + 1];
	int rc = -EINVAL;
	if (sscanf(request, "expire %" SCNu64 " %" SCNu64 " %" SCNd64 " %511s", &parent, &ino,
	           &before, hex) == 4)
		rc = unhex_name(hex, name, sizeof(name));
	if (rc == 0)
		rc = enrp_ns_expire(fs->st, parent, name, ino, before, false);
	if (rc == 0) {
		node_release_unknown(fs, ino);
		fuse_lowlevel_notify_delete(fs->se, parent, ino, name, strlen(name));
	}
	snprintf(reply, reply_size, "ok %d", -rc);
}

static void control_handler(const char *request, char *reply, size_t reply_size, void *arg)
{
	struct fs *fs = arg;
	unsigned long id;
	char tail;
	if (strncmp(request, "expire ", 7) == 0) {
		expire_request(fs, request, reply, reply_size);
	} else if (sscanf(request, "eir-changed %lu%c", &id, &tail) == 1 && id && id <= UINT32_MAX) {
		invalidate_eir(fs, (uint32_t)id);
		snprintf(reply, reply_size, "ok");
	} else if (strcmp(request, "sync") == 0) {
		int rc = enrp_store_sync(fs->st);
		if (rc)
			snprintf(reply, reply_size, "error %s", enrp_strerror(rc));
		else
			snprintf(reply, reply_size, "ok");
	} else if (strcmp(request, "gc") == 0) {
		int rc = enrp_gc_start(fs->gc);
		if (rc)
			snprintf(reply, reply_size, "error %s", enrp_strerror(rc));
		else
			snprintf(reply, reply_size, "ok");
	} else if (strcmp(request, "gc-status") == 0) {
		bool started, running;
		int rc;
		struct enrp_gc_result r;
		enrp_gc_status(fs->gc, &started, &running, &rc, &r);
		snprintf(reply, reply_size,
		         "ok %s %d %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu32 " %" PRIu32,
		         !started ? "idle" : running ? "running" : "done", rc, r.chunks,
		         r.chunks_freed, r.bytes_freed, r.chunks_busy, r.eirs, r.eirs_total);
	} else if (strcmp(request, "ping") == 0) {
		snprintf(reply, reply_size, "ok %d", (int)getpid());
	} else {
		snprintf(reply, reply_size, "error unknown request");
	}
}

static void block_signals(void)
{
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
}

static void *control_main(void *arg)
{
	pthread_setname_np(pthread_self(), "enrp-control");
	struct fs *fs = arg;
	block_signals();
	while (!fs->stopping) {
		struct pollfd p = { .fd = fs->control_fd, .events = POLLIN };
		int n = poll(&p, 1, 200);
		if (n > 0)
			enrp_control_serve_one(fs->control_fd, control_handler, fs);
	}
	return NULL;
}

/* Starts a collection of its own when chunks have lost their last user
 * since the last one and GC_INTERVAL has passed; one runs GC_INTERVAL after
 * the start too, for what a crash left behind (interrupted seals). */
static void maybe_collect(struct fs *fs, int64_t mono_now, int64_t *last, uint64_t *seen)
{
	if (fs->gc_interval <= 0 || mono_now - *last < fs->gc_interval * 1000000000LL)
		return;
	uint64_t n = enrp_store_unreferenced(fs->st);
	if (n == *seen)
		return;
	*last = mono_now;
	*seen = n;
	int rc = enrp_gc_start(fs->gc);
	if (rc)
		enrp_log(ENRP_LOG_WARNING, "cannot start garbage collection: %s", enrp_strerror(rc));
}

#define AUTO_SNAPSHOT_EVERY 10

/* The schedules' check (transfer.h): transfer-missed once per slot whose
 * window closed empty, transfer-late when its file comes.  *TZ is the
 * platform's zone, opened again when calendar zone changed it; with no
 * usable zone the check waits (a warning, once per zone name). */
static void check_transfers(struct fs *fs, int64_t pnow, enrp_tz **tz, char *tz_name)
{
	char zone[ENRP_ZONE_MAX + 1];
	int rc = enrp_calendar_zone(fs->st, zone);
	if (rc == 0 && strcmp(zone, tz_name) != 0) {
		enrp_tz *nz = NULL;
		snprintf(tz_name, ENRP_ZONE_MAX + 1, "%s", zone);
		rc = enrp_tz_open(zone, &nz);
		enrp_tz_free(*tz);
		*tz = nz;
		if (rc)
			enrp_log(ENRP_LOG_WARNING, "schedules: cannot load the platform's zone %s: %s",
			         zone, enrp_strerror(rc));
	}
	if (rc || !*tz)
		return;
	rc = enrp_transfer_check(fs->st, *tz, pnow, &fs->actor, NULL);
	if (rc)
		enrp_log(ENRP_LOG_WARNING, "schedules: %s", enrp_strerror(rc));
}

/* The compliance report's daily usage samples (report.h): today's, for the
 * EIRs that have none yet; a read finds that out, so the rounds after the
 * first of the day write nothing. */
static void sample_usage(struct fs *fs, int64_t pnow, const enrp_tz *tz)
{
	if (!tz)
		return;
	int64_t s = pnow / 1000000000;
	int rc = enrp_usage_sample_today(fs->st, enrp_day_of(pnow, enrp_tz_offset(tz, s)), NULL);
	if (rc)
		enrp_log(ENRP_LOG_WARNING, "usage samples: %s", enrp_strerror(rc));
}

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *maint_main(void *arg)
{
	pthread_setname_np(pthread_self(), "enrp-maint");
	struct fs *fs = arg;
	int64_t gc_last = mono_ns();
	uint64_t gc_seen = UINT64_MAX; /* never equal: one run after the first interval */
	unsigned round = 0;
	/* Clock jumps are looked for once a round (about a second), against
	 * CLOCK_BOOTTIME: a timerfd with TFD_TIMER_CANCEL_ON_SET would say
	 * when the clock was set, but not by how much, and not a clock that
	 * steps without settimeofday (a VM resumed, a faked clock). */
	struct enrp_clock_watch cw = { 0 };
	int64_t jump_from, jump_to;
	enrp_tz *tz = NULL;
	char tz_name[ENRP_ZONE_MAX + 1] = "";
	block_signals();
	while (!fs->stopping) {
		if (enrp_clock_jump_check(&cw, &jump_from, &jump_to)) {
			int jrc = enrp_clock_jump_journal(fs->st, &fs->actor, jump_from, jump_to,
			                                  "monotonic");
			enrp_log(ENRP_LOG_WARNING, "the host clock jumped %s by %" PRId64 " s%s%s",
			         jump_to > jump_from ? "forward" : "backward",
			         (jump_to > jump_from ? jump_to - jump_from : jump_from - jump_to) /
			                 1000000000,
			         jrc ? "; cannot journal it: " : "", jrc ? enrp_strerror(jrc) : "");
		}
		maybe_collect(fs, mono_ns(), &gc_last, &gc_seen);
		int64_t now = enrp_now_ns();
		enrp_denials_flush(fs->denials, &fs->actor, now, false);
		enrp_losses_flush(fs->losses, &fs->actor, now, false);
		/* What clients' deletes and rewrites trashed: one record per EIR. */
		enrp_trash_journal(fs->st, &fs->actor, NULL);
		/* Journal records the syslog mirror could not send yet (a target
		 * that was down, a record enrpctl left pending). */
		enrp_journal_mirror_poll(fs->st);
		/* Active EIRs: a snapshot at least every rpo while changes arrive
		 * (checked every AUTO_SNAPSHOT_EVERY rounds of about a second). */
		if (++round % AUTO_SNAPSHOT_EVERY == 0) {
			int64_t pnow;
			unsigned taken;
			int clock_rc = enrp_platform_now(fs->st, &pnow), rc = clock_rc;
			if (rc == 0)
				rc = enrp_snapshot_auto(fs->st, pnow, &fs->actor, &taken);
			if (rc)
				enrp_log(ENRP_LOG_WARNING, "active-mode snapshots: %s", enrp_strerror(rc));
			if (clock_rc == 0) {
				check_transfers(fs, pnow, &tz, tz_name);
				sample_usage(fs, pnow, tz);
			}
		}
		uint32_t ids[64];
		unsigned expired = 0;
		if (enrp_eir_expire_escalations(fs->st, now, &fs->actor, ids, 64, &expired) == 0)
			for (unsigned i = 0; i < expired && i < 64; i++)
				invalidate_eir(fs, ids[i]);
		nodes_free_owed(fs);
		for (int i = 0; i < 10 && !fs->stopping; i++) {
			usleep(100000);
			handles_reap(fs, false);
		}
	}
	enrp_tz_free(tz);
	return NULL;
}

int notify_start(struct fs *fs)
{
	fs->control_fd = enrp_control_listen(fs->store_path);
	if (fs->control_fd < 0)
		return fs->control_fd;
	int rc = -pthread_create(&fs->control_thread, NULL, control_main, fs);
	if (rc) {
		close(fs->control_fd);
		return rc;
	}
	rc = -pthread_create(&fs->maint_thread, NULL, maint_main, fs);
	if (rc) {
		fs->stopping = true;
		pthread_join(fs->control_thread, NULL);
		close(fs->control_fd);
		return rc;
	}
	fs->threads_started = true;
	return 0;
}

void notify_stop(struct fs *fs)
{
	if (!fs->threads_started)
		return;
	fs->stopping = true;
	pthread_join(fs->control_thread, NULL);
	pthread_join(fs->maint_thread, NULL);
	close(fs->control_fd);
	fs->threads_started = false;
}
