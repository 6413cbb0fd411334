#!/usr/bin/env python3
"""workloads.py — seeded multi-process loads for tests/bench/run, run the
same on enrp and on its baseline (bindfs over a plain directory).

  mixed ROOT NPROC NOPS SEED
      NPROC processes, each in its own subdirectory ROOT/pI (ROOT is
      created and must not exist), each NOPS
      operations drawn from a PRNG seeded by (SEED, I): creates (4 KiB to
      2 MiB), writes at random offsets (1 byte to 256 KiB; one in five past
      the end of the file, leaving a hole of up to 4 MiB), truncates (down,
      or up: a hole), appends followed by fsync, renames (one in four over
      an existing name, across the process's four directories), hard links
      and unlinks.  Each process keeps a model of its tree (names, inodes,
      sizes), so the sequence of operations never depends on the filesystem
      and is the same on every run; at the end every name's size and link
      count is checked against the model (1.5 s later: see mixed()).
      Print 'seconds ops bytes_written', the time from the start signal to
      the last process's last operation.

  fsetup ROOT NPROC NFILES SEED
      the file server's working set: NFILES files of 4 to 64 KiB, split
      between ROOT/p0 .. ROOT/pNPROC-1 (100 to a directory); print the
      seconds it took.
  fileserver ROOT NPROC SECONDS SEED
      NPROC clients, each over its own part of that working set for
      SECONDS: read a whole file (50 %), replace a file's content
      (O_TRUNC, 4 to 64 KiB; 15 %), append 1 to 16 KiB (25 %; a file past
      128 KiB is replaced instead), stat (10 %); one write in ten is
      followed by fsync.  Print 'ops_per_s ops seconds mib_read
      mib_written'.

Both print on stdout only; a failed operation ends the run with status 1
and the error on stderr.
"""
import os
import random
import sys
import time

KiB, MiB = 1024, 1024 * 1024
POOL = 8 * MiB


def pool(seed):
    """Random bytes the processes slice their data from (incompressible, as
    a compressed or encrypted dump is)."""
    return random.Random(seed).randbytes(POOL)


def piece(rnd, data, n):
    o = rnd.randrange(POOL - n + 1)
    return memoryview(data)[o:o + n]


def writeall(fd, buf, off=None):
    """pwrite (or write) all of buf in pieces of at most 1 MiB."""
    done = 0
    while done < len(buf):
        chunk = buf[done:done + MiB]
        n = os.pwrite(fd, chunk, off + done) if off is not None else os.write(fd, chunk)
        done += n


def run_procs(nproc, child):
    """Forks nproc children running child(i) -> (end, values...), end being
    the child's time.monotonic() when its timed part ended (the clock is the
    same in every process); all are released at once.  Returns (seconds
    from the release to the last end, the values summed over the children),
    or exits 1 if a child failed."""
    go_r, go_w = os.pipe()
    kids = []
    for i in range(nproc):
        res_r, res_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(go_w)
            os.close(res_r)
            rc = 1
            try:
                os.read(go_r, 1)     # EOF when the parent closes go_w: go
                out = child(i)
                os.write(res_w, (" ".join(str(x) for x in out) + "\n").encode())
                rc = 0
            except Exception as e:   # reported; the parent fails the run
                print("workloads.py: process %d: %s" % (i, e), file=sys.stderr)
            finally:
                os._exit(rc)
        os.close(res_w)
        kids.append((pid, res_r))
    os.close(go_r)
    time.sleep(0.2)                  # every child at its read
    t0 = time.monotonic()
    os.close(go_w)
    failed = False
    end, sums = t0, None
    for pid, res_r in kids:
        with os.fdopen(res_r) as fh:
            line = fh.read().split()
        _, status = os.waitpid(pid, 0)
        if status != 0 or not line:
            failed = True
            continue
        v = [float(x) for x in line]
        end = max(end, v[0])
        sums = v[1:] if sums is None else [a + b for a, b in zip(sums, v[1:])]
    if failed:
        sys.exit(1)
    return end - t0, sums


# ---- mixed ----------------------------------------------------------------------

