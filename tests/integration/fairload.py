#!/usr/bin/env python3
"""fairload.py — load that one owner can put on enrpfs, and the checks of
what it must not do to the daemon, for t1400-t1420.  Runs as the test users
(only the standard library).  Every subcommand prints what it found on
stdout, one 'key value' per line unless said otherwise, and exits 1 with a
message on stderr when the load itself could not be applied.

  chain DIR DEPTH EVERY OUT     a chain of DEPTH directories named d under
                                DIR, an EIR directory (relative steps: no
                                PATH_MAX), a file f<LEVEL> every EVERY levels
                                and 'bottom' at the end; writes to OUT the
                                SHA256SUMS lines the files must have; every
                                EVERY levels it also reads DIR/.enrp/status,
                                pending and SHA256SUMS and checks every line
                                of them against what exists; prints 'reads N'
                                and 'bad_reads N'
  mkentries DIR N THREADS       N entries n000000.. in DIR (symlinks: one
                                request each, nothing to seal), by THREADS
                                creators at once
  rss PID                       'rss_kib mdb_kib': Rss of the process and of
                                its data.mdb mapping (the store's pages, which
                                the kernel may drop at will)
  sample PID OUT STOP           until the file STOP exists: the largest
                                Rss - data.mdb seen every 20 ms, into OUT
  handles DIR NFILES N          opens N directory handles on DIR at once,
                                each read a different way into the directory
                                (1, 8, ... entries), and keeps them open
                                while it lists DIR whole; prints 'listed N',
                                'dupes N' and 'missing N' (against the names
                                n000000.. of mkentries NFILES), and 'first_ok
                                0/1' (each handle's entries came in order)
  churn DIR N                   a directory of N files; a walk with readdir
                                (ctypes, small reads) while another thread
                                creates, unlinks and renames entries ahead
                                of and behind it; prints 'untouched_once',
                                'untouched_total', 'dupes' (a name twice),
                                'changes'
  rewind DIR                    opendir, read some, create an entry, then
                                rewinddir: the new entry is seen, and
                                seekdir to a telldir position resumes with
                                the same entries; prints 'rewind_sees_new',
                                'seek_same' (0/1)
  pollsums EIRDIR WANTFILE STOP until STOP exists: reads EIRDIR/.enrp/
                                SHA256SUMS whole, again and again, and
                                compares each text with WANTFILE; prints
                                'polls N' and 'bad N'
  creates DIR N SIZE            N files s00000.. of SIZE random bytes, each
                                created, written and closed; prints their
                                sha256sum(1) lines (names relative to DIR)
"""
import ctypes
import ctypes.util
import hashlib
import os
import random
import sys
import threading
import time


def die(msg):
    sys.stderr.write("fairload: %s\n" % msg)
    sys.exit(1)


def check_reads(eir, lines):
    """Reads the three files of EIR; returns the number of wrong ones."""
    bad = 0
    status = open(os.path.join(eir, ".enrp", "status")).read()
    if "\nverified_files: " not in status or "\npending_files: " not in status:
        bad += 1
    paths = set(x.split("  ", 1)[1] for x in lines)
    pending = open(os.path.join(eir, ".enrp", "pending")).read().splitlines()
    if any(p not in paths for p in pending):
        bad += 1
    sums = open(os.path.join(eir, ".enrp", "SHA256SUMS")).read().splitlines()
    if any(x not in lines for x in sums) or len(set(sums)) != len(sums):
        bad += 1
    return bad


