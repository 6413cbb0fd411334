#!/usr/bin/python3
"""crash.py — the crash harness behind `make crash` (see tests/crash/run).

Each run: a fresh store with EIRs e1 (class 1) and e2, mounted; the seeded
workload (workload.py) runs until enrpfs is SIGKILLed at a random moment
(or, in 'pending' runs, just as a large file starts being sealed, in
'verified' runs, just after fresh files were seen verified, or in
'enrpctl' runs, while an `enrpctl trash restore` or `hold add` runs, which
is then sometimes SIGKILLed too); then fusermount3 -uz, mount again, wait
until .enrp/pending of each EIR is empty, and check:

  - the store mounts again;
  - every file the workload recorded as fsync'd or verified (and did not
    delete, rename or overwrite afterwards) has its SHA-256: "verified"
    is any moment enrp.state read 'verified' or .enrp/SHA256SUMS listed
    the file, so whatever enrp showed verified must survive the kill
    (in 'verified' runs the kill lands milliseconds after such a moment;
    files appended to and fsync'd again and again on one descriptor are
    mostly synced without a commit, and the summary's sizes= counts the
    sizes the mount took from their spool files);
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
  - nothing the workload itself saw go wrong before the kill: a change
    to a held file that went through or failed with another errno than
    EPERM (EROFS in ro, EACCES too in wo), a held file no longer verified
    with its SHA-256, a restore onto a live file that was not refused or
    changed it, a restored file not at once listed, verified and in
    .enrp/SHA256SUMS, a hold or lock shortened, a held snapshot deleted;
  - holds: every file the workload saw held (`hold add` exited 0, or seen
    verified in an EIR under `eir set --lock`) is there with its SHA-256,
    under its new name if the workload moved it (either name when the
    kill cut the move short), also after gc and `fsck --repair`;
    `hold list --json` lists every hold reported added, in force and
    linked, held snapshots still exist, and `eir show` gives at least the
    lock `eir set --lock` reported;
  - trash: a restore that exited 0 is there with its SHA-256 (until the
    workload let it go) and out of trash; one the kill cut short is whole
    (file with its bytes, entry gone) or not done (entry there, no file);
    entries the lock covered when it was set are still in trash; the
    offline purge of e1 keeps exactly the held and locked copies (by
    `hold list` inode, or e1's lock in `eir show`); after gc every entry
    left in e1's trash and some of e2's are restored under new names and
    read back with the SHA-256 they were trashed with;
  - `enrpctl audit verify` finds the chain intact.
"""
import hashlib, json, os, random, re, shutil, signal, stat, subprocess, sys, tempfile, time

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
        """path -> sha256 the workload was promised and did not give up.

        Also reads what the workload held, restored and locked (see the
        records in workload.py) into self.held, self.moving, self.linking,
        self.holds, self.restored, self.restoring, self.locked,
        self.locked_trash and self.held_snaps."""
        want = {}
        self.held = {}          # path -> sha: held files, where they are
        self.moving = {}        # held path -> new name: a move not known done
        self.linking = {}       # new name -> sha: a link to a held file not known done
        self.holds = set()      # (EIR, path given): `hold add` exited 0
        self.holding = {}       # (EIR, path given) -> sha: the kill came first
        self.restored = {}      # (EIR, id) -> (path, sha): `trash restore` exited 0
        self.restoring = {}     # (EIR, id) -> (path, sha): the kill came first
        self.purged_after = set()  # of those, ones a `trash purge` of its EIR may have taken
        self.locked = {}        # EIR -> the days of the last `eir set --lock` that exited 0
        self.locked_trash = {}  # EIR -> trash ids it held when it was locked
        self.held_snaps = set()
        with open(self.log) as f:
            for line in f:
                try:
                    r = json.loads(line)
                except ValueError:
                    continue  # the last line may be cut by the kill of the workload
                op = r["op"]
                if op in ("durable", "verified", "restored"):
                    want[r["path"]] = (r["sha"], op)
                if op == "gone":
                    want.pop(r["path"], None)
                    # A hold add killed mid-way, then the file renamed away
                    # (allowed if the hold took): where it is now is unknown.
                    self.holding.pop(tuple(r["path"].split("/", 1)), None)
                elif op == "bad-sha":
                    self.violate("before the kill: %s verified with sha %s, content is %s"
                                 % (r["path"], r["got"], r["want"]))
                elif op == "violation":
                    self.violate("before the kill: " + " ".join(
                        "%s=%s" % (k, v) for k, v in r.items() if k not in ("op", "t")))
                elif op == "restoring":
                    self.restoring[(r["eir"], r["id"])] = (r["path"], r["sha"])
                    self.purged_after.discard((r["eir"], r["id"]))
                elif op == "trash-purge" and r["rc"] == 0:
                    # An enrpctl killed mid-restore may be followed by a
                    # purge before the workload sees enrpfs dead.
                    self.purged_after |= {k for k in self.restoring if k[0] == r["eir"]}
                elif op in ("restored", "restore-failed"):
                    self.restoring.pop((r["eir"], r["id"]), None)
                    if op == "restored":
                        self.restored[(r["eir"], r["id"])] = (r["path"], r["sha"])
                elif op == "holding":
                    self.holding[tuple(r["path"].split("/", 1))] = r["sha"]
                elif op in ("held", "hold-failed"):
                    self.holding.pop(tuple(r["path"].split("/", 1)), None)
                    if op == "held":
                        self.held[r["path"]] = r["sha"]
                    if op == "held" and r["why"] == "hold":
                        self.holds.add(tuple(r["given"].split("/", 1)))
                elif op == "held-moving":
                    # A rename not yet fsync'd may be undone by the kill.
                    want.pop(r["path"], None)
                    self.moving[r["path"]] = r["to"]
                elif op in ("held-moved", "held-move-failed"):
                    self.moving.pop(r["path"], None)
                    if op == "held-moved":
                        self.held[r["to"]] = self.held.pop(r["path"])
                elif op == "held-linking":
                    self.linking[r["to"]] = self.held[r["path"]]
                elif op in ("held-linked", "held-link-failed"):
                    sha = self.linking.pop(r["to"], None)
                    if op == "held-linked":
                        self.held[r["to"]] = sha
                elif op == "lock" and r["rc"] == 0:
                    self.locked[r["eir"]] = r["days"]
                elif op == "locked":
                    self.locked_trash[r["eir"]] = set(r["trash"])
                elif op == "snapshot-held":
                    self.held_snaps.add((r["eir"], r["name"]))
        return want

    def trash(self, eir):
        """EIR's trash entries by id (None, and a violation, when unlisted)."""
        r = self.ctl("trash", "list", eir, "--json")
        try:
            return {e["id"]: e for e in json.loads(r.stdout.decode())}
        except ValueError:
            self.violate("trash list %s exit %d: %s" % (eir, r.returncode,
                                                       r.stderr.decode(errors="replace")[:300]))
            return None

    def lock_days(self, eir):
        r = self.ctl("--json", "eir", "show", eir)
        try:
            return json.loads(r.stdout.decode())["lock_days"]
        except (ValueError, KeyError):
            self.violate("eir show %s exit %d: %s" % (eir, r.returncode,
                                                     r.stderr.decode(errors="replace")[:300]))
            return None

    def hold_list(self):
        r = self.ctl("hold", "list", "--json")
        try:
            return json.loads(r.stdout.decode())
        except ValueError:
            self.violate("hold list exit %d: %s" % (r.returncode,
                                                   r.stderr.decode(errors="replace")[:300]))
            return []

    def check_held(self, when):
        """Every held file is there with its SHA-256; a move or link the kill
        may have cut leaves the file under one of its names (with its bytes
        under each)."""
        for p, h in sorted(self.held.items()):
            names = [p] + ([self.moving[p]] if p in self.moving else [])
            found = []
            for n in names:
                try:
                    got = sha_file(os.path.join(self.mnt, n))
                except FileNotFoundError:
                    continue
                except OSError as e:
                    self.violate("held %s unreadable %s: %s" % (n, when, e))
                    found.append(n)
                    continue
                found.append(n)
                if got != h:
                    self.violate("held %s %s: sha256 %s, held with %s"
                                 % (n, when, got[:16], h[:16]))
            if not found:
                self.violate("held %s is gone %s" % (" or ".join(names), when))
            elif p in self.moving and len(found) == 1:
                # Resolved: later checks look where it is.
                self.held[found[0]] = self.held.pop(p) if found[0] != p else h
                del self.moving[p]
        for n, h in sorted(self.linking.items()):
            try:
                got = sha_file(os.path.join(self.mnt, n))
            except FileNotFoundError:
                continue
            except OSError as e:
                self.violate("link %s to a held file unreadable %s: %s" % (n, when, e))
                continue
            if got != h:
                self.violate("link %s to a held file %s: sha256 %s" % (n, when, got[:16]))

    def check_holds_listed(self, when):
        """Every hold `hold add` reported is listed, in force, on a linked
        file; a hold add the kill cut short that did commit holds from now
        on (check_held, called next, checks its file)."""
        listed = {(h["eir"], h["path"]): h for h in self.hold_list()}
        for (eir, path), h in sorted(self.holding.items()):
            if (eir, path) in listed:
                self.holds.add((eir, path))
                self.held["%s/%s" % (eir, path)] = h
        self.holding = {}
        for eir, path in sorted(self.holds):
            h = listed.get((eir, path))
            if not h:
                self.violate("hold on %s/%s (added) not listed %s" % (eir, path, when))
            elif not h["active"] or not h["linked"]:
                self.violate("hold on %s/%s %s: active=%s linked=%s"
                             % (eir, path, when, h["active"], h["linked"]))
        for eir, name in sorted(self.held_snaps):
            if (eir, "@" + name) not in listed:
                self.violate("hold on snapshot %s@%s not listed %s" % (eir, name, when))
            if not os.path.isdir(os.path.join(self.mnt, eir, ".snapshots", name)):
                self.violate("held snapshot %s@%s is gone %s" % (eir, name, when))

    def check_trash(self):
        """After recovery: a restore enrpctl reported is out of trash; one the
        kill cut short is either done (file there, entry gone) or not (entry
        there, no file), never half; what a lock kept in trash is still
        there."""
        trash = {e: self.trash(e) for e in ("e1", "e2")}
        for (eir, tid), (p, h) in sorted(self.restored.items()):
            if trash[eir] is not None and tid in trash[eir]:
                self.violate("%s trash #%d restored to %s, still in trash" % (eir, tid, p))
        for (eir, tid), (p, h) in sorted(self.restoring.items()):
            try:
                got = sha_file(os.path.join(self.mnt, p))
            except FileNotFoundError:
                got = None
            except OSError as e:
                got = "unreadable: %s" % e
            if trash[eir] is None:
                continue
            if tid not in trash[eir] and got is None and (eir, tid) in self.purged_after:
                self.notes.append("cut-restore-purged")
                continue
            self.notes.append("cut-restore-" + ("undone" if tid in trash[eir] else "done"))
            if tid in trash[eir] and got is not None:
                self.violate("%s trash #%d (restore cut by the kill) still in trash and %s "
                             "exists (%s)" % (eir, tid, p, got[:16]))
            elif tid not in trash[eir] and got != h:
                self.violate("%s trash #%d (restore cut by the kill) left trash, but %s "
                             "reads %s, not %s" % (eir, tid, p, got and got[:16], h[:16]))
            elif tid not in trash[eir]:
                self.restored[(eir, tid)] = (p, h)
        for eir, days in sorted(self.locked.items()):
            got = self.lock_days(eir)
            if got is not None and got < days:
                self.violate("%s: eir set --lock %d exited 0, eir show says %d days"
                             % (eir, days, got))
        for eir, ids in sorted(self.locked_trash.items()):
            if trash[eir] is None:
                continue
            gone = sorted(i for i in ids - set(trash[eir]) if (eir, i) not in self.restored)
            if gone:
                self.violate("%s is locked, but trash entries %s (trashed before the lock) "
                             "are gone" % (eir, gone))

    def kill_enrpctl(self):
        """SIGKILLs the enrpctl whose pid the workload wrote in the marker
        (if it still runs, and is that enrpctl on this store)."""
        try:
            pid = int(open(self.marker).read().split()[0])
            cmd = open("/proc/%d/cmdline" % pid, "rb").read()
        except (OSError, ValueError, IndexError):
            return
        if b"enrpctl" in cmd and self.store.encode() in cmd:
            try:
                os.kill(pid, signal.SIGKILL)
                self.notes.append("enrpctl-killed")
            except OSError:
                pass

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
        killmode = ("pending" if x < 0.2 else "verified" if x < 0.4 else
                    "enrpctl" if x < 0.55 else "append" if x < 0.75 else "time")
        killmode = os.environ.get("CRASH_KILLMODE") or killmode
        delay = self.rng.uniform(0.8, 7.0)
        wl = subprocess.Popen([sys.executable, os.path.join(HERE, "workload.py"), str(self.seed),
                               self.mnt, self.store, ENRPCTL, self.log, self.marker, killmode],
                              stdout=subprocess.DEVNULL,
                              stderr=open(os.path.join(self.dir, "workload.err"), "w"),
                              start_new_session=True)
        t0 = time.time()
        if killmode in ("pending", "verified", "enrpctl", "append"):
            if not poll(lambda: os.path.exists(self.marker) or wl.poll() is not None, 40, 0.001):
                self.notes.append("no-marker")
            elif killmode == "pending":
                time.sleep(self.rng.choice([0, 0, 0.01, 0.05, 0.2]))
            elif killmode == "append":
                pass  # at once: the fsyncs' group is still open
            elif killmode == "enrpctl":
                # enrpctl takes 5-50 ms here: enrpfs dies before, during or
                # after its commit, and in half the runs enrpctl dies too,
                # first, while it runs.
                if self.rng.random() < 0.5:
                    time.sleep(self.rng.choice([0, 0.001, 0.002, 0.003, 0.005, 0.008]))
                    self.kill_enrpctl()
                else:
                    time.sleep(self.rng.choice([0, 0.002, 0.005, 0.01, 0.015, 0.02, 0.05]))
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
        # Sizes the mount took from spool files fsync'd without a commit.
        r = self.ctl("audit", "show")
        got = re.findall(r" recovery .* sizes_recovered=(\d+)", r.stdout.decode(errors="replace"))
        self.sizes = int(got[-1]) if got else "?"
        # e1 is class 1: making it rw takes a second administrator (four
        # eyes); reading it back needs only ro.
        for e, m in (("e1", "ro"), ("e2", "rw")):
            self.ctl("eir", "set", e, "--mode", m)
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
        self.check_holds_listed("after the kill")
        self.check_held("after the kill")
        self.check_trash()
        self.umount()

        # A completed gc leaves no unreferenced chunk, and removes nothing
        # that a file uses (checked below with a cold cache).  e1's trash is
        # purged first, so gc has something to free; e2's stays, so fsck
        # and gc meet trash entries too.
        # A held copy (its inode held, or sealed under the EIR's lock) is
        # never purged; every other one is.
        before = self.trash("e1") or {}
        held_inos = {h["ino"] for h in self.hold_list()
                     if h["eir"] == "e1" and h["active"] and not h["path"].startswith("@")}
        locked = bool(self.lock_days("e1"))
        keep = {i for i, e in before.items() if locked or e["ino"] in held_inos}
        r = self.ctl("trash", "purge", "e1")
        if r.returncode:
            self.violate("trash purge exit %d: %s" % (r.returncode, r.stderr.decode()[:300]))
        after = self.trash("e1")
        if after is not None and set(after) != keep:
            self.violate("offline trash purge of e1: held copies %s purged, others %s kept"
                         % (sorted(keep - set(after)), sorted(set(after) - keep)))
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
        self.check_holds_listed("after gc and fsck --repair")
        self.check_held("after gc and fsck --repair")
        self.restore_trash()
        self.umount()
        self.killmode = killmode

    def restore_trash(self):
        """What trash still holds after the purge and gc is whole: every
        entry of e1 (the held and locked ones) and a few of e2's are
        restored under new names and read back with their SHA-256."""
        for eir, most in (("e1", 50), ("e2", 8)):
            entries = sorted((self.trash(eir) or {}).values(), key=lambda e: e["id"])
            for e in self.rng.sample(entries, min(most, len(entries))):
                name = "crash-restored-%d" % e["id"]
                r = self.ctl("trash", "restore", eir, str(e["id"]), "--to", name)
                if r.returncode:
                    self.violate("trash restore %s #%d after gc exit %d: %s" % (
                        eir, e["id"], r.returncode, r.stderr.decode(errors="replace")[:200]))
                    continue
                try:
                    got = sha_file(os.path.join(self.mnt, eir, name))
                except OSError as err:
                    self.violate("trash %s #%d restored after gc unreadable: %s"
                                 % (eir, e["id"], err))
                    continue
                if got != e["sha256"]:
                    self.violate("trash %s #%d restored after gc: sha256 %s, trashed with %s"
                                 % (eir, e["id"], got[:16], e["sha256"][:16]))
                self.restores_after_gc = getattr(self, "restores_after_gc", 0) + 1

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
    """How many times each op the summary line shows appears in the log."""
    n = dict.fromkeys(("durable", "verified", "held", "attack", "restored", "locked",
                       "snapshot"), 0)
    try:
        for line in open(run.log):
            for op in n:
                if '"op": "%s"' % op in line:
                    n[op] += 1
    except OSError:
        pass
    return n


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
        n = summary_counts(run)
        status = "ok" if not run.violations else "VIOLATION"
        print("run %3d seed=%d kill=%s@%.2fs durable=%d verified=%d checked=%d held=%d%s "
              "attacks=%d restored=%d+%d snapshots=%d gc_freed=%s sizes=%s %s (%.1fs)%s"
              % (i, seed, getattr(run, "killmode", "?"), getattr(run, "kill_at", 0),
                 n["durable"], n["verified"], getattr(run, "checked", 0), n["held"],
                 "+lock" if n["locked"] else "", n["attack"], n["restored"],
                 getattr(run, "restores_after_gc", 0), n["snapshot"],
                 getattr(run, "freed", "?"), getattr(run, "sizes", "?"), status,
                 time.time() - t0,
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
            forced = os.environ.get("CRASH_KILLMODE")
            print("    kept: %s (replay: %sCRASH_SEED=%d make crash)"
                  % (dst, "CRASH_KILLMODE=%s " % forced if forced else "", seed), flush=True)
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