MAXSIZE = 8 * MiB    # no write or truncate grows a file past this
MAXNAMES = 150       # past this a create unlinks instead
OPS = (("create", 18), ("write", 26), ("truncate", 8), ("fsync", 8), ("rename", 12),
       ("link", 6), ("unlink", 12), ("stat", 10))


class Tree:
    """A process's model: names (a list, so choices are reproducible), the
    inode each name is, and each inode's size and names."""

    def __init__(self):
        self.names = []
        self.index = {}      # name -> position in names
        self.ino = {}        # name -> inode number (ours)
        self.size = {}       # inode -> size
        self.links = {}      # inode -> number of names
        self.next = 0

    def add(self, name, ino):
        self.index[name] = len(self.names)
        self.names.append(name)
        self.ino[name] = ino
        self.links[ino] = self.links.get(ino, 0) + 1

    def move(self, src, dst):
        if dst in self.ino:
            self.drop(dst)
        i = self.index.pop(src)
        self.names[i] = dst
        self.index[dst] = i
        self.ino[dst] = self.ino.pop(src)

    def drop(self, name):
        i = self.index.pop(name)
        last = self.names.pop()
        if last != name:
            self.names[i] = last
            self.index[last] = i
        ino = self.ino.pop(name)
        self.links[ino] -= 1
        if self.links[ino] == 0:
            del self.links[ino]
            del self.size[ino]