def chain(d, depth, every, out):
    depth, every = int(depth), int(every)
    lines = set()
    os.chdir(d)
    path = ""
    reads = bad = 0
    for i in range(depth):
        os.mkdir("d")
        os.chdir("d")
        path += "d/"
        if i % every == every - 1:
            data = ("level %d\n" % i).encode()
            with open("f%d" % i, "wb") as fh:
                fh.write(data)
            lines.add("%s  %sf%d" % (hashlib.sha256(data).hexdigest(), path, i))
            reads += 1
            bad += check_reads(d, lines)
    data = b"the bottom\n"
    with open("bottom", "wb") as fh:
        fh.write(data)
    lines.add("%s  %sbottom" % (hashlib.sha256(data).hexdigest(), path))
    with open(out, "w") as fh:
        for line in sorted(lines):
            fh.write(line + "\n")
    print("reads %d" % reads)
    print("bad_reads %d" % bad)
    return 0


def mkentries(d, n, threads):
    n, threads = int(n), int(threads)
    errors = []

    def work(k):
        try:
            for i in range(k, n, threads):
                os.symlink("target", os.path.join(d, "n%06d" % i))
        except OSError as e:
            errors.append(str(e))

    ts = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        die("mkentries: " + errors[0])
    return 0


def rss_of(pid):
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
    return total, mdb


def rss(pid):
    print("%d %d" % rss_of(pid))
    return 0


def sample(pid, out, stop):
    best = 0
    while not os.path.exists(stop):
        try:
            total, mdb = rss_of(pid)
        except OSError:
            break
        best = max(best, total - mdb)
        time.sleep(0.02)
    with open(out, "w") as fh:
        fh.write("%d\n" % best)
    return 0


def handles(d, nfiles, n):
    nfiles, n = int(nfiles), int(n)
    its, firsts = [], []
    for i in range(n):
        it = os.scandir(d)
        got = [next(it).name for _ in range(1 + (i * 7) % 997)]
        its.append(it)
        firsts.append(got)
    names = [e.name for e in os.scandir(d)]
    want = set("n%06d" % i for i in range(nfiles))
    seen = set(names)
    # The handles still work, and each one's entries came in name order.
    first_ok = all(f == sorted(f) for f in firsts)
    for it in its:
        next(it, None)
        it.close()
    print("listed %d" % len(names))
    print("dupes %d" % (len(names) - len(seen)))
    print("missing %d" % len(want - seen))
    print("first_ok %d" % int(first_ok))
    return 0


class Dirent(ctypes.Structure):
    _fields_ = [("d_ino", ctypes.c_uint64), ("d_off", ctypes.c_int64),
                ("d_reclen", ctypes.c_ushort), ("d_type", ctypes.c_ubyte),
                ("d_name", ctypes.c_char * 256)]


def libc():
    lc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    lc.opendir.restype = ctypes.c_void_p
    lc.opendir.argtypes = [ctypes.c_char_p]
    lc.readdir.restype = ctypes.POINTER(Dirent)
    lc.readdir.argtypes = [ctypes.c_void_p]
    lc.rewinddir.argtypes = [ctypes.c_void_p]
    lc.telldir.restype = ctypes.c_long
    lc.telldir.argtypes = [ctypes.c_void_p]
    lc.seekdir.argtypes = [ctypes.c_void_p, ctypes.c_long]
    lc.closedir.argtypes = [ctypes.c_void_p]
    return lc


def next_name(lc, dp):
    ctypes.set_errno(0)
    p = lc.readdir(dp)
    if not p:
        if ctypes.get_errno():
            die("readdir: %s" % os.strerror(ctypes.get_errno()))
        return None
    return p.contents.d_name.decode()


