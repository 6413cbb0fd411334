#!/usr/bin/env python3
"""bench.py — small helpers for tests/bench/run (timing-sensitive loops that
would cost a process per iteration in shell).

  waitstate PATH STATE TIMEOUT      poll the enrp.state xattr every 5 ms until
                                    it reads STATE; print seconds waited
                                    (exit 1 on timeout, 2 on 'corrupt')
  waitpending EIRDIR TIMEOUT        poll EIRDIR/.enrp/pending until empty;
                                    print seconds waited (exit 1 on timeout)
  mkfiles DIR N                     create N empty files, 1000 a directory
  rss PID                           print 'rss_kib mdb_kib hwm_kib' once
  sample PID OUT STOPFILE           every 0.2 s until STOPFILE exists: track
                                    max(Rss - Rss of data.mdb); write
                                    'max_kib hwm_kib' to OUT
  modetest ENRPCTL STORE EIR DIR REPS
                                    REPS times: rw -> warm caches -> open a
                                    handle for writing -> `eir set --mode ro`
                                    -> time from enrpctl's return to the
                                    first EROFS of touch (utimens), create and
                                    write on the open handle (each probe
                                    starts right after the previous one's
                                    EROFS, the first right after enrpctl
                                    returns); print 'max_ms mean_ctl_ms
                                    denied_at_first_try/probes'
  creates DIR N SIZE                create, write SIZE bytes to and close N
                                    files one after the other; print the
                                    p50 and p99 of their latencies, in ms
  pollsums EIRDIR STOPFILE          read EIRDIR/.enrp/SHA256SUMS whole in a
                                    loop until STOPFILE exists; print 'polls
                                    bytes_of_one'
  chain DIR DEPTH                   a chain of DEPTH directories 'd' under
                                    DIR with one small file at the bottom
  statlat FILE REPS                 REPS times stat, open, read whole and
                                    close FILE; print the median in ms
  mklinks DIR N                     N symlinks in DIR (one flat directory)
  handles PID DIR N                 open N directory handles on DIR, each
                                    read part-way (1, 8, ... entries), list
                                    DIR whole meanwhile; print the growth of
                                    the daemon's Rss - data.mdb (KiB) and the
                                    entries listed
  rewrite PATH SIZE REPS SEED TIMEOUT enrp|plain
                                    write SIZE seeded random bytes to PATH
                                    (on enrp: wait until verified), then REPS
                                    times: open O_WRONLY (no O_TRUNC), pwrite
                                    one byte in the middle, close; on enrp
                                    then poll enrp.state every ms until
                                    verified again, and check enrp.sha256
                                    against the bytes written; print the
                                    medians 'client_ms reseal_ms' (reseal
                                    n/a on plain), then each run's
                                    client_ms/reseal_ms
"""
import errno
import hashlib
import os
import random
import subprocess
import sys
import time


def waitstate(path, want, timeout):
    t0 = time.monotonic()
    deadline = t0 + float(timeout)
    while True:
        try:
            st = os.getxattr(path, "enrp.state").decode()
        except OSError:
            st = ""
        if st == want:
            print("%.3f" % (time.monotonic() - t0))
            return 0
        if st == "corrupt":
            print("corrupt")
            return 2
        if time.monotonic() > deadline:
            print("timeout(%s)" % st)
            return 1
        time.sleep(0.005)


def waitpending(eirdir, timeout):
    t0 = time.monotonic()
    deadline = t0 + float(timeout)
    p = os.path.join(eirdir, ".enrp", "pending")
    while True:
        try:
            with open(p, "rb") as fh:
                empty = fh.read(1) == b""
        except OSError:
            empty = False
        if empty:
            print("%.3f" % (time.monotonic() - t0))
            return 0
        if time.monotonic() > deadline:
            print("timeout")
            return 1
        time.sleep(0.05)


