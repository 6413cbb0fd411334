#!/usr/bin/env python3
"""faults_tree.py — helpers for the t85xx fault tests.

  mktree DIR NFILES SEED     a tree of NFILES small files (0..3000 bytes) in
                             nested directories, most with user.* xattrs,
                             plus a few symlinks and empty directories
  xattrs DIR                 print "relpath\\tname=hexvalue" for every user.*
                             xattr under DIR, sorted (for comparing trees)
"""
import os
import random
import sys


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


def main():
    op, args = sys.argv[1], sys.argv[2:]
    {"mktree": mktree, "xattrs": xattrs}[op](*args)


if __name__ == "__main__":
    main()
