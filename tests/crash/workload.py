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

P is relative to the mount.  With KILLMODE 'pending' a large file is
written and MARKER is created as soon as its state is 'pending', so the
harness kills enrpfs while the file is being sealed.  With KILLMODE
'verified' fresh small files (some in a fresh directory, some renamed once
verified) are watched until they read 'verified', and MARKER is created
right after: the harness kills enrpfs within milliseconds, while the group
that sealed (and created, and renamed) them may still be open.  The promise
checked is that of docs/design.md: whatever was shown verified survives.
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
    tracked.discard(p)
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


def op_write(do_fsync, big=False):
    eir = rng.choice(EIRS)
    p = fresh(eir, "big" if big else ("s" if do_fsync else "n"))
    size = rng.randrange(2 << 20, 20 << 20) if big else rng.choice(
        [0, rng.randrange(1, 4096), rng.randrange(4096, 300000), rng.randrange(300000, 2 << 20)])
    data = rng.randbytes(size)
    write_file(p, data, do_fsync)
    content[p] = data
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
            candidates.append(p)
    log(op="rsync", path="%s/%s" % (eir, name), rc=r.returncode)


def pick(pool):
    pool = [p for p in pool if p in content]
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


def op_check_verified():
    for p in list(candidates)[-40:]:
        if p not in content:
            continue
        st, h = state(p)
        if st == "verified":
            if h != sha(content[p]):
                log(op="bad-sha", path=p, got=h, want=sha(content[p]))
                continue
            candidates.remove(p)
            tracked.add(p)
            log(op="verified", path=p, sha=h)


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
        if p in candidates:
            candidates.remove(p)
        tracked.add(p)
        log(op="verified", path=p, sha=h, why="SHA256SUMS")


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
        tracked.add(p)
        log(op="verified", path=p, sha=h, why="watched")
    open(MARKER, "w").close()
    log(op="marker", path=p, state="verified")


def op_overwrite():
    """dd conv=notrunc over a verified (sealed) file: copy-back, then fsync."""
    p = pick(list(tracked))
    if not p or state(p)[0] != "verified":
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
        candidates.append(p)
        tracked.add(p)
        log(op="durable", path=p, sha=sha(new), why="dd-notrunc-fsync")
    else:
        err = r.stderr.decode(errors="replace").strip()
        log(op="dd-failed", path=p, err=err[:200])
        if "not connected" in err:
            raise Dead()


def op_mode():
    eir = rng.choice(EIRS)
    mode = rng.choice(["rw", "rw", "wo", "ro"])
    r = subprocess.run([ENRPCTL, "-S", STORE, "eir", "set", eir, "--mode", mode],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)
    log(op="mode", eir=eir, mode=mode, rc=r.returncode)


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
           (op_snapshot, 1, ()), (op_snapshot_delete, 1, ())]
    weights = [w for _, w, _ in ops]
    pend_at = rng.randrange(3, 15) if KILLMODE in ("pending", "verified") else -1
    n = 0
    try:
        for eir in EIRS:
            os.makedirs(os.path.join(MNT, eir), exist_ok=True)
        while True:
            n += 1
            if n == pend_at:
                try:
                    (verified_kill if KILLMODE == "verified" else pending_kill)()
                except OSError as e:
                    check_dead(e)
                    log(op="error", what=KILLMODE, err=str(e))
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