def churn(d, n):
    n = int(n)
    for i in range(n):
        os.close(os.open(os.path.join(d, "e%05d" % i), os.O_CREAT | os.O_WRONLY, 0o644))
    touched = set()
    changes = [0]
    go = threading.Event()
    done = threading.Event()

    def changer():
        go.wait()
        rnd = random.Random(7)
        k = 0
        while not done.is_set() and k < 400:
            a = rnd.randrange(n)
            b = rnd.randrange(n)
            c = rnd.randrange(n)
            for x in (a, b, c):
                touched.add("e%05d" % x)
            try:
                os.unlink(os.path.join(d, "e%05d" % a))
            except FileNotFoundError:
                pass
            try:
                os.rename(os.path.join(d, "e%05d" % b), os.path.join(d, "r%05d-%d" % (b, k)))
            except FileNotFoundError:
                pass
            os.close(os.open(os.path.join(d, "c%05d-%d" % (c, k)), os.O_CREAT | os.O_WRONLY,
                             0o644))
            k += 1
            changes[0] = k
            time.sleep(0.001)

    lc = libc()
    t = threading.Thread(target=changer)
    t.start()
    dp = lc.opendir(os.fsencode(d))
    if not dp:
        die("opendir %s" % d)
    seen = []
    while True:
        name = next_name(lc, dp)
        if name is None:
            break
        seen.append(name)
        if len(seen) == 50:
            go.set()
        if len(seen) % 100 == 0:
            time.sleep(0.01)  # let the changes land mid-walk
    lc.closedir(dp)
    done.set()
    go.set()
    t.join()
    counts = {}
    for x in seen:
        counts[x] = counts.get(x, 0) + 1
    untouched = ["e%05d" % i for i in range(n) if "e%05d" % i not in touched]
    once = sum(1 for x in untouched if counts.get(x, 0) == 1)
    print("untouched_once %d" % once)
    print("untouched_total %d" % len(untouched))
    print("dupes %d" % sum(1 for v in counts.values() if v > 1))
    print("changes %d" % changes[0])
    return 0


def rewind(d):
    lc = libc()
    for i in range(300):
        os.close(os.open(os.path.join(d, "w%04d" % i), os.O_CREAT | os.O_WRONLY, 0o644))
    dp = lc.opendir(os.fsencode(d))
    first = [next_name(lc, dp) for _ in range(40)]
    pos = lc.telldir(dp)
    after = [next_name(lc, dp) for _ in range(20)]
    # seekdir back to the told position gives the same entries again.
    lc.seekdir(dp, pos)
    again = [next_name(lc, dp) for _ in range(20)]
    os.close(os.open(os.path.join(d, "a-new-one"), os.O_CREAT | os.O_WRONLY, 0o644))
    lc.rewinddir(dp)
    names = []
    while True:
        x = next_name(lc, dp)
        if x is None:
            break
        names.append(x)
    lc.closedir(dp)
    print("rewind_sees_new %d" % int("a-new-one" in names and first[0] in names))
    print("seek_same %d" % int(after == again and None not in after))
    print("rewind_count %d" % len(names))
    return 0


def pollsums(eirdir, wantfile, stop):
    with open(wantfile, "rb") as fh:
        want = fh.read()
    polls = bad = 0
    p = os.path.join(eirdir, ".enrp", "SHA256SUMS")
    while not os.path.exists(stop):
        with open(p, "rb") as fh:
            got = fh.read()
        polls += 1
        if got != want:
            bad += 1
            if bad == 1:
                sys.stderr.write("fairload: poll %d: %d bytes, want %d\n" % (polls, len(got),
                                                                              len(want)))
    print("polls %d" % polls)
    print("bad %d" % bad)
    return 0


def creates(d, n, size):
    n, size = int(n), int(size)
    out = []
    for i in range(n):
        data = os.urandom(size)
        with open(os.path.join(d, "s%05d" % i), "wb") as fh:
            fh.write(data)
        out.append("%s  %s" % (hashlib.sha256(data).hexdigest(), "s%05d" % i))
    for line in out:
        print(line)
    return 0


def main():
    op, args = sys.argv[1], sys.argv[2:]
    fns = {"chain": chain, "mkentries": mkentries, "rss": rss, "sample": sample,
           "handles": handles, "churn": churn, "rewind": rewind, "pollsums": pollsums,
           "creates": creates}
    if op not in fns:
        die("unknown subcommand %s" % op)
    sys.exit(fns[op](*args))


if __name__ == "__main__":
    main()
