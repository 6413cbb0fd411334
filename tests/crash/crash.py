#!/usr/bin/python3
"""crash.py — the crash harness behind `make crash` (see tests/crash/run).

Each run: a fresh store with EIRs e1 (class 1) and e2, mounted; the seeded
workload (workload.py) runs until enrpfs is SIGKILLed at a random moment
(or, in 'pending' runs, just as a large file starts being sealed, or in
'verified' runs, just after fresh files were seen verified); then
fusermount3 -uz, mount again, wait until .enrp/pending of each EIR is
empty, and check:

  - the store mounts again;
  - every file the workload recorded as fsync'd or verified (and did not
    delete, rename or overwrite afterwards) has its SHA-256: "verified"
    is any moment enrp.state read 'verified' or .enrp/SHA256SUMS listed
    the file, so whatever enrp showed verified must survive the kill
    (in 'verified' runs the kill lands milliseconds after such a moment);
  - after a clean unmount, `enrpctl trash purge e1` (e2's trash stays) and
    an offline `enrpctl gc` exit 0, after which
    `enrpctl fsck --json` exits 0 and finds nothing (no unreferenced chunk
    is left, none that a file uses is missing; the workload also runs gc
    online now and then, and purges trash, so kills land during
    collections and purges too),
    `enrpctl fsck --repair` leaves a store on which a second fsck finds
    nothing at all, and a new daemon reads every file back whole;
  - every file of every snapshot (the workload takes and deletes them
    beside the transfers) reads back, every chunk checked, with the
    SHA-256 it was sealed with;
  - `enrpctl audit verify` finds the chain intact.
"""
import hashlib, json, os, random, shutil, signal, stat, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("BUILD", "build")
BUILDDIR = BUILD if BUILD.startswith("/") else os.path.join(REPO, BUILD)
ENRPFS = os.path.join(BUILDDIR, "enrpfs")
ENRPCTL = os.path.join(BUILDDIR, "enrpctl")



def sh(*args, timeout=60, check=False):
    r = subprocess.run(list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    if check and r.returncode:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(args), r.returncode,
                                                 r.stderr.decode(errors="replace")[:500]))
    return r


def mounted(mnt):
    with open("/proc/mounts") as f:
        return any(line.split()[1] == mnt for line in f)


def poll(fn, timeout, step=0.1):
    end = time.time() + timeout
    while time.time() < end:
        if fn():
            return True
        time.sleep(step)
    return fn()


def daemon_pid(store):
    try:
        p = int(open(os.path.join(store, "run", "enrpfs.pid")).read().strip() or 0)
    except (OSError, ValueError):
        return 0
    try:
        cmd = open("/proc/%d/cmdline" % p, "rb").read()
    except OSError:
        return 0
    return p if b"enrpfs" in cmd and store.encode() in cmd else 0


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def sha_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