def mkfiles(d, n):
    n = int(n)
    flags = os.O_CREAT | os.O_WRONLY | os.O_EXCL
    for i in range(n):
        if i % 1000 == 0:
            sub = os.path.join(d, "m%04d" % (i // 1000))
            os.mkdir(sub)
        os.close(os.open(os.path.join(sub, "f%06d" % i), flags, 0o644))
    return 0


def rss_of(pid):
    """(Rss of the process, Rss of its data.mdb mapping(s), VmHWM), KiB."""
    total = mdb = 0
    with open("/proc/%s/smaps_rollup" % pid) as fh:
        for line in fh:
            if line.startswith("Rss:"):
                total = int(line.split()[1])
    in_mdb = False
    with open("/proc/%s/smaps" % pid) as fh:
        for line in fh:
            f = line.split()
            if not f:
                continue
            if "-" in f[0] and len(f) >= 5 and not f[0].endswith(":"):
                in_mdb = len(f) >= 6 and f[-1].endswith("/data.mdb")
            elif in_mdb and f[0] == "Rss:":
                mdb += int(f[1])
    hwm = 0
    with open("/proc/%s/status" % pid) as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    return total, mdb, hwm


def rss(pid):
    print("%d %d %d" % rss_of(pid))
    return 0


def sample(pid, out, stopfile):
    best = hwm = 0
    while True:
        try:
            total, mdb, hwm = rss_of(pid)
            best = max(best, total - mdb)
        except OSError:
            break
        if os.path.exists(stopfile):
            break
        time.sleep(0.2)
    with open(out, "w") as fh:
        fh.write("%d %d\n" % (best, hwm))
    return 0


def first_erofs(fn, deadline):
    """Calls fn until it fails with EROFS; returns (seconds, tries)."""
    t0 = time.monotonic()
    tries = 0
    while True:
        tries += 1
        try:
            fn()
        except OSError as e:
            if e.errno == errno.EROFS:
                return time.monotonic() - t0, tries
            if e.errno != errno.EEXIST:
                raise
        if time.monotonic() > deadline:
            return None, tries


def modetest(enrpctl, store, eir, d, reps):
    worst = 0.0
    ctl = []
    first = total = 0
    target = os.path.join(d, "probe")

    def setmode(m):
        subprocess.run([enrpctl, "-S", store, "eir", "set", eir, "--mode", m],
                       check=True, stdout=subprocess.DEVNULL)

    for rep in range(int(reps)):
        setmode("rw")
        with open(target, "w") as fh:
            fh.write("x")
        for _ in range(20):            # attributes and entries in the kernel
            os.utime(target)
            os.stat(target)
        fd = os.open(target, os.O_WRONLY)
        t = time.monotonic()
        setmode("ro")
        t0 = time.monotonic()
        ctl.append(t0 - t)
        deadline = t0 + 5.0
        n = [0]

        def create():
            n[0] += 1
            os.close(os.open(os.path.join(d, "new%d-%d" % (rep, n[0])),
                             os.O_CREAT | os.O_WRONLY, 0o644))

        probes = (lambda: os.utime(target), create,
                  lambda: os.pwrite(fd, b"y", 0))
        for p in probes:
            dt, tries = first_erofs(p, deadline)
            total += 1
            if dt is None:
                dt = float("inf")
            if tries == 1:
                first += 1
            worst = max(worst, dt)
        os.close(fd)
    setmode("rw")
    print("%.3f %.1f %d/%d" % (worst * 1000, 1000 * sum(ctl) / len(ctl), first, total))
    return 0


def percentile(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def creates(d, n, size):
    data = b"x" * int(size)
    lat = []
    for i in range(int(n)):
        t0 = time.monotonic()
        fd = os.open(os.path.join(d, "c%06d" % i), os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o644)
        os.write(fd, data)
        os.close(fd)
        lat.append(time.monotonic() - t0)
    print("%.3f %.3f" % (percentile(lat, 50) * 1000, percentile(lat, 99) * 1000))
    return 0


def pollsums(eirdir, stopfile):
    p = os.path.join(eirdir, ".enrp", "SHA256SUMS")
    polls = size = 0
    while not os.path.exists(stopfile):
        with open(p, "rb") as fh:
            size = len(fh.read())
        polls += 1
    print("%d %d" % (polls, size))
    return 0


def chain(d, depth):
    os.chdir(d)
    for _ in range(int(depth)):
        os.mkdir("d")
        os.chdir("d")
    with open("bottom", "w") as fh:
        fh.write("bottom\n")
    return 0


def statlat(path, reps):
    lat = []
    for _ in range(int(reps)):
        t0 = time.monotonic()
        os.stat(path)
        with open(path, "rb") as fh:
            fh.read()
        lat.append(time.monotonic() - t0)
    print("%.3f" % (percentile(lat, 50) * 1000))
    return 0


def mklinks(d, n):
    for i in range(int(n)):
        os.symlink("t", os.path.join(d, "l%07d" % i))
    return 0


def handles(pid, d, n):
    total, mdb, _ = rss_of(pid)
    base = total - mdb
    its = []
    for i in range(int(n)):
        it = os.scandir(d)
        for _ in range(1 + (i * 7) % 997):
            next(it)
        its.append(it)
    listed = sum(1 for _ in os.scandir(d))
    total, mdb, _ = rss_of(pid)
    for it in its:
        it.close()
    print("%d %d" % (total - mdb - base, listed))
    return 0


def median(v):
    v = sorted(v)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def waitverified(path, deadline):
    """Polls enrp.state every ms; returns the monotonic time it read
    'verified', or raises."""
    while True:
        st = os.getxattr(path, "enrp.state").decode()
        if st == "verified":
            return time.monotonic()
        if st == "corrupt" or time.monotonic() > deadline:
            raise RuntimeError("%s: enrp.state is %s" % (path, st))
        time.sleep(0.001)


def rewrite(path, size, reps, seed, timeout, kind):
    size, reps, timeout = int(size), int(reps), float(timeout)
    enrp = kind == "enrp"
    data = bytearray(random.Random(int(seed)).randbytes(size))
    with open(path, "wb") as fh:
        fh.write(data)
    if enrp:
        waitverified(path, time.monotonic() + timeout)
    mid = size // 2
    client, reseal = [], []
    for _ in range(reps):
        data[mid] = (data[mid] + 1) % 256    # each rewrite changes the content
        t0 = time.monotonic()
        fd = os.open(path, os.O_WRONLY)
        os.pwrite(fd, data[mid:mid + 1], mid)
        os.close(fd)
        t1 = time.monotonic()
        client.append((t1 - t0) * 1000)
        if not enrp:
            continue
        t2 = waitverified(path, t1 + timeout)
        reseal.append((t2 - t1) * 1000)
        got = os.getxattr(path, "enrp.sha256").decode()
        want = hashlib.sha256(data).hexdigest()
        if got != want:
            print("%s: enrp.sha256 %s after the rewrite, expected %s" % (path, got, want),
                  file=sys.stderr)
            return 1
    print("%.3f %s %s" % (median(client), "%.1f" % median(reseal) if enrp else "n/a",
                          " ".join("%.3f/%s" % (c, "%.1f" % r if enrp else "-")
                                   for c, r in zip(client, reseal or [0] * reps))))
    return 0


def main():
    op, args = sys.argv[1], sys.argv[2:]
    fns = {"waitstate": waitstate, "waitpending": waitpending, "mkfiles": mkfiles,
           "rss": rss, "sample": sample, "modetest": modetest, "creates": creates,
           "pollsums": pollsums, "chain": chain, "statlat": statlat, "mklinks": mklinks,
           "handles": handles, "rewrite": rewrite}
    sys.exit(fns[op](*args))


if __name__ == "__main__":
    main()
