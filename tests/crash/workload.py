#!/usr/bin/python3
"""workload.py SEED MNT STORE ENRPCTL LOG MARKER KILLMODE

A seeded random mix of filesystem work on the EIRs e1 and e2 of a mounted
enrp store, run until enrpfs dies under it (the crash harness SIGKILLs it).
Every fact the harness later checks is appended to LOG as one JSON line,
written and flushed *after* the guarantee holds:

  {"op": "durable",  "path": P, "sha": H}   fsync (or fsyncdir) returned
  {"op": "verified", "path": P, "sha": H}   enrp.state was 'verified' with H,
                                            or .enrp/SHA256SUMS listed P with H
  {"op": "gone",     "path": P}             before a delete/rename/overwrite
                                            starts: P is no longer promised
  {"op": "restoring", "eir": E, "id": N, "path": P, "sha": H}
                                            before `enrpctl trash restore E N`
  {"op": "restored",  "eir": E, "id": N, "path": P, "sha": H}
                                            it exited 0: P is promised, and
                                            entry N must be out of trash
  {"op": "restore-failed" | "restore-killed", "eir": E, "id": N, ...}
                                            it exited non-zero | was SIGKILLed
                                            (then whole or not at all)
  {"op": "holding",  "path": P, "sha": H}   before `enrpctl hold add P`
  {"op": "held",     "path": P, "sha": H, "why": W [, "given": P]}
                                            P is held: `hold add P` exited 0
                                            (W 'hold'), or P was seen verified
                                            in the locked EIR (W 'lock')
  {"op": "hold-failed" | "hold-killed", "path": P, ...}
  {"op": "held-moving" | "held-linking", "path": P, "to": Q}
                                            before held P is renamed | linked
  {"op": "held-moved" | "held-linked", "path": P, "to": Q, "sha": H}
                                            that and the fsyncdir returned
  {"op": "lock", "eir": E, "days": D, "rc": RC}  `eir set E --lock D`
  {"op": "locked",   "eir": E, "days": D, "trash": [N...]}
                                            after the first lock: E's trash
                                            entries then, which no purge may
                                            take from now on
  {"op": "snapshot-held", "eir": E, "name": S}  `hold add E@S` exited 0
  {"op": "violation", "what": W, ...}       the workload saw a broken promise
                                            (a change to a held file went
                                            through, a restore over a live
                                            file, a hold shortened, ...)

P is relative to the mount.  With KILLMODE 'pending' a large file is
written and MARKER is created as soon as its state is 'pending', so the
harness kills enrpfs while the file is being sealed.  With KILLMODE
'verified' fresh small files (some in a fresh directory, some renamed once
verified) are watched until they read 'verified', and MARKER is created
right after: the harness kills enrpfs within milliseconds, while the group
that sealed (and created, and renamed) them may still be open.  The promise
checked is that of docs/design.md: whatever was shown verified survives.
With KILLMODE 'append' a file is appended to and fsync'd again and
again, and MARKER created right after the last fsync: the harness kills
enrpfs at once, so the mount must take the file's size from its spool file.
With KILLMODE 'enrpctl' an `enrpctl trash restore` (or `hold add`) is
started and MARKER, holding enrpctl's pid, created at once: the harness
kills enrpfs while enrpctl runs, and sometimes enrpctl too, so a restore
must be whole or not at all.

Beside the transfers it restores trash entries (to their old path, to a
fresh one, and onto a live file, which must be refused and leave the file
as it was), holds verified files and snapshots (`enrpctl hold add|extend`),
and in some runs locks one EIR (`eir set --lock`).  Held files are then
attacked through the mount (unlink, rename over, truncate, O_TRUNC, writes
in place, appends, rsync over): each must fail, with EPERM (EROFS in ro,
EACCES too in wo), and leave the file verified with its SHA-256; renaming
a held file away is allowed and the hold follows it.  Shortening a hold or
a lock must be refused, and so must deleting a held snapshot.
"""
import errno, hashlib, json, os, random, shutil, subprocess, sys, time

seed, MNT, STORE, ENRPCTL, LOG, MARKER, KILLMODE = sys.argv[1:8]
rng = random.Random(int(seed))
EIRS = ["e1", "e2"]
DEAD = {errno.ENOTCONN, errno.ECONNABORTED, errno.ENODEV, errno.EIO if False else -1}
EXPECTED = {errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT}

