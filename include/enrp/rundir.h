/*
 * rundir.h — STORE/run/: the daemon's pid lock and its control socket.
 *
 * One enrpfs serves a store: it holds an exclusive lock on run/enrpfs.pid
 * for its lifetime.  enrpctl tells a running daemon about changes it made
 * (so the daemon can drop what the kernel caches) over run/control.sock and
 * waits for the answer, so a change is in force when enrpctl returns.
 *
 * Protocol: one request line, one answer line, then close.
 *   "eir-changed ID\n"  -> "ok\n"   (EIR ID's mode/state/owner changed)
 *   "sync\n"            -> "ok\n"   (group commit now)
 *   "ping\n"            -> "ok PID\n"
 * Anything else -> "error unknown request\n".
 *
 * The daemon also records its mount point in run/enrpfs.mount.  `fusermount3
 * -u` returns as soon as the kernel has dropped the mount, while the daemon
 * still finishes its work (seals, journal, store close) with the lock held:
 * a lock holder whose mount is gone is shutting down, and what waits for the
 * store can wait for it (enrp_rundir_wait_stopped).  A mount point that
 * stays mounted after the lock was released belongs to a killed daemon.
 *
 * Snapshot mounts (enrpfs -o snapshot=EIR@NAME) are second, read-only
 * processes: they never take the daemon lock.  Each holds a shared lock on
 * run/snapshot-EIRID-GEN.mount for its lifetime, which holds the mount
 * point of the last one mounted; deleting the snapshot takes the lock
 * exclusively, so it is refused while any such mount lives, and a mount
 * cannot start during a deletion.
 */
#ifndef ENRP_RUNDIR_H
#define ENRP_RUNDIR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <enrp/store.h>

/* Takes the daemon lock of STORE_PATH.  Returns the lock descriptor (keep it
 * open while serving), or -EBUSY with *HOLDER set to the serving pid (0 if
 * unknown), or -errno. */
int enrp_rundir_lock(const char *store_path, pid_t *holder);

/* Writes our pid into the locked pid file (after daemonising). */
int enrp_rundir_write_pid(int lock_fd);

/* Pid of the daemon serving STORE_PATH, or 0 when none (1 if one holds the
 * lock but has not written its pid yet). */
pid_t enrp_rundir_daemon_pid(const char *store_path);

/* Daemon side, once its mount is up: records MOUNTPOINT (absolute) in
 * run/enrpfs.mount, replaced whole (tmp + rename), so that enrpctl can tell
 * a daemon still serving it from one shutting down, and a mount left behind
 * by a killed daemon.  The file outlives the daemon on purpose. */
int enrp_rundir_write_mountpoint(const char *store_path, const char *mountpoint);

enum enrp_daemon_state {
	ENRP_DAEMON_NONE,     /* nobody holds the daemon lock */
	ENRP_DAEMON_SERVING,  /* a holder whose mount is up, or whose mount is not
	                       * known (still starting; enrpctl gc or prune) */
	ENRP_DAEMON_STOPPING, /* a holder whose recorded mount is gone: unmounted,
	                       * it is finishing its work and about to exit */
};

struct enrp_daemon_info {
	enum enrp_daemon_state state;
	pid_t pid;              /* as enrp_rundir_daemon_pid(); 0 with NONE */
	char mountpoint[4096];  /* the last mount point recorded, "" if none */
	bool stale;             /* NONE, and MOUNTPOINT is still a FUSE mount whose
	                         * daemon is gone (ENOTCONN): `fusermount3 -u`
	                         * clears it */
};

/* What the daemon of STORE_PATH is doing (see enum enrp_daemon_state).
 * Probes the lock like enrp_rundir_daemon_pid(), reads /proc/self/mounts and
 * stats the mount point; never talks to the daemon, so a hung one cannot
 * hang the caller.  0, or -errno (-ENAMETOOLONG). */
int enrp_rundir_daemon_info(const char *store_path, struct enrp_daemon_info *out);

/* While the daemon of STORE_PATH is STOPPING, polls until it is gone, at
 * most TIMEOUT_MS.  OUT holds the last state seen: NONE (it exited),
 * SERVING (another one started meanwhile), or STOPPING (still there at the
 * deadline).  0, or -errno of enrp_rundir_daemon_info(). */
int enrp_rundir_wait_stopped(const char *store_path, int timeout_ms,
                             struct enrp_daemon_info *out);

/* Daemon side: creates and listens on run/control.sock (mode 0600).  Returns
 * the listening descriptor or -errno. */
int enrp_control_listen(const char *store_path);

/* Daemon side: the handler of one request line (without the newline).  It
 * writes the answer line (without newline) into REPLY. */
typedef void enrp_control_handler(const char *request, char *reply, size_t reply_size,
                                  void *arg);

/* Daemon side: accepts and serves one connection on LISTEN_FD.  Returns 0,
 * or -errno of accept (EINTR/EAGAIN included). */
int enrp_control_serve_one(int listen_fd, enrp_control_handler *handler, void *arg);

/* Client side: sends REQUEST (without newline) to the daemon of STORE_PATH
 * and copies its answer into REPLY (may be NULL).  Waits at most TIMEOUT_MS.
 * -ENOENT/-ECONNREFUSED when no daemon is serving (not an error for callers
 * that only notify), -ETIMEDOUT, -EPROTO on an "error" answer, -ECONNRESET
 * when the daemon hung up without answering (it died). */
int enrp_control_request(const char *store_path, const char *request, char *reply,
                         size_t reply_size, int timeout_ms);

/* Client side: tells a running daemon that EIR ID changed, and waits until
 * it has applied it.  0 also when no daemon runs, or the daemon died while
 * it was being told (a new one reads the change from the store). */
int enrp_control_notify_eir(const char *store_path, uint32_t id);

/* Snapshot mount side: takes the shared lock of snapshot GEN of EIR ID and
 * records MOUNTPOINT in it.  Returns the descriptor (keep it open while
 * serving; closing it releases the lock), or -errno (-EBUSY while the
 * snapshot is being deleted). */
int enrp_rundir_snapshot_mount_lock(const char *store_path, uint32_t eir_id, uint64_t gen,
                                    const char *mountpoint);

/* Deleting side: takes the lock of snapshot GEN of EIR ID exclusively.
 * Returns the descriptor (close it once the snapshot is gone), or -EBUSY
 * while a mount of it lives, with the mount point last recorded copied
 * into MOUNTED_AT (may be NULL; "" when unknown), or -errno. */
int enrp_rundir_snapshot_delete_lock(const char *store_path, uint32_t eir_id, uint64_t gen,
                                     char *mounted_at, size_t size);

#endif