def mixed_child(root, idx, nops, seed, data):
    rnd = random.Random(seed * 1009 + idx)
    base = os.path.join(root, "p%d" % idx)
    dirs = [os.path.join(base, "d%d" % k) for k in range(4)]
    for d in [base] + dirs:
        os.mkdir(d)
    t = Tree()
    written = 0
    ops = [o for o, w in OPS for _ in range(w)]

    def newname():
        t.next += 1
        return os.path.join(dirs[rnd.randrange(4)], "f%06d" % t.next)

    def pick():
        return t.names[rnd.randrange(len(t.names))]

    for _ in range(int(nops)):
        op = ops[rnd.randrange(len(ops))]
        if not t.names:
            op = "create"
        if op == "create" and len(t.names) >= MAXNAMES:
            op = "unlink"
        if op == "create":
            name = newname()
            n = int(4 * KiB * 2 ** (rnd.random() * 9))        # 4 KiB .. 2 MiB
            fd = os.open(name, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            writeall(fd, piece(rnd, data, n))
            os.close(fd)
            t.next += 1
            t.size[t.next] = n
            t.add(name, t.next)
            written += n
        elif op == "write":
            name = pick()
            ino = t.ino[name]
            cur = t.size[ino]
            n = int(2 ** (rnd.random() * 18))                 # 1 B .. 256 KiB
            if cur < MAXSIZE and rnd.random() < 0.2:
                off = cur + rnd.randrange(1, 4 * MiB)          # a hole, then data
            else:
                off = rnd.randrange(min(cur, MAXSIZE) + 1)
            fd = os.open(name, os.O_WRONLY)
            writeall(fd, piece(rnd, data, n), off)
            os.close(fd)
            t.size[ino] = max(cur, off + n)
            written += n
        elif op == "truncate":
            name = pick()
            ino = t.ino[name]
            n = rnd.randrange(min(t.size[ino] * 3 // 2 + 4 * KiB, MAXSIZE) + 1)
            os.truncate(name, n)
            t.size[ino] = n
        elif op == "fsync":
            name = pick()
            ino = t.ino[name]
            n = rnd.randrange(512, 16 * KiB + 1)
            fd = os.open(name, os.O_WRONLY | os.O_APPEND)
            writeall(fd, piece(rnd, data, n))
            os.fsync(fd)
            os.close(fd)
            t.size[ino] += n
            written += n
        elif op == "rename":
            src = pick()
            if len(t.names) > 1 and rnd.random() < 0.25:
                dst = pick()
            else:
                dst = newname()
            os.rename(src, dst)
            # POSIX: renaming a name onto another name of the same inode
            # does nothing.
            if t.ino.get(dst) != t.ino[src]:
                t.move(src, dst)
        elif op == "link":
            src = pick()
            dst = newname()
            os.link(src, dst)
            t.add(dst, t.ino[src])
        elif op == "unlink":
            name = pick()
            os.unlink(name)
            t.drop(name)
        else:
            os.stat(pick())
    return t, written


def mixed(root, nproc, nops, seed):
    nproc, nops, seed = int(nproc), int(nops), int(seed)
    data = pool(seed)
    os.mkdir(root)

    def child(i):
        t, written = mixed_child(root, i, nops, seed, data)
        end = time.monotonic()
        # A high-level FUSE filesystem such as bindfs gives each name of a
        # hard-linked file its own kernel inode, whose attributes the kernel
        # keeps for attr_timeout (1 s): a change made through one name shows
        # in another's stat only after that.
        time.sleep(1.5)
        for name in t.names:
            st = os.stat(name)
            ino = t.ino[name]
            if st.st_size != t.size[ino] or st.st_nlink != t.links[ino]:
                raise RuntimeError("%s: size %d, %d links; the model says %d, %d" % (
                    name, st.st_size, st.st_nlink, t.size[ino], t.links[ino]))
        return end, nops, written

    secs, (ops, written) = run_procs(nproc, child)
    print("%.3f %d %d" % (secs, ops, written))
    return 0


# ---- file server ------------------------------------------------------------------


def fpaths(root, idx, n):
    return [os.path.join(root, "p%d" % idx, "d%03d" % (j // 100), "f%04d" % j)
            for j in range(n)]


def fsetup(root, nproc, nfiles, seed):
    nproc, nfiles, seed = int(nproc), int(nfiles), int(seed)
    data = pool(seed)
    t0 = time.monotonic()
    for i in range(nproc):
        rnd = random.Random(seed * 1013 + i)
        for j, p in enumerate(fpaths(root, i, nfiles // nproc)):
            if j % 100 == 0:
                os.makedirs(os.path.dirname(p))
            with open(p, "wb") as fh:
                fh.write(piece(rnd, data, rnd.randrange(4 * KiB, 64 * KiB + 1)))
    print("%.3f" % (time.monotonic() - t0))
    return 0


FOPS = [o for o, w in (("read", 50), ("replace", 15), ("append", 25), ("stat", 10))
        for _ in range(w)]


def fileserver(root, nproc, seconds, seed):
    nproc, seconds, seed = int(nproc), float(seconds), int(seed)
    data = pool(seed)
    nfiles = len([1 for d in os.scandir(os.path.join(root, "p0")) for _ in os.scandir(d.path)])

    def child(i):
        rnd = random.Random(seed * 7919 + i)
        paths = fpaths(root, i, nfiles)
        deadline = time.monotonic() + seconds
        ops = nread = nwritten = 0
        while True:
            now = time.monotonic()
            if now >= deadline:
                break
            p = paths[rnd.randrange(len(paths))]
            op = FOPS[rnd.randrange(len(FOPS))]
            sync = rnd.random() < 0.1
            if op == "append" and os.stat(p).st_size > 128 * KiB:
                op = "replace"
            if op == "read":
                with open(p, "rb", buffering=0) as fh:
                    while True:
                        b = fh.read(MiB)
                        if not b:
                            break
                        nread += len(b)
            elif op == "stat":
                os.stat(p)
            else:
                if op == "replace":
                    fd = os.open(p, os.O_WRONLY | os.O_TRUNC)
                    n = rnd.randrange(4 * KiB, 64 * KiB + 1)
                else:
                    fd = os.open(p, os.O_WRONLY | os.O_APPEND)
                    n = rnd.randrange(KiB, 16 * KiB + 1)
                writeall(fd, piece(rnd, data, n))
                if sync:
                    os.fsync(fd)
                os.close(fd)
                nwritten += n
            ops += 1
        return now, ops, nread, nwritten

    secs, (ops, nread, nwritten) = run_procs(nproc, child)
    print("%.1f %d %.3f %.1f %.1f" % (ops / secs, ops, secs, nread / MiB, nwritten / MiB))
    return 0


def main():
    fns = {"mixed": mixed, "fsetup": fsetup, "fileserver": fileserver}
    if len(sys.argv) < 2 or sys.argv[1] not in fns:
        print(__doc__, file=sys.stderr)
        return 2
    return fns[sys.argv[1]](*sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