class Run:
    def __init__(self, seed, base):
        self.seed = seed
        self.dir = os.path.join(base, "run-%d" % seed)
        self.store = os.path.join(self.dir, "store")
        self.mnt = os.path.join(self.dir, "mnt")
        self.log = os.path.join(self.dir, "workload.log")
        self.marker = os.path.join(self.dir, "kill-now")
        self.violations = []
        self.notes = []
        self.rng = random.Random(seed * 7919 + 1)

    def ctl(self, *args, timeout=120):
        return sh(ENRPCTL, "-S", self.store, *args, timeout=timeout)

    def violate(self, msg):
        self.violations.append(msg)

    def mount(self):
        r = sh(ENRPFS, self.store, self.mnt, timeout=30)
        if r.returncode:
            raise RuntimeError("enrpfs exit %d: %s" % (r.returncode, r.stderr.decode()[:300]))
        if not poll(lambda: mounted(self.mnt), 20) or not poll(lambda: daemon_pid(self.store), 10):
            raise RuntimeError("mount did not appear")

    def umount(self):
        pid = daemon_pid(self.store)
        for _ in range(20):
            if sh("fusermount3", "-u", self.mnt).returncode == 0:
                break
            time.sleep(0.3)
        else:
            raise RuntimeError("fusermount3 -u failed (busy)")
        if pid and not poll(lambda: not alive(pid), 30):
            raise RuntimeError("enrpfs %d still running after unmount" % pid)

    def expected(self):
        """path -> sha256 the workload was promised and did not give up."""
        want = {}
        with open(self.log) as f:
            for line in f:
                try:
                    r = json.loads(line)
                except ValueError:
                    continue  # the last line may be cut by the kill of the workload
                if r["op"] in ("durable", "verified"):
                    want[r["path"]] = (r["sha"], r["op"])
                elif r["op"] == "gone":
                    want.pop(r["path"], None)
                elif r["op"] == "bad-sha":
                    self.violate("before the kill: %s verified with sha %s, content is %s"
                                 % (r["path"], r["got"], r["want"]))
        return want

    def drained(self):
        for e in ("e1", "e2"):
            try:
                with open(os.path.join(self.mnt, e, ".enrp", "pending")) as f:
                    if f.read().strip():
                        return False
            except OSError:
                return False
        return True

    def fsck(self, *extra):
        r = self.ctl("fsck", "--json", *extra)
        try:
            j = json.loads(r.stdout)
        except ValueError:
            j = {"findings": [], "unparsable": r.stdout.decode(errors="replace")[:300]}
        return r.returncode, j, r.stderr.decode(errors="replace")

    def go(self):
        os.makedirs(self.mnt)
        os.makedirs(os.path.join(self.dir, "src"))
        sh(ENRPCTL, "init", self.store, check=True)
        self.ctl("eir", "create", "e1", "--owner", "root", "--class", "1")
        r = self.ctl("eir", "create", "e2", "--owner", "root")
        if r.returncode:
            raise RuntimeError("eir create: " + r.stderr.decode())
        self.mount()
        x = self.rng.random()
        killmode = "pending" if x < 0.3 else "verified" if x < 0.6 else "time"
        killmode = os.environ.get("CRASH_KILLMODE") or killmode
        delay = self.rng.uniform(0.8, 5.0)
        wl = subprocess.Popen([sys.executable, os.path.join(HERE, "workload.py"), str(self.seed),
                               self.mnt, self.store, ENRPCTL, self.log, self.marker, killmode],
                              stdout=subprocess.DEVNULL,
                              stderr=open(os.path.join(self.dir, "workload.err"), "w"),
                              start_new_session=True)
        t0 = time.time()
        if killmode in ("pending", "verified"):
            if not poll(lambda: os.path.exists(self.marker) or wl.poll() is not None, 40, 0.001):
                self.notes.append("no-marker")
            elif killmode == "pending":
                time.sleep(self.rng.choice([0, 0, 0.01, 0.05, 0.2]))
            else:
                time.sleep(self.rng.choice([0, 0, 0.002, 0.005, 0.02]))
        else:
            poll(lambda: wl.poll() is not None, delay)
        pid = daemon_pid(self.store)
        if not pid:
            raise RuntimeError("no enrpfs to kill (workload exit %s)" % wl.poll())
        os.kill(pid, signal.SIGKILL)
        self.kill_at = time.time() - t0
        if not poll(lambda: not alive(pid), 20):
            raise RuntimeError("enrpfs survived SIGKILL")
        try:
            wl.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(wl.pid, signal.SIGKILL)
            wl.wait()
            self.notes.append("workload-hung")
        sh("fusermount3", "-uz", self.mnt)
        if not poll(lambda: not mounted(self.mnt), 20):
            raise RuntimeError("dead mount not cleaned up")

        # Recovery: the store must mount again and drain its queue.
        try:
            self.mount()
        except RuntimeError as e:
            self.violate("remount after SIGKILL failed: %s" % e)
            return
        for e in ("e1", "e2"):
            self.ctl("eir", "set", e, "--mode", "rw")
        if not poll(self.drained, 60, 0.3):
            self.violate("queue did not drain within 60 s: " + " ".join(
                open(os.path.join(self.mnt, e, ".enrp", "pending")).read().split()[:10]
                for e in ("e1", "e2")))
        want = self.expected()
        self.checked = len(want)
        for p, (h, why) in sorted(want.items()):
            try:
                got = sha_file(os.path.join(self.mnt, p))
            except OSError as e:
                self.violate("%s (%s before the kill) unreadable: %s" % (p, why, e))
                continue
            if got != h:
                self.violate("%s (%s before the kill): sha256 %s, expected %s"
                             % (p, why, got[:16], h[:16]))
        # Every file of every snapshot reads back whole: each chunk it names
        # is there and passes its check.
        for e in ("e1", "e2"):
            top = os.path.join(self.mnt, e, ".snapshots")
            try:
                snaps = os.listdir(top)
            except OSError as err:
                self.violate("cannot list %s: %s" % (top, err))
                continue
            for name in snaps:
                for d, _, files in os.walk(os.path.join(top, name)):
                    for f in files:
                        p = os.path.join(d, f)
                        if os.path.islink(p):
                            continue
                        try:
                            got = sha_file(p)
                            sealed = os.getxattr(p, "enrp.sha256").decode()
                        except OSError as err:
                            self.violate("snapshot file %s unreadable: %s" % (p, err))
                            continue
                        if got != sealed:
                            self.violate("snapshot file %s: sha256 %s, sealed with %s"
                                         % (p, got[:16], sealed[:16]))
            self.snapshots = getattr(self, "snapshots", 0) + len(snaps)
        self.umount()

        # A completed gc leaves no unreferenced chunk, and removes nothing
        # that a file uses (checked below with a cold cache).  e1's trash is
        # purged first, so gc has something to free; e2's stays, so fsck
        # and gc meet trash entries too.
        r = self.ctl("trash", "purge", "e1")
        if r.returncode:
            self.violate("trash purge exit %d: %s" % (r.returncode, r.stderr.decode()[:300]))
        r = self.ctl("gc", "--json")
        if r.returncode:
            self.violate("offline gc exit %d: %s" % (r.returncode, r.stderr.decode()[:300]))
        else:
            self.freed = json.loads(r.stdout.decode()).get("chunks_freed", 0)
        rc, j, err = self.fsck()
        bad = [f for f in j.get("findings", []) if f["kind"] != "chunk-tmp"]
        if rc != 0 or bad or "unparsable" in j:
            self.violate("fsck exit %d: %s %s" % (rc, "; ".join(
                "%s %s: %s" % (f["kind"], f["object"], f["message"]) for f in bad[:8]),
                j.get("unparsable", err.strip()[:300])))
        rc, j, err = self.fsck("--repair")
        rc2, j2, err2 = self.fsck()
        if rc != 0 or rc2 != 0 or j2.get("findings"):
            self.violate("after fsck --repair (exit %d), fsck exit %d: %s" % (rc, rc2, "; ".join(
                "%s %s" % (f["kind"], f["object"]) for f in j2.get("findings", [])[:8])))
        r = self.ctl("audit", "verify")
        if r.returncode:
            self.violate("audit verify exit %d: %s" % (r.returncode,
                                                       (r.stdout + r.stderr).decode()[:300]))
        # And the collected, repaired store still mounts and serves every
        # file, read by a new daemon (no chunk in any cache).
        self.mount()
        for p, (h, why) in sorted(want.items()):
            try:
                got = sha_file(os.path.join(self.mnt, p))
            except OSError as e:
                self.violate("%s unreadable after gc and fsck --repair: %s" % (p, e))
                continue
            if got != h:
                self.violate("%s changed by gc or fsck --repair" % p)
        self.umount()
        self.killmode = killmode

    def cleanup_mounts(self):
        if mounted(self.mnt):
            sh("fusermount3", "-u", self.mnt)
            if mounted(self.mnt):
                sh("fusermount3", "-uz", self.mnt)
        pid = daemon_pid(self.store)
        if pid:
            os.kill(pid, signal.SIGKILL)
            poll(lambda: not alive(pid), 10)


