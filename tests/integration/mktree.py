#!/usr/bin/env python3
"""mktree.py DIR [NFILES] [SEED] — builds a source tree for transfer tests:
small and larger files (some sharing content), an empty file, hard links,
symlinks (relative, absolute dangling, to a directory), user xattrs, a fifo,
odd names, assorted permissions and old mtimes.  Deterministic for a seed.

mktree.py --mutate DIR SEED — changes the tree the way a next backup would:
appends, in-place middle edits, new files, deletions, an xattr change.

mktree.py --settle DIR BASE — old mtimes for directories and fresh entries.
"""
import os
import random
import sys


def write(path, data, mode=0o644, mtime=None):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)
    if mtime is not None:
        os.utime(path, (mtime, mtime))


def build(root, nfiles, seed):
    rnd = random.Random(seed)
    os.makedirs(root, exist_ok=True)
    for d in ("a/b/c", "empty-dir", "data/db", "odd names/sub dir", "links/sub"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    dirs = ["", "a", "a/b", "a/b/c", "data", "data/db", "odd names/sub dir"]
    for i in range(nfiles):
        d = dirs[i % len(dirs)]
        size = rnd.choice([0, 1, 100, 4095, 4096, 4097, 10000, 65536, 70000, rnd.randrange(200000)])
        write(os.path.join(root, d, "f%04d.dat" % i), rnd.randbytes(size),
              rnd.choice([0o644, 0o600, 0o640, 0o755]), 946684800 + rnd.randrange(10 ** 8))
    block = rnd.randbytes(1 << 20)
    write(os.path.join(root, "data/db/big1.bin"), block * 3 + rnd.randbytes(12345))
    write(os.path.join(root, "data/db/big2.bin"), block * 2 + rnd.randbytes(777))  # shares content
    write(os.path.join(root, "data/db/zeros.bin"), bytes(2 << 20))
    write(os.path.join(root, "empty"), b"")
    write(os.path.join(root, "odd names/file with spaces.txt"), b"spaces\n")
    write(os.path.join(root, "odd names/-leading-dash"), b"dash\n")
    write(os.path.join(root, "odd names/\u00fcnic\u00f6de-\u0444\u0430\u0439\u043b"), b"unicode\n")
    write(os.path.join(root, "odd names/sub dir/.hidden"), b"hidden\n")
    write(os.path.join(root, "readonly.txt"), b"read only\n", 0o444)
    # hard links
    write(os.path.join(root, "links/h1"), rnd.randbytes(5000))
    os.link(os.path.join(root, "links/h1"), os.path.join(root, "links/sub/h2"))
    os.link(os.path.join(root, "links/h1"), os.path.join(root, "a/h3"))
    # symlinks
    os.symlink("h1", os.path.join(root, "links/rel-link"))
    os.symlink("../a/b", os.path.join(root, "links/dir-link"))
    os.symlink("/nonexistent/absolute/target", os.path.join(root, "links/dangling"))
    # xattrs
    os.setxattr(os.path.join(root, "links/h1"), "user.origin", b"mktree")
    os.setxattr(os.path.join(root, "data/db/big1.bin"), "user.checksum", b"x" * 200)
    os.setxattr(os.path.join(root, "a"), "user.dirattr", b"on a directory")
    os.setxattr(os.path.join(root, "empty"), "user.empty", b"")
    # special
    os.mkfifo(os.path.join(root, "links/fifo"))
    settle_dirs(root, 1000000000)


def settle_dirs(root, base):
    """Gives every directory, and every entry with a fresh mtime, an old one
    (children first).  rsync leaves the mtime of a directory, symlink or
    fifo alone when it is within the second of the copy's (also on ext4), so
    fresh "now" mtimes would make exact comparisons flaky."""
    fresh = base  # anything newer than the base is "fresh"
    for i, (dp, dns, fns) in enumerate(sorted(os.walk(root), key=lambda w: -len(w[0]))):
        for n in fns + [d for d in dns if os.path.islink(os.path.join(dp, d))]:
            p = os.path.join(dp, n)
            if os.lstat(p).st_mtime > fresh:
                os.utime(p, (base + 7, base + 7), follow_symlinks=False)
        os.utime(dp, (base + i * 1000, base + i * 1000 + 1))


def mutate(root, seed):
    rnd = random.Random(seed)
    files = sorted(os.path.join(dp, f) for dp, _, fs in os.walk(root) for f in fs
                   if f.startswith("f") and f.endswith(".dat"))
    for p in files[::7]:
        with open(p, "ab") as f:
            f.write(rnd.randbytes(rnd.randrange(1, 3000)))
    for p in files[3::11]:
        os.unlink(p)
    big = os.path.join(root, "data/db/big1.bin")
    with open(big, "r+b") as f:
        f.seek(1500000)
        f.write(rnd.randbytes(4096))
    for i in range(20):
        write(os.path.join(root, "a/b/new%02d-%d.dat" % (i, seed)), rnd.randbytes(rnd.randrange(20000)))
    os.setxattr(os.path.join(root, "links/h1"), "user.origin", b"mutated %d" % seed)
    if os.path.exists(os.path.join(root, "links/sub/h2")):
        os.unlink(os.path.join(root, "links/sub/h2"))
    settle_dirs(root, 1100000000 + seed * 100000)


if __name__ == "__main__":
    if sys.argv[1] == "--settle":
        settle_dirs(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "--mutate":
        mutate(sys.argv[2], int(sys.argv[3]))
    else:
        build(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 200,
              int(sys.argv[3]) if len(sys.argv) > 3 else 1)