logf = open(LOG, "a", buffering=1)
content = {}     # path -> bytes (files we may overwrite or check)
candidates = []  # paths written, closed, maybe not yet verified
tracked = set()  # paths with a durable/verified record in force
sealed = set()   # paths with a verified record in force (no change since)
held = {}        # path -> {"sha", "given" (the hold's EIR/PATH, or None: the lock)}
by_sha = {}      # sha -> bytes of every content written (a restore brings one back)
mode = {e: "rw" for e in EIRS}  # each EIR's mode, as the last eir set that worked left it
locked = set()   # EIRs with a lock
held_snaps = set()  # (EIR, snapshot) held
LOCK_EIR = None  # the EIR this run locks, if any (drawn in main)
lock_days = [0]
counter = [0]


def log(**kw):
    kw["t"] = round(time.time(), 3)
    logf.write(json.dumps(kw) + "\n")
    logf.flush()


def sha(b):
    return hashlib.sha256(b).hexdigest()


def fresh(eir, prefix):
    counter[0] += 1
    return "%s/%s%04d" % (eir, prefix, counter[0])


def gone(p):
    assert p not in held, p
    tracked.discard(p)
    sealed.discard(p)
    if p in candidates:
        candidates.remove(p)
    log(op="gone", path=p)


class Dead(Exception):
    pass


def check_dead(e):
    if isinstance(e, OSError) and e.errno in (errno.ENOTCONN, errno.ECONNABORTED, errno.ENODEV):
        raise Dead()