def keep_ignore(top):
    """copytree filter: not the mount point, not sockets (run/control.sock)."""
    def ignore(d, names):
        out = ["mnt"] if d == top else []
        for n in names:
            try:
                if stat.S_ISSOCK(os.lstat(os.path.join(d, n)).st_mode):
                    out.append(n)
            except OSError:
                out.append(n)
        return out
    return ignore


def summary_counts(run):
    d = v = 0
    try:
        for line in open(run.log):
            if '"op": "durable"' in line:
                d += 1
            elif '"op": "verified"' in line:
                v += 1
    except OSError:
        pass
    return d, v


def main():
    runs = int(os.environ.get("CRASH_RUNS", "30"))
    seed_env = os.environ.get("CRASH_SEED")
    if seed_env:
        seeds = [int(seed_env)]
    else:
        base_seed = int(os.environ.get("CRASH_BASE_SEED", random.SystemRandom().randrange(1, 1 << 30)))
        seeds = [base_seed + i for i in range(runs)]
    for b in (ENRPFS, ENRPCTL):
        if not os.access(b, os.X_OK):
            print("crash: no %s (run make)" % b)
            return 2
    if os.geteuid() != 0:
        print("crash: needs root (FUSE allow_other and fusermount3)")
        return 2
    base = tempfile.mkdtemp(prefix="enrp-crash.")
    keep = os.environ.get("CRASH_KEEP_DIR", "/tmp/enrp-crash-kept")
    violations = 0
    failed_runs = []
    t_all = time.time()
    for i, seed in enumerate(seeds, 1):
        run = Run(seed, base)
        t0 = time.time()
        try:
            run.go()
        except Exception as e:  # a harness or product failure: keep it
            run.violate("run aborted: %s: %s" % (type(e).__name__, e))
        finally:
            run.cleanup_mounts()
        d, v = summary_counts(run)
        status = "ok" if not run.violations else "VIOLATION"
        print("run %3d seed=%d kill=%s@%.2fs durable=%d verified=%d checked=%d gc_freed=%s %s"
              " (%.1fs)%s" % (i, seed, getattr(run, "killmode", "?"), getattr(run, "kill_at", 0),
                              d, v, getattr(run, "checked", 0), getattr(run, "freed", "?"),
                              status, time.time() - t0,
                              (" [" + ",".join(run.notes) + "]") if run.notes else ""),
              flush=True)
        for msg in run.violations:
            print("    violation: " + msg, flush=True)
        if run.violations or os.environ.get("CRASH_KEEP_ALL"):
            violations += len(run.violations)
            os.makedirs(keep, exist_ok=True)
            dst = os.path.join(keep, "run-%d" % seed)
            shutil.rmtree(dst, ignore_errors=True)
            shutil.copytree(run.dir, dst, symlinks=True, ignore=keep_ignore(run.dir))
            with open(os.path.join(dst, "violations.txt"), "w") as f:
                f.write("seed %d\n" % seed + "\n".join(run.violations) + "\n")
            print("    kept: %s (replay: CRASH_SEED=%d make crash)" % (dst, seed), flush=True)
            if run.violations:
                failed_runs.append(seed)
        shutil.rmtree(run.dir, ignore_errors=True)
    shutil.rmtree(base, ignore_errors=True)
    if failed_runs:
        print("# failing seeds: " + " ".join(map(str, failed_runs)))
    print("# %.0f s in all" % (time.time() - t_all))
    print("%d runs, %d violations" % (len(seeds), violations))
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
