#!/usr/bin/env python3
"""faults_tree.py — helpers for the t85xx fault tests.

  mktree DIR NFILES SEED     a tree of NFILES small files (0..3000 bytes) in
                             nested directories, most with user.* xattrs,
                             plus a few symlinks and empty directories
  xattrs DIR                 print "relpath\\tname=hexvalue" for every user.*
                             xattr under DIR, sorted (for comparing trees)
  burst DIR PREFIX SECONDS ACKED
                             as fast as one process can: create DIR/PREFIXn
                             and set two 60000-byte user.* xattrs on it, for
                             SECONDS or until an operation fails; append each
                             acknowledged file to ACKED; print
                             "acked N" and "error ENAME strerror" (or "error none")
  churn DIR STOPFILE         metadata operations without pause (create, set
                             an xattr, rename, unlink) in DIR until STOPFILE
                             exists; exit 1 on the first failure
"""
import errno
import os
import random
import sys
import time


def mktree(root, nfiles, seed):
    rnd = random.Random(int(seed))
    nfiles = int(nfiles)
    os.makedirs(root)
    dirs = [root]
    for i in range(nfiles):
        if i % 50 == 0:
            parent = rnd.choice(dirs)
            d = os.path.join(parent, "d%04d" % i)
            os.mkdir(d)
            dirs.append(d)
        d = rnd.choice(dirs)
        p = os.path.join(d, "f%05d" % i)
        with open(p, "wb") as fh:
            fh.write(rnd.randbytes(rnd.randrange(0, 3000)))
        if rnd.random() < 0.8:
            os.setxattr(p, "user.origin", b"host-%d" % rnd.randrange(100))
        if rnd.random() < 0.3:
            os.setxattr(p, "user.blob", rnd.randbytes(rnd.randrange(1, 2000)))
        if i % 500 == 0:
            os.symlink("f%05d" % i, os.path.join(d, "l%05d" % i))
            os.mkdir(os.path.join(d, "empty%05d" % i))
    for d in dirs[1::7]:
        os.setxattr(d, "user.dir", b"yes")


def xattrs(root):
    out = []
    for dp, dns, fns in os.walk(root):
        for n in sorted(dns + fns) + ["."]:
            p = os.path.normpath(os.path.join(dp, n))
            if os.path.islink(p):
                continue
            rel = os.path.relpath(p, root)
            for a in sorted(os.listxattr(p)):
                if a.startswith("user."):
                    out.append("%s\t%s=%s" % (rel, a, os.getxattr(p, a).hex()))
    out = sorted(set(out))
    sys.stdout.write("".join(line + "\n" for line in out))


def burst(d, prefix, seconds, acked):
    val = os.urandom(60000)
    end = time.monotonic() + float(seconds)
    n = 0
    err = "none"
    with open(acked, "a") as out:
        while time.monotonic() < end:
            p = os.path.join(d, "%s%d" % (prefix, n))
            try:
                os.close(os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
                os.setxattr(p, "user.a", val)
                os.setxattr(p, "user.b", val)
            except OSError as e:
                err = "%s %s" % (errno.errorcode.get(e.errno, str(e.errno)), os.strerror(e.errno))
                break
            out.write(p + "\n")
            n += 1
    print("acked %d" % n)
    print("error %s" % err)


def churn(d, stopfile):
    i = 0
    while not os.path.exists(stopfile):
        p = os.path.join(d, "churn%d" % (i % 100))
        q = p + ".r"
        try:
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.write(fd, b"%d\n" % i)
            os.close(fd)
            os.setxattr(p, "user.n", b"%d" % i)
            os.rename(p, q)
            if i % 2:
                os.unlink(q)
        except OSError as e:
            sys.stderr.write("churn: %s: %s\n" % (p, os.strerror(e.errno)))
            sys.exit(1)
        i += 1
    print("churn %d" % i)


def main():
    op, args = sys.argv[1], sys.argv[2:]
    {"mktree": mktree, "xattrs": xattrs, "burst": burst, "churn": churn}[op](*args)


if __name__ == "__main__":
    main()