def write_file(p, data, do_fsync):
    fd = os.open(os.path.join(MNT, p), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        off = 0
        while off < len(data):
            n = os.write(fd, data[off:off + (1 << 20)])
            off += n
        if do_fsync:
            os.fsync(fd)
    finally:
        os.close(fd)


def op_write(do_fsync, big=False, eir=None):
    eir = eir or rng.choice(EIRS)
    p = fresh(eir, "big" if big else ("s" if do_fsync else "n"))
    size = rng.randrange(2 << 20, 20 << 20) if big else rng.choice(
        [0, rng.randrange(1, 4096), rng.randrange(4096, 300000), rng.randrange(300000, 2 << 20)])
    data = rng.randbytes(size)
    write_file(p, data, do_fsync)
    content[p] = data
    by_sha[sha(data)] = data
    candidates.append(p)
    if do_fsync:
        tracked.add(p)
        log(op="durable", path=p, sha=sha(data))
    return p


def op_rsync():
    eir = rng.choice(EIRS)
    counter[0] += 1
    name = "tree%04d" % counter[0]
    src = os.path.join(os.path.dirname(LOG), "src", name)
    files = {}
    for d in range(rng.randrange(1, 4)):
        os.makedirs(os.path.join(src, "d%d" % d), exist_ok=True)
        for f in range(rng.randrange(3, 25)):
            rel = "d%d/f%d" % (d, f)
            data = rng.randbytes(rng.randrange(0, 20000))
            with open(os.path.join(src, rel), "wb") as fh:
                fh.write(data)
            files[rel] = data
    r = subprocess.run(["rsync", "-a", src + "/", os.path.join(MNT, eir, name) + "/"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)
    if r.returncode == 0:
        for rel, data in files.items():
            p = "%s/%s/%s" % (eir, name, rel)
            content[p] = data
            by_sha[sha(data)] = data
            candidates.append(p)
    log(op="rsync", path="%s/%s" % (eir, name), rc=r.returncode)


def pick(pool):
    """A path of POOL the workload knows the content of, never a held one:
    held files are only attacked (op_attack_held)."""
    pool = [p for p in pool if p in content and p not in held]
    return rng.choice(pool) if pool else None


def op_rename():
    src = pick(candidates)
    if not src:
        return
    eir = src.split("/")[0]
    if rng.random() < 0.3 and len(candidates) > 1:
        dst = pick([p for p in candidates if p.startswith(eir + "/") and p != src
                    and p.count("/") == 1])
    else:
        dst = None
    dst = dst or fresh(eir, "r")
    data = content[src]
    gone(src)
    if dst in content:
        gone(dst)
    content.pop(src, None)
    content.pop(dst, None)
    os.rename(os.path.join(MNT, src), os.path.join(MNT, dst))
    content[dst] = data
    candidates.append(dst)
    if rng.random() < 0.5:
        for d in {os.path.dirname(src), os.path.dirname(dst)}:
            fd = os.open(os.path.join(MNT, d), os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        tracked.add(dst)
        log(op="durable", path=dst, sha=sha(data), why="rename+fsyncdir")


def op_delete():
    p = pick(candidates)
    if not p:
        return
    gone(p)
    content.pop(p, None)
    os.unlink(os.path.join(MNT, p))


def state(p):
    try:
        st = os.getxattr(os.path.join(MNT, p), "enrp.state").decode()
        h = os.getxattr(os.path.join(MNT, p), "enrp.sha256").decode() if st == "verified" else ""
        return st, h
    except OSError as e:
        check_dead(e)
        return None, ""


def seen_verified(p, h, **why):
    """P read verified with H, its known content: promised from now on, and
    held at once when its EIR is locked (the lock counts from the seal)."""
    if p in candidates:
        candidates.remove(p)
    tracked.add(p)
    sealed.add(p)
    log(op="verified", path=p, sha=h, **why)
    if p.split("/")[0] in locked and p not in held:
        held[p] = {"sha": h, "given": None}
        log(op="held", path=p, sha=h, why="lock")


def op_check_verified():
    for p in list(candidates)[-40:]:
        if p not in content:
            continue
        st, h = state(p)
        if st == "verified":
            if h != sha(content[p]):
                log(op="bad-sha", path=p, got=h, want=sha(content[p]))
                continue
            seen_verified(p, h)


def op_check_sums():
    """Every line of an EIR's .enrp/SHA256SUMS is a promise too."""
    eir = rng.choice(EIRS)
    try:
        with open(os.path.join(MNT, eir, ".enrp", "SHA256SUMS")) as fh:
            lines = fh.read().splitlines()
    except OSError as e:
        check_dead(e)
        raise
    for line in lines:
        h, _, rel = line.partition("  ")
        p = "%s/%s" % (eir, rel)
        if p not in content or p in tracked:
            continue
        if h != sha(content[p]):
            log(op="bad-sha", path=p, got=h, want=sha(content[p]), why="SHA256SUMS")
            continue
        seen_verified(p, h, why="SHA256SUMS")


def watch_verified(p, timeout=15):
    """Polls P's state every millisecond; its sha once it reads verified."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        st, h = state(p)
        if st == "verified":
            return h
        time.sleep(0.001)
    return None


def verified_kill():
    """Fresh small files seen verified as early as possible, then MARKER."""
    eir = rng.choice(EIRS)
    d = eir
    if rng.random() < 0.5:
        counter[0] += 1
        d = "%s/vd%04d" % (eir, counter[0])
        os.mkdir(os.path.join(MNT, d))
    for i in range(rng.randrange(1, 4)):
        counter[0] += 1
        p = "%s/v%04d" % (d, counter[0])
        data = rng.randbytes(rng.choice([0, 0, 2, rng.randrange(1, 5000)]))
        write_file(p, data, False)
        content[p] = data
        by_sha[sha(data)] = data
        h = watch_verified(p)
        if h is None:
            candidates.append(p)
            continue
        if h != sha(data):
            log(op="bad-sha", path=p, got=h, want=sha(data))
            continue
        if rng.random() < 0.4:
            # Renamed once verified: the new name is promised only once it
            # reads verified itself.
            q = "%s/w%04d" % (d, counter[0])
            content.pop(p, None)
            os.rename(os.path.join(MNT, p), os.path.join(MNT, q))
            content[q] = data
            p = q
            h = watch_verified(p)
            if h is None:
                candidates.append(p)
                continue
        seen_verified(p, h, why="watched")
    open(MARKER, "w").close()
    log(op="marker", path=p, state="verified")


def append_kill():
    """op_append, then MARKER: the harness kills enrpfs while the group
    that holds the appends' sizes is still open."""
    p = op_append()
    open(MARKER, "w").close()
    log(op="marker", path=p, state="appended")


def op_overwrite():
    """dd conv=notrunc over a verified (sealed) file: copy-back, then fsync."""
    p = pick(list(tracked))
    if not p:
        return
    st, h = state(p)
    if st != "verified":
        return
    if p.split("/")[0] in locked:
        if p not in sealed and h == sha(content[p]):
            seen_verified(p, h)  # and so held: op_attack_held tries this
        return
    old = content[p]
    off = rng.randrange(0, len(old) + 1)
    patch = rng.randbytes(rng.randrange(1, 70000))
    pf = os.path.join(os.path.dirname(LOG), "patch")
    with open(pf, "wb") as fh:
        fh.write(patch)
    gone(p)
    content.pop(p, None)
    r = subprocess.run(["dd", "if=" + pf, "of=" + os.path.join(MNT, p), "bs=%d" % len(patch),
                        "seek=%d" % off, "oflag=seek_bytes", "conv=notrunc,fsync",
                        "status=none"], stderr=subprocess.PIPE, timeout=60)
    if r.returncode == 0:
        new = bytearray(old)
        if off > len(new):
            new.extend(b"\0" * (off - len(new)))
        new[off:off + len(patch)] = patch
        new = bytes(new)
        content[p] = new
        by_sha[sha(new)] = new
        candidates.append(p)
        tracked.add(p)
        log(op="durable", path=p, sha=sha(new), why="dd-notrunc-fsync")
    else:
        err = r.stderr.decode(errors="replace").strip()
        log(op="dd-failed", path=p, err=err[:200])
        if "not connected" in err:
            raise Dead()


def op_append():
    """Appends on one descriptor, each fsync'd (a log, a WAL): after the first,
    the fsyncs need no commit, and a kill between them must keep each one's
    bytes (docs/design.md, "An fsync without a commit")."""
    p = pick([q for q in tracked if q not in held and q.split("/")[0] not in locked])
    if p is None or rng.random() < 0.3:
        p, data, flags = fresh(rng.choice(EIRS), "a"), b"", os.O_CREAT | os.O_TRUNC
    else:
        data, flags = content[p], 0
        gone(p)
        content.pop(p, None)
    fd = os.open(os.path.join(MNT, p), os.O_WRONLY | os.O_APPEND | flags, 0o644)
    try:
        for i in range(rng.randrange(2, 7)):
            if i:
                gone(p)  # the next append starts
            more = rng.randbytes(rng.randrange(1, 30000))
            off = 0
            while off < len(more):
                off += os.write(fd, more[off:])
            os.fsync(fd)
            data += more
            content[p] = data
            by_sha[sha(data)] = data
            if p not in candidates:
                candidates.append(p)
            tracked.add(p)
            log(op="durable", path=p, sha=sha(data), why="append-fsync")
    finally:
        os.close(fd)
    return p


def op_mode():
    eir = rng.choice(EIRS)
    m = rng.choice(["rw", "rw", "wo", "ro"])
    r = subprocess.run([ENRPCTL, "-S", STORE, "eir", "set", eir, "--mode", m],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)
    log(op="mode", eir=eir, mode=m, rc=r.returncode)
    if r.returncode == 0:
        mode[eir] = m


def op_gc():
    """Online garbage collection beside the transfers (the daemon runs it)."""
    r = subprocess.run([ENRPCTL, "-S", STORE, "gc"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=60)
    log(op="gc", rc=r.returncode, err=r.stderr.decode(errors="replace").strip()[:200])


def op_trash_purge():
    """Purge an EIR's trash (what deletes and overwrites kept) online; the
    daemon then collects at once, so a kill can land in either."""
    eir = rng.choice(EIRS)
    r = subprocess.run([ENRPCTL, "-S", STORE, "trash", "purge", eir], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=60)
    log(op="trash-purge", eir=eir, rc=r.returncode,
        err=r.stderr.decode(errors="replace").strip()[:200])


def op_snapshot():
    """A snapshot of an EIR now, beside the transfers."""
    eir = rng.choice(EIRS)
    name = "w%d" % rng.randrange(1 << 30)
    r = subprocess.run([ENRPCTL, "-S", STORE, "snapshot", "create", eir, name],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)
    log(op="snapshot", eir=eir, name=name, rc=r.returncode)


def op_snapshot_delete():
    eir = rng.choice(EIRS)
    r = subprocess.run([ENRPCTL, "-S", STORE, "--json", "snapshot", "list", eir],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=30)
    try:
        names = [s["name"] for s in json.loads(r.stdout.decode() or "[]")]
    except ValueError:
        names = []
    if not names:
        return
    name = rng.choice(names)
    r = subprocess.run([ENRPCTL, "-S", STORE, "snapshot", "delete", "%s@%s" % (eir, name)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)
    log(op="snapshot-delete", eir=eir, name=name, rc=r.returncode)
    if r.returncode == 0 and (eir, name) in held_snaps:
        violation("a held snapshot was deleted", eir=eir, name=name)


def ctl(*args, timeout=60):
    return subprocess.run([ENRPCTL, "-S", STORE] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout)


def errtext(r):
    return r.stderr.decode(errors="replace").strip()[:200]


def violation(what, **kw):
    log(op="violation", what=what, **kw)


def exists(p):
    try:
        os.lstat(os.path.join(MNT, p))
        return True
    except OSError as e:
        check_dead(e)
        return False


def read_sha(p):
    """The SHA-256 of P read through the mount; None where its mode forbids
    reading (wo)."""
    if mode[p.split("/")[0]] == "wo":
        return None
    h = hashlib.sha256()
    with open(os.path.join(MNT, p), "rb") as fh:
        while True:
            b = fh.read(1 << 20)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def fsync_dirs(*paths):
    for d in {os.path.dirname(p) for p in paths}:
        fd = os.open(os.path.join(MNT, d), os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def intact(p, h, what):
    """P must still read verified with H (through enrp.sha256, which every
    mode shows), and its bytes must be H where the mode lets them be read."""
    st, got = state(p)
    if st != "verified" or got != h:
        violation(what, path=p, state=st, sha=got, want=h)
        return
    try:
        got = read_sha(p)
    except OSError as e:
        check_dead(e)
        violation(what + ": unreadable", path=p, err=str(e))
        return
    if got is not None and got != h:
        violation(what + ": bytes differ", path=p, sha=got, want=h)


def trash_entries(eir):
    r = ctl("trash", "list", eir, "--json")
    try:
        return json.loads(r.stdout.decode() or "[]") if r.returncode == 0 else None
    except ValueError:
        return None


def live_in(eir):
    return sorted(p for p in content if p.startswith(eir + "/"))


def op_restore():
    """`trash restore` of an entry: to its old path, to a fresh name, or onto
    a live file (refused, and the live file is left as it was)."""
    eir = rng.choice(EIRS)
    entries = trash_entries(eir)
    if not entries:
        return
    e = rng.choice(entries)
    tid, h = e["id"], e["sha256"]
    live = [p for p in live_in(eir) if exists(p)]
    x = rng.random()
    if x < 0.25 and rng.random() < 0.1:
        # The hidden names are taken too.
        name = rng.choice([".enrp", ".snapshots"])
        r = ctl("trash", "restore", eir, str(tid), "--to", name)
        log(op="restore-onto-live", eir=eir, id=tid, path="%s/%s" % (eir, name),
            rc=r.returncode)
        if r.returncode == 0:
            violation("trash restore onto a hidden name exited 0", eir=eir, id=tid, name=name)
        return
    if x < 0.25 and (not live or rng.random() < 0.3):
        # A file created a moment ago, its name maybe only in the daemon's
        # open group: enrpctl must see it (the daemon commits first).
        live = [op_write(False, eir=eir)]
    if x < 0.25 and live:
        q = rng.choice(live)
        want = held[q]["sha"] if q in held else sha(content[q])
        r = ctl("trash", "restore", eir, str(tid), "--to", q.split("/", 1)[1])
        log(op="restore-onto-live", eir=eir, id=tid, path=q, rc=r.returncode)
        if r.returncode == 0:
            violation("trash restore onto a live file exited 0", eir=eir, id=tid, path=q)
        if q in sealed or q in held:
            intact(q, want, "restore onto a live file changed it")
        else:
            try:
                got = read_sha(q)
            except OSError as err:
                check_dead(err)
                got = "unreadable: %s" % err
            if got is not None and got != want:
                violation("restore onto a live file changed it", path=q, sha=got, want=want)
        return
    target, args = restore_args(eir, e, x < 0.6)
    log(op="restoring", eir=eir, id=tid, path=target, sha=h)
    r = ctl(*args)
    restore_done(eir, tid, target, h, r.returncode, errtext(r))


def restore_args(eir, e, old_path):
    """Where entry E goes (its old path when OLD_PATH and that is free, else
    a fresh name), and the enrpctl arguments that restore it there."""
    old = e.get("path") or ""
    args = ["trash", "restore", eir, str(e["id"])]
    if old_path and e["why"] in ("deleted", "renamed-over") and old and not old.startswith("?/"):
        target = "%s/%s" % (eir, old)
        if target not in content and not exists(target):
            return target, args
    d = os.path.dirname(old) if old and not old.startswith("?/") else ""
    if not d or rng.random() < 0.5 or not os.path.isdir(os.path.join(MNT, eir, d)):
        d = ""
    counter[0] += 1
    rel = ("%s/t%04d" % (d, counter[0])).lstrip("/")
    return "%s/%s" % (eir, rel), args + ["--to", rel]


def restore_done(eir, tid, target, h, rc, err):
    if rc < 0:  # enrpctl itself was killed (KILLMODE enrpctl): whole or not at all
        log(op="restore-killed", eir=eir, id=tid, path=target, rc=rc)
        return
    if rc:
        log(op="restore-failed", eir=eir, id=tid, path=target, rc=rc, err=err)
        return
    log(op="restored", eir=eir, id=tid, path=target, sha=h)
    if h in by_sha:
        content[target] = by_sha[h]
    # enrpctl's change holds for every operation that starts after it returns:
    # the file is there, listed, verified, and in .enrp/SHA256SUMS.
    st, got = state(target)
    if st != "verified" or got != h:
        violation("restored file not shown verified", path=target, state=st, sha=got, want=h)
        return
    eir_dir, rel = os.path.join(MNT, eir), target.split("/", 1)[1]
    try:
        listed = os.path.basename(rel) in os.listdir(os.path.join(eir_dir, os.path.dirname(rel)))
        with open(os.path.join(eir_dir, ".enrp", "SHA256SUMS")) as fh:
            summed = "%s  %s" % (h, rel) in fh.read().splitlines()
    except OSError as e:
        check_dead(e)
        raise
    if not listed or not summed:
        violation("restored file not in its directory's listing or SHA256SUMS", path=target,
                  listed=listed, summed=summed)
    if target in content:
        seen_verified(target, h, why="restored")
        intact(target, h, "restored file")


def op_hold():
    """`hold add` on a file seen verified (or now and then on a snapshot)."""
    if rng.random() < 0.15:
        eir = rng.choice(EIRS)
        r = ctl("--json", "snapshot", "list", eir)
        try:
            names = [s["name"] for s in json.loads(r.stdout.decode() or "[]")]
        except ValueError:
            names = []
        if names:
            name = rng.choice(names)
            r = ctl("hold", "add", "%s@%s" % (eir, name), "--until", "+400d", "--reason", "crash")
            log(op="snapshot-hold", eir=eir, name=name, rc=r.returncode, err=errtext(r))
            if r.returncode == 0:
                held_snaps.add((eir, name))
                log(op="snapshot-held", eir=eir, name=name)
        return
    p = pick(list(content))
    if not p:
        return
    st, h = state(p)
    if st != "verified":
        return
    if h != sha(content[p]):
        log(op="bad-sha", path=p, got=h, want=sha(content[p]))
        return
    if p not in sealed:
        seen_verified(p, h)
    days = rng.randrange(400, 4000)
    log(op="holding", path=p, sha=h)
    r = ctl("hold", "add", p, "--until", "+%dd" % days, "--reason", "crash run %s" % seed)
    if r.returncode:
        log(op="hold-failed", path=p, rc=r.returncode, err=errtext(r))
        return
    held[p] = {"sha": h, "given": p, "days": days}
    log(op="held", path=p, sha=h, why="hold", given=p, days=days)
    intact(p, h, "file changed by hold add")


def op_hold_extend():
    """`hold extend` later (exit 0) or earlier (refused) on a held file,
    named by its path now."""
    mine = sorted(p for p in held if held[p].get("given"))
    if not mine:
        return
    p = rng.choice(mine)
    days = held[p]["days"]
    shorten = rng.random() < 0.3
    until = days - 100 if shorten else days + rng.randrange(1, 400)
    r = ctl("hold", "extend", p, "--until", "+%dd" % until)
    log(op="hold-extend", path=p, days=until, rc=r.returncode, err=errtext(r))
    if shorten and r.returncode == 0:
        violation("a hold was shortened", path=p)
    elif not shorten and r.returncode:
        violation("hold extend of a held file failed", path=p, err=errtext(r))
    elif not shorten:
        held[p]["days"] = until


def op_lock():
    """In some runs one EIR is locked (write-once for DAYS after each seal);
    later a shorter lock must be refused and a longer one taken."""
    if LOCK_EIR is None:
        return
    eir = LOCK_EIR
    if eir not in locked:
        days = rng.choice([1, 7, 30, 365])
        r = ctl("eir", "set", eir, "--lock", str(days))
        log(op="lock", eir=eir, days=days, rc=r.returncode, err=errtext(r))
        if r.returncode:
            return
        locked.add(eir)
        lock_days[0] = days
        # Entries trashed before the lock, sealed within DAYS, are locked in
        # trash: no purge may take them from now on.
        entries = trash_entries(eir) or []
        log(op="locked", eir=eir, days=days, trash=[e["id"] for e in entries])
        for p in sorted(sealed):
            if p.startswith(eir + "/") and p not in held:
                held[p] = {"sha": sha(content[p]), "given": None}
                log(op="held", path=p, sha=held[p]["sha"], why="lock")
        return
    shorter = rng.random() < 0.5 and lock_days[0] > 0
    days = lock_days[0] - 1 if shorter else lock_days[0] + rng.randrange(1, 100)
    r = ctl("eir", "set", eir, "--lock", str(days))
    log(op="lock", eir=eir, days=days, rc=r.returncode, err=errtext(r))
    if shorter and r.returncode == 0:
        violation("a lock was shortened", eir=eir, days=days)
    elif not shorter and r.returncode:
        violation("lengthening a lock failed", eir=eir, err=errtext(r))
    elif not shorter:
        lock_days[0] = days


def refused_as(p):
    """The errnos a change to held file P may fail with in its EIR's mode
    now: EPERM, but a ro EIR answers EROFS first, and wo refuses what
    would read (O_RDWR, a rewrite in place) with EACCES."""
    return {"ro": {errno.EROFS}, "wo": {errno.EPERM, errno.EACCES}}.get(
        mode[p.split("/")[0]], {errno.EPERM})


def attack(p, how):
    """Tries HOW on held file P; returns None, or what went through."""
    path = os.path.join(MNT, p)
    size = len(content[p])
    if how == "unlink":
        os.unlink(path)
    elif how == "rename-over":
        s = fresh(p.split("/")[0], "o")
        data = rng.randbytes(rng.randrange(0, 3000))
        write_file(s, data, False)
        content[s] = data
        by_sha[sha(data)] = data
        candidates.append(s)
        os.rename(os.path.join(MNT, s), path)
        content.pop(s, None)
    elif how == "truncate":
        os.truncate(path, rng.choice([0, 1, size // 2, size + 1]))
    elif how in ("trunc-open", "rdwr"):
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC if how == "trunc-open" else os.O_RDWR)
        os.close(fd)
    elif how in ("rewrite", "append"):
        fd = os.open(path, os.O_WRONLY | (os.O_APPEND if how == "append" else 0))
        try:
            os.pwrite(fd, b"x", 0) if how == "rewrite" else os.write(fd, b"x")
            os.fsync(fd)
        finally:
            os.close(fd)
    elif how == "rsync":
        src = os.path.join(os.path.dirname(LOG), "rsync-over")
        with open(src, "wb") as fh:
            fh.write(rng.randbytes(rng.randrange(1, 5000)))
        r = subprocess.run(["rsync", "-a", "--no-whole-file", src, path],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)
        if "not connected" in r.stderr.decode(errors="replace"):
            raise Dead()
        return None if r.returncode else "rsync exited 0"
    return how + " went through"


def op_attack_held():
    """A change to a held file through the mount: every one must fail (with
    the errno of refused_as) and leave it verified with its SHA-256.  Moving
    it and linking it are allowed: the hold follows the inode."""
    if not held:
        return
    p = rng.choice(sorted(held))
    h = held[p]["sha"]
    eir = p.split("/")[0]
    how = rng.choice(["unlink", "rename-over", "truncate", "trunc-open", "rdwr", "rewrite",
                      "append", "rsync", "move", "move", "link"])
    if how in ("move", "link"):
        counter[0] += 1
        q = "%s/%s%04d" % (os.path.dirname(p), "h" if how == "move" else "l", counter[0])
        log(op="held-moving" if how == "move" else "held-linking", path=p, to=q)
        try:
            (os.rename if how == "move" else os.link)(os.path.join(MNT, p), os.path.join(MNT, q))
        except OSError as e:
            check_dead(e)
            log(op="held-%s-failed" % how, path=p, to=q, err=str(e))
            if mode[eir] != "ro" or e.errno != errno.EROFS:
                violation("%s of a held file refused" % how, path=p, to=q, err=str(e))
            return
        content[q] = content[p]
        tracked.add(q)
        sealed.add(q)
        held[q] = dict(held[p], given=held[p]["given"] if how == "move" else None)
        if how == "move":
            for s in (content, held):
                s.pop(p, None)
            tracked.discard(p)
            sealed.discard(p)
        fsync_dirs(p, q)
        log(op="held-moved" if how == "move" else "held-linked", path=p, to=q, sha=h)
        intact(q, h, "held file changed by " + how)
        return
    if how == "rename-over" and mode[eir] == "ro":
        how = "unlink"  # nothing can be created to rename from
    err = None
    try:
        went = attack(p, how)
    except OSError as e:
        check_dead(e)
        went, err = None, errno.errorcode.get(e.errno, str(e.errno))
        if e.errno not in refused_as(p):
            violation("held file: %s failed with an unexpected errno" % how, path=p,
                      err=str(e), mode=mode[eir])
    log(op="attack", path=p, how=how, mode=mode[eir], went=went, err=err)
    if went:
        violation("held file: " + went, path=p, mode=mode[eir])
    intact(p, h, "held file changed by " + how)


def enrpctl_kill():
    """A `trash restore` (or a `hold add`) started, and MARKER at once: the
    harness kills enrpfs while enrpctl runs, before or after its commit."""
    eir = rng.choice(EIRS)
    entries = trash_entries(eir) if rng.random() < 0.7 else None
    if entries is not None and not entries:
        # Something to restore: a file seen verified, then deleted.
        counter[0] += 1
        p = "%s/k%04d" % (eir, counter[0])
        write_file(p, rng.randbytes(rng.randrange(0, 70000)), False)
        if watch_verified(p) is None:
            return
        os.unlink(os.path.join(MNT, p))
        deadline = time.time() + 5
        while not entries and time.time() < deadline:
            entries = trash_entries(eir)
            time.sleep(0.05)
    if entries:
        e = rng.choice(entries)
        tid, h = e["id"], e["sha256"]
        target, args = restore_args(eir, e, rng.random() < 0.5)
        log(op="restoring", eir=eir, id=tid, path=target, sha=h)
    else:
        counter[0] += 1
        target = "%s/k%04d" % (eir, counter[0])
        data = rng.randbytes(rng.randrange(0, 70000))
        write_file(target, data, False)
        content[target] = data
        by_sha[sha(data)] = data
        h = watch_verified(target)
        if h is None:
            candidates.append(target)
            return
        if h != sha(data):
            log(op="bad-sha", path=target, got=h, want=sha(data))
            return
        seen_verified(target, h, why="watched")
        days = rng.randrange(400, 4000)
        args = ["hold", "add", target, "--until", "+%dd" % days, "--reason", "kill"]
        log(op="holding", path=target, sha=h)
    proc = subprocess.Popen([ENRPCTL, "-S", STORE] + args, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    with open(MARKER + ".tmp", "w") as fh:
        fh.write("%d\n" % proc.pid)  # the harness may kill it too
    os.rename(MARKER + ".tmp", MARKER)
    log(op="marker", path=target, state=args[0])
    err = proc.communicate(timeout=60)[1].decode(errors="replace").strip()[:200]
    if entries:
        restore_done(eir, tid, target, h, proc.returncode, err)
    elif proc.returncode == 0:
        held[target] = {"sha": h, "given": target, "days": days}
        log(op="held", path=target, sha=h, why="hold", given=target, days=days)
    elif proc.returncode > 0:
        log(op="hold-failed", path=target, rc=proc.returncode, err=err)
    else:
        log(op="hold-killed", path=target, rc=proc.returncode)


def pending_kill():
    """A large file, and the marker once it is being sealed."""
    p = op_write(False, big=True)
    deadline = time.time() + 10
    while time.time() < deadline:
        st, _ = state(p)
        if st in ("pending", "verified"):
            open(MARKER, "w").close()
            log(op="marker", path=p, state=st)
            return
        time.sleep(0.002)


def main():
    ops = [(op_write, 4, (True,)), (op_write, 3, (False,)), (op_write, 1, (False, True)),
           (op_rsync, 2, ()), (op_rename, 2, ()), (op_delete, 1, ()),
           (op_check_verified, 3, ()), (op_check_sums, 1, ()), (op_overwrite, 2, ()),
           (op_mode, 1, ()), (op_gc, 1, ()), (op_trash_purge, 1, ()),
           (op_snapshot, 1, ()), (op_snapshot_delete, 1, ()),
           (op_restore, 3, ()), (op_hold, 3, ()), (op_hold_extend, 1, ()),
           (op_attack_held, 5, ()), (op_lock, 1, ()), (op_append, 3, ())]
    weights = [w for _, w, _ in ops]
    global LOCK_EIR
    LOCK_EIR = rng.choice(EIRS) if rng.random() < 0.4 else None
    kill_ops = {"pending": pending_kill, "verified": verified_kill, "enrpctl": enrpctl_kill,
                "append": append_kill}
    pend_at = rng.randrange(3, 25) if KILLMODE in kill_ops else -1
    n = 0
    try:
        for eir in EIRS:
            os.makedirs(os.path.join(MNT, eir), exist_ok=True)
        while True:
            n += 1
            if n == pend_at:
                try:
                    kill_ops[KILLMODE]()
                except OSError as e:
                    check_dead(e)
                    log(op="error", what=KILLMODE, err=str(e))
                if not os.path.exists(MARKER):
                    pend_at += 1  # e.g. EROFS after op_mode: try again
            fn, _, args = rng.choices(ops, weights)[0]
            try:
                fn(*args)
            except OSError as e:
                check_dead(e)
                log(op="error", what=fn.__name__, err=str(e))
            except subprocess.TimeoutExpired:
                log(op="error", what=fn.__name__, err="timeout")
            if rng.random() < 0.2:
                time.sleep(rng.random() * 0.2)
    except Dead:
        log(op="dead", ops=n)


main()
