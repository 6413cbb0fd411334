#!/usr/bin/env python3
"""posix.py — a POSIX conformance suite in the spirit of pjdfstest.

Two phases (tests/posix/run drives both):

  posix.py prepare WORK --user UID:GID --other UID:GID
        as root: makes WORK/fx, fixtures owned by another account (for the
        multi-user cases: sticky directories, other people's files).
  posix.py check WORK [--fs auto|ext4|enrp] [-v] [--only SECTION,...]
        runs every check with the caller's credentials (run starts it through
        setpriv for --as USER) and prints one line per check and the summary
        "N passed, N failed".

Every check records the call, its arguments, what Linux ext4 does (the
expectation) and what was observed.  Where enrp differs from ext4 by design,
the expectation for enrp is encoded next to the ext4 one and the reason is in
tests/posix/DIFFERENCES.md (each such check is tagged "[enrp: D<n>]").

Exit status: 0 when nothing failed, 1 otherwise, 2 on a usage error.
"""
import ctypes
import errno
import json
import os
import stat
import sys
import time

# ---------------------------------------------------------------- ctypes -----

libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD = -100
AT_SYMLINK_NOFOLLOW = 0x100
RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2
UTIME_NOW = (1 << 30) - 1
UTIME_OMIT = (1 << 30) - 2
XATTR_CREATE = 1
XATTR_REPLACE = 2


class Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


libc.renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
libc.utimensat.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.POINTER(Timespec), ctypes.c_int]
libc.fchmodat.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint, ctypes.c_int]
libc.getxattr.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t]
libc.getxattr.restype = ctypes.c_ssize_t
libc.listxattr.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t]
libc.listxattr.restype = ctypes.c_ssize_t
libc.setxattr.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
libc.readlink.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t]
libc.readlink.restype = ctypes.c_ssize_t
libc.truncate.argtypes = [ctypes.c_char_p, ctypes.c_long]
libc.symlink.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
libc.linkat.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
AT_SYMLINK_FOLLOW = 0x400


def _chk(rc):
    if rc < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return rc


def renameat2(src, dst, flags=0):
    _chk(libc.renameat2(AT_FDCWD, os.fsencode(src), AT_FDCWD, os.fsencode(dst), flags))


def utimensat(path, atime, mtime, flags=0):
    """atime/mtime: (sec, nsec) tuples, or UTIME_NOW / UTIME_OMIT; None = NULL."""
    if atime is None and mtime is None:
        ts = None
    else:
        def one(t):
            if t in (UTIME_NOW, UTIME_OMIT):
                return Timespec(0, t)
            return Timespec(t[0], t[1])
        ts = (Timespec * 2)(one(atime), one(mtime))
    _chk(libc.utimensat(AT_FDCWD, os.fsencode(path), ts, flags))


def fchmodat(path, mode, flags=0):
    _chk(libc.fchmodat(AT_FDCWD, os.fsencode(path), mode, flags))


def getxattr_raw(path, name, size):
    buf = ctypes.create_string_buffer(max(size, 1))
    n = _chk(libc.getxattr(os.fsencode(path), os.fsencode(name), buf if size else None, size))
    return n, buf.raw[:n] if size else b""


def listxattr_raw(path, size):
    buf = ctypes.create_string_buffer(max(size, 1))
    n = _chk(libc.listxattr(os.fsencode(path), buf if size else None, size))
    return n


def setxattr_raw(path, name, value, flags=0):
    _chk(libc.setxattr(os.fsencode(path), os.fsencode(name), value, len(value), flags))


def readlink_raw(path, size):
    buf = ctypes.create_string_buffer(size)
    n = _chk(libc.readlink(os.fsencode(path), buf, size))
    return buf.raw[:n]


def linkat(src, dst, flags):
    _chk(libc.linkat(AT_FDCWD, os.fsencode(src), AT_FDCWD, os.fsencode(dst), flags))


def truncate_raw(path, length):
    _chk(libc.truncate(os.fsencode(path), length))


def symlink_raw(target, path):
    _chk(libc.symlink(target, os.fsencode(path)))


# ------------------------------------------------------------- reporting -----

def ename(e):
    return "OK" if e == 0 else errno.errorcode.get(e, str(e))


class Skip(Exception):
    pass


class Suite:
    def __init__(self, work, fs, verbose):
        self.work = work
        self.fs = fs
        self.verbose = verbose
        self.uid = os.geteuid()
        self.gid = os.getegid()
        self.groups = set(os.getgroups()) | {self.gid}
        self.root = self.uid == 0
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.n = 0
        self.section = "?"
        self.failures = []
        fxf = os.path.join(work, "fx", "fixtures.json")
        self.fx = None
        if os.path.exists(fxf):
            with open(fxf) as f:
                self.fx = json.load(f)
        self.nodev = self._mount_has_nodev()

    # -- environment
    def _mount_has_nodev(self):
        best, opts = "", ""
        real = os.path.realpath(self.work)
        with open("/proc/self/mountinfo") as f:
            for line in f:
                p = line.split()
                mp = p[4].replace("\\040", " ")
                if (real == mp or real.startswith(mp.rstrip("/") + "/")) and len(mp) >= len(best):
                    best, opts = mp, p[5]
        self.mount_opts = opts.split(",")
        return "nodev" in self.mount_opts

    @property
    def enrp(self):
        return self.fs == "enrp"

    def fixture(self, *parts):
        if self.fx is None:
            raise Skip("no fixtures (run as root, or via tests/posix/run as root with --as)")
        return os.path.join(self.work, "fx", *parts)

    def need_user(self):
        if self.root:
            raise Skip("needs an ordinary user")

    def need_root(self):
        if not self.root:
            raise Skip("needs root")

    # -- results
    def record(self, ok, name, call, exp, got, note=""):
        self.n += 1
        tag = "ok  " if ok else "FAIL"
        line = "%s %3d %s.%s: %s -> expected %s, got %s%s" % (
            tag, self.n, self.section, name, call, exp, got, ("  " + note) if note else "")
        if ok:
            self.passed += 1
            if self.verbose:
                print(line)
        else:
            self.failed += 1
            self.failures.append(line)
            print(line)
        return ok

    def err(self, name, call, fn, *args, exp=0, diff=None, **kw):
        """Runs fn(*args); exp is an errno (0 = success) or a tuple of them.
        diff: "D<n>" when exp is an enrp-specific expectation."""
        try:
            ret = fn(*args, **kw)
            got = 0
        except OSError as e:
            ret = None
            got = e.errno
        exps = exp if isinstance(exp, tuple) else (exp,)
        self.record(got in exps, name, call, "/".join(ename(x) for x in exps), ename(got),
                    "[enrp: %s]" % diff if diff else "")
        return ret

    def eq(self, name, what, exp, got, diff=None):
        return self.record(exp == got, name, what, repr(exp), repr(got),
                           "[enrp: %s]" % diff if diff else "")

    def true(self, name, what, cond, got=""):
        return self.record(bool(cond), name, what, "true", "true" if cond else "false %s" % got)

    # -- helpers
    def d(self, name):
        """A fresh directory for one group of checks (0777 for other users)."""
        p = os.path.join(self.work, self.section + "-" + name)
        os.mkdir(p)
        os.chmod(p, 0o777)
        return p


def mkfile(path, data=b"", mode=0o644):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    if data:
        os.write(fd, data)
    os.close(fd)
    os.chmod(path, mode)
    return path


def readall(path):
    with open(path, "rb") as f:
        return f.read()


def perm(path, follow=True):
    st = os.stat(path) if follow else os.lstat(path)
    return stat.S_IMODE(st.st_mode)


def opn(path, flags, mode=0o644):
    fd = os.open(path, flags, mode)
    os.close(fd)


def tick():
    # lets the coarse kernel clock (jiffies) move on, so ctime/mtime change
    time.sleep(0.03)


# ================================================================ checks =====

def t_chmod(s):
    d = s.d("basic")
    f = mkfile(d + "/f")
    s.err("file", "chmod(f, 0600)", os.chmod, f, 0o600)
    s.eq("file.mode", "stat(f).mode", 0o600, perm(f))
    s.err("file.suid", "chmod(f, 04755)", os.chmod, f, 0o4755)
    s.eq("file.suid.mode", "stat(f).mode", 0o4755, perm(f))
    s.err("file.sticky", "chmod(f, 01644)", os.chmod, f, 0o1644)
    s.eq("file.sticky.mode", "stat(f).mode", 0o1644, perm(f))
    os.mkdir(d + "/sub")
    s.err("dir", "chmod(sub, 01777)", os.chmod, d + "/sub", 0o1777)
    s.eq("dir.mode", "stat(sub).mode", 0o1777, perm(d + "/sub"))
    s.err("enoent", "chmod(missing, 0644)", os.chmod, d + "/missing", 0o644, exp=errno.ENOENT)
    s.err("enotdir", "chmod(f/x, 0644)", os.chmod, f + "/x", 0o644, exp=errno.ENOTDIR)
    c0 = os.stat(f).st_ctime_ns
    tick()
    os.chmod(f, 0o640)
    s.true("ctime", "chmod(f) updates ctime", os.stat(f).st_ctime_ns > c0)
    fd = os.open(f, os.O_RDONLY)
    s.err("fchmod", "fchmod(fd, 0604)", os.fchmod, fd, 0o604)
    os.close(fd)
    s.eq("fchmod.mode", "stat(f).mode", 0o604, perm(f))
    os.symlink("f", d + "/sl")
    s.err("symlink.nofollow", "fchmodat(sl, 0600, AT_SYMLINK_NOFOLLOW)", fchmodat, d + "/sl", 0o600,
          AT_SYMLINK_NOFOLLOW, exp=errno.EOPNOTSUPP)
    s.err("symlink.follow", "chmod(sl, 0600) follows", os.chmod, d + "/sl", 0o600)
    s.eq("symlink.follow.mode", "stat(f).mode", 0o600, perm(f))
    # mode bits that do not fit are ignored (only 07777 is kept)
    s.err("highbits", "chmod(f, 0170644)", os.chmod, f, 0o170644)
    s.eq("highbits.type", "S_ISREG(stat(f))", True, stat.S_ISREG(os.stat(f).st_mode))


def t_chmod_users(s):
    if not s.root:
        f = s.fixture("open", "other_0666")
        s.err("other.file", "chmod(other's 0666 file, 0600) as non-owner", os.chmod, f, 0o600, exp=errno.EPERM)
        s.eq("other.file.unchanged", "stat.mode", 0o666, perm(f))
        # setgid on a file whose group the caller is not in: silently dropped
        g = s.fixture("open", "user_rootgrp")
        s.err("sgid.notmember", "chmod(own file, group root, 02755)", os.chmod, g, 0o2755)
        s.eq("sgid.notmember.mode", "stat.mode (S_ISGID dropped)", 0o755, perm(g))
        d = s.d("sticky")
        f = mkfile(d + "/f")
        s.err("sticky.file.user", "chmod(own file, 01644) as user", os.chmod, f, 0o1644)
        s.eq("sticky.file.user.mode", "stat.mode", 0o1644, perm(f))
    else:
        f = s.fixture("open", "other_0666")
        s.err("root.other", "chmod(other's file, 0640) as root", os.chmod, f, 0o640)
        s.eq("root.other.mode", "stat.mode", 0o640, perm(f))
        os.chmod(f, 0o666)


def t_chown(s):
    d = s.d("basic")
    f = mkfile(d + "/f")
    s.err("enoent", "chown(missing, -1, -1)", os.chown, d + "/missing", -1, -1, exp=errno.ENOENT)
    s.err("noop", "chown(f, -1, -1)", os.chown, f, -1, -1)
    s.err("same", "chown(f, self, self)", os.chown, f, s.uid, s.gid)
    s.eq("same.owner", "stat(f) uid:gid", (s.uid, s.gid), (os.stat(f).st_uid, os.stat(f).st_gid))
    if s.root:
        s.err("root.other", "chown(f, 12345, 23456)", os.chown, f, 12345, 23456)
        s.eq("root.other.owner", "stat(f) uid:gid", (12345, 23456), (os.stat(f).st_uid, os.stat(f).st_gid))
        s.err("root.uidonly", "chown(f, 54321, -1)", os.chown, f, 54321, -1)
        s.eq("root.uidonly.owner", "stat(f) uid:gid", (54321, 23456), (os.stat(f).st_uid, os.stat(f).st_gid))
        g = mkfile(d + "/suid", b"x", 0o6755)
        s.err("root.kill", "chown(06755 file, 100, 100) as root", os.chown, g, 100, 100)
        s.eq("root.kill.mode", "stat.mode (S_ISUID and S_ISGID cleared)", 0o755, perm(g))
        g = mkfile(d + "/sgidnox", b"x", 0o2745)
        os.chown(g, 101, 101)
        s.eq("root.sgid-noexec", "chown(02745 file) keeps S_ISGID without group x", 0o2745, perm(g))
        os.mkdir(d + "/sd")
        os.chmod(d + "/sd", 0o6755)
        os.chown(d + "/sd", 102, 102)
        s.eq("root.dir.keeps", "chown(06755 dir) keeps the bits of a directory", 0o6755, perm(d + "/sd"))
        os.symlink("f", d + "/sl")
        s.err("root.lchown", "lchown(sl, 4242, 4243)", os.chown, d + "/sl", 4242, 4243, follow_symlinks=False)
        st = os.lstat(d + "/sl")
        s.eq("root.lchown.owner", "lstat(sl) uid:gid", (4242, 4243), (st.st_uid, st.st_gid))
        s.eq("root.lchown.target", "stat(f).uid unchanged", 54321, os.stat(f).st_uid)
        h = mkfile(d + "/f2")
        s.err("root.follow", "chown(symlink->f2, 777, 778)", lambda: (os.symlink("f2", d + "/sl2"),
                                                                    os.chown(d + "/sl2", 777, 778)))
        s.eq("root.follow.owner", "stat(f2) uid:gid", (777, 778), (os.stat(h).st_uid, os.stat(h).st_gid))
        c0 = os.stat(f).st_ctime_ns
        tick()
        os.chown(f, 1, 1)
        s.true("root.ctime", "chown updates ctime", os.stat(f).st_ctime_ns > c0)
    else:
        s.fixture()
        other = s.fx["other_uid"]
        s.err("user.give", "chown(own f, other_uid, -1)", os.chown, f, other, -1, exp=errno.EPERM)
        s.err("user.nonmember", "chown(own f, -1, 0)", os.chown, f, -1, 0, exp=errno.EPERM)
        extra = sorted(g for g in s.groups if g != s.gid)
        if extra:
            s.err("user.member", "chown(own f, -1, supplementary gid %d)" % extra[0], os.chown, f, -1, extra[0])
            s.eq("user.member.gid", "stat(f).gid", extra[0], os.stat(f).st_gid)
            g = mkfile(d + "/suid", b"x", 0o6755)
            s.err("user.kill", "chown(own 06755 file, -1, member gid) as user", os.chown, g, -1, extra[0])
            s.eq("user.kill.mode", "stat.mode (S_ISUID and S_ISGID cleared)", 0o755, perm(g))
        g = mkfile(d + "/suid2", b"x", 0o6755)
        s.err("user.noop.kill", "chown(own 06755 file, -1, -1) as user", os.chown, g, -1, -1)
        s.eq("user.noop.kill.mode", "stat.mode (Linux clears S_ISUID|S_ISGID even for -1,-1)", 0o755, perm(g))
        s.err("user.selfuid", "chown(own f, self, -1)", os.chown, f, s.uid, -1)
        o = s.fixture("open", "other_0666")
        s.err("user.other", "chown(other's file, -1, own gid)", os.chown, o, -1, s.gid, exp=errno.EPERM)
        s.err("user.other.noop", "chown(other's file, -1, -1) changes nothing: allowed", os.chown, o, -1, -1)


def t_suid_write(s):
    d = s.d("w")
    f = mkfile(d + "/own", b"data", 0o6755)
    os.chmod(f, 0o6755)
    with open(f, "r+b") as fh:
        fh.write(b"more")
    exp = 0o6755 if s.root else 0o755
    s.eq("own.write", "write() to own 06755 file clears S_ISUID|S_ISGID (kept with CAP_FSETID)", exp, perm(f))
    f = mkfile(d + "/own-sgid-nox", b"data", 0o2745)
    with open(f, "r+b") as fh:
        fh.write(b"more")
    s.eq("own.sgid-noexec", "write() keeps S_ISGID without group x", 0o2745, perm(f))
    f = mkfile(d + "/trunc", b"data", 0o6755)
    os.truncate(f, 1)
    s.eq("own.truncate", "truncate() of own 06755 file (kept with CAP_FSETID)", exp, perm(f))
    o = s.fixture("open", "other_suid")
    fd = s.err("other.open", "open(other's 06777 file, O_WRONLY)", os.open, o, os.O_WRONLY)
    if fd is not None:
        s.err("other.write", "write(fd, 'x') by non-owner", os.write, fd, b"x")
        os.close(fd)
    s.eq("other.write.mode", "stat.mode after a write by another user" if not s.root
         else "stat.mode after a write by root", 0o6777 if s.root else 0o777, perm(o))
    s.eq("other.write.owner", "stat.uid unchanged", s.fx["other_uid"], os.stat(o).st_uid)


def t_sgid_dir(s):
    d = s.fixture("sgiddir")
    dg = os.stat(d).st_gid
    os.umask(0)
    n = "%s/f-%d" % (d, os.getpid())
    fd = s.err("creat", "open(sgiddir/f, O_CREAT, 02755)", os.open, n, os.O_CREAT | os.O_WRONLY, 0o2755)
    if fd is not None:
        os.close(fd)
    st = os.stat(n)
    member = s.root or dg in s.groups
    s.eq("creat.gid", "new file's gid is the directory's", dg, st.st_gid)
    s.eq("creat.mode", "new file's mode (S_ISGID kept only for a member of the group or root)",
         0o2755 if member else 0o755, stat.S_IMODE(st.st_mode))
    m = "%s/d-%d" % (d, os.getpid())
    s.err("mkdir", "mkdir(sgiddir/d, 0755)", os.mkdir, m, 0o755)
    st = os.stat(m)
    s.eq("mkdir.inherit", "new dir: gid, mode (S_ISGID inherited)", (dg, 0o2755), (st.st_gid, stat.S_IMODE(st.st_mode)))
    s.err("mkfifo", "mkfifo(sgiddir/p)", os.mkfifo, "%s/p-%d" % (d, os.getpid()), 0o644)
    s.eq("mkfifo.gid", "fifo's gid", dg, os.lstat("%s/p-%d" % (d, os.getpid())).st_gid)
    os.symlink("x", "%s/s-%d" % (d, os.getpid()))
    s.eq("symlink.gid", "symlink's gid", dg, os.lstat("%s/s-%d" % (d, os.getpid())).st_gid)
    os.umask(0o022)


def t_link(s):
    d = s.d("l")
    f = mkfile(d + "/f", b"abc")
    ino = os.stat(f).st_ino
    c0 = os.stat(f).st_ctime_ns
    tick()
    s.err("ok", "link(f, g)", os.link, f, d + "/g")
    st = os.stat(d + "/g")
    s.eq("ok.ino", "stat(g).ino == stat(f).ino", ino, st.st_ino)
    s.eq("ok.nlink", "stat(f).nlink", 2, os.stat(f).st_nlink)
    s.true("ok.ctime", "link updates the ctime of the file", os.stat(f).st_ctime_ns > c0)
    s.err("eexist", "link(f, g) again", os.link, f, d + "/g", exp=errno.EEXIST)
    os.mkdir(d + "/sub")
    s.err("eexist.dir", "link(f, sub)", os.link, f, d + "/sub", exp=errno.EEXIST)
    os.symlink("nowhere", d + "/dangling")
    s.err("eexist.symlink", "link(f, dangling symlink)", os.link, f, d + "/dangling", exp=errno.EEXIST)
    s.err("enoent.src", "link(missing, h)", os.link, d + "/missing", d + "/h", exp=errno.ENOENT)
    s.err("enoent.dstdir", "link(f, nodir/h)", os.link, f, d + "/nodir/h", exp=errno.ENOENT)
    s.err("enotdir", "link(f, f/h)", os.link, f, f + "/h", exp=errno.ENOTDIR)
    s.err("eperm.dir", "link(sub, subl)", os.link, d + "/sub", d + "/subl", exp=errno.EPERM)
    s.err("subdir", "link(f, sub/f)", os.link, f, d + "/sub/f")
    s.eq("subdir.nlink", "stat(f).nlink", 3, os.stat(f).st_nlink)
    os.symlink("f", d + "/sl")
    s.err("symlink.nofollow", "linkat(sl, sl2, 0) links the symlink itself", linkat, d + "/sl", d + "/sl2", 0)
    s.true("symlink.nofollow.type", "sl2 is a symlink", stat.S_ISLNK(os.lstat(d + "/sl2").st_mode))
    s.err("symlink.follow", "linkat(sl, f3, AT_SYMLINK_FOLLOW)", linkat, d + "/sl", d + "/f3",
          AT_SYMLINK_FOLLOW)
    s.eq("symlink.follow.ino", "stat(f3).ino", ino, os.lstat(d + "/f3").st_ino)
    os.unlink(d + "/g")
    os.unlink(d + "/f3")
    s.eq("unlink.nlink", "stat(f).nlink after unlinking two links", 2, os.stat(f).st_nlink)
    s.eq("data", "content through the other link", b"abc", readall(d + "/sub/f"))
    if not s.root:
        os.chmod(d + "/sub", 0o555)
        s.err("user.eacces", "link(f, sub/x) with sub 0555", os.link, f, d + "/sub/x", exp=errno.EACCES)
        os.chmod(d + "/sub", 0o755)
        if s.fx and open("/proc/sys/fs/protected_hardlinks").read().strip() == "1":
            s.err("user.protected", "link(other's 0600 file) (fs.protected_hardlinks=1)", os.link,
                  s.fixture("open", "other_0600"), d + "/stolen", exp=errno.EPERM)
    s.err("fifo", "mkfifo + link(fifo, fifo2)", lambda: (os.mkfifo(d + "/fifo"),
                                                         os.link(d + "/fifo", d + "/fifo2")))
    s.eq("fifo.nlink", "lstat(fifo).nlink", 2, os.lstat(d + "/fifo").st_nlink)


def t_mkdir(s):
    d = s.d("m")
    os.umask(0o022)
    s.err("ok", "mkdir(a, 0777) umask 022", os.mkdir, d + "/a", 0o777)
    st = os.stat(d + "/a")
    s.eq("ok.mode", "stat(a).mode", 0o755, stat.S_IMODE(st.st_mode))
    s.eq("ok.owner", "stat(a) uid:gid", (s.uid, s.gid), (st.st_uid, st.st_gid))
    s.eq("ok.nlink", "stat(a).nlink", 2, st.st_nlink)
    os.umask(0)
    n0 = os.stat(d).st_nlink
    s.err("umask0", "mkdir(b, 0777) umask 0", os.mkdir, d + "/b", 0o777)
    s.eq("umask0.mode", "stat(b).mode", 0o777, perm(d + "/b"))
    s.eq("parent.nlink", "parent nlink + 1 after mkdir", n0 + 1, os.stat(d).st_nlink)
    s.err("sticky", "mkdir(c, 01777)", os.mkdir, d + "/c", 0o1777)
    s.eq("sticky.mode", "stat(c).mode", 0o1777, perm(d + "/c"))
    s.err("sgid.ignored", "mkdir(e, 02777) in a plain dir", os.mkdir, d + "/e", 0o2777)
    s.eq("sgid.ignored.mode", "stat(e).mode (S_ISGID not taken from mode)", 0o777, perm(d + "/e"))
    os.umask(0o077)
    s.err("umask077", "mkdir(g, 0777) umask 077", os.mkdir, d + "/g", 0o777)
    s.eq("umask077.mode", "stat(g).mode", 0o700, perm(d + "/g"))
    os.umask(0o022)
    s.err("eexist.dir", "mkdir(a)", os.mkdir, d + "/a", exp=errno.EEXIST)
    mkfile(d + "/f")
    s.err("eexist.file", "mkdir(f)", os.mkdir, d + "/f", exp=errno.EEXIST)
    os.symlink("nowhere", d + "/dangling")
    s.err("eexist.symlink", "mkdir(dangling symlink)", os.mkdir, d + "/dangling", exp=errno.EEXIST)
    s.err("enoent", "mkdir(missing/x)", os.mkdir, d + "/missing/x", exp=errno.ENOENT)
    s.err("enotdir", "mkdir(f/x)", os.mkdir, d + "/f/x", exp=errno.ENOTDIR)
    s.err("enametoolong", "mkdir(256-byte name)", os.mkdir, d + "/" + "x" * 256, exp=errno.ENAMETOOLONG)
    s.err("name255", "mkdir(255-byte name)", os.mkdir, d + "/" + "x" * 255)
    os.mkdir(d + "/sg")
    os.chmod(d + "/sg", 0o2777)
    if not s.root:
        os.chmod(d + "/sg", 0o2777)
    st = os.stat(d + "/sg")
    if st.st_mode & stat.S_ISGID:
        s.err("sgid.inherit", "mkdir(sg/x) under a setgid dir", os.mkdir, d + "/sg/x", 0o755)
        st2 = os.stat(d + "/sg/x")
        s.eq("sgid.inherit.mode", "stat(sg/x).mode (S_ISGID inherited)", 0o2755, stat.S_IMODE(st2.st_mode))
        s.eq("sgid.inherit.gid", "stat(sg/x).gid", st.st_gid, st2.st_gid)
    if not s.root:
        os.mkdir(d + "/ro", 0o555)
        s.err("user.eacces", "mkdir(ro/x) with ro 0555", os.mkdir, d + "/ro/x", exp=errno.EACCES)
        os.mkdir(d + "/nox", 0o666)
        s.err("user.eacces.search", "mkdir(nox/x) with nox 0666", os.mkdir, d + "/nox/x", exp=errno.EACCES)
        os.chmod(d + "/nox", 0o755)
        s.err("user.eacces.fixture", "mkdir(other's 0755 dir/x)", os.mkdir, s.fixture("rodir", "x"),
              exp=errno.EACCES)


def t_mknod(s):
    d = s.d("n")
    os.umask(0o022)
    s.err("fifo", "mkfifo(p, 0666)", os.mkfifo, d + "/p", 0o666)
    st = os.lstat(d + "/p")
    s.eq("fifo.type", "S_ISFIFO(lstat(p))", True, stat.S_ISFIFO(st.st_mode))
    s.eq("fifo.mode", "lstat(p).mode", 0o644, stat.S_IMODE(st.st_mode))
    s.eq("fifo.owner", "lstat(p) uid:gid", (s.uid, s.gid), (st.st_uid, st.st_gid))
    s.err("fifo.eexist", "mkfifo(p)", os.mkfifo, d + "/p", exp=errno.EEXIST)
    s.err("fifo.enoent", "mkfifo(missing/p)", os.mkfifo, d + "/missing/p", exp=errno.ENOENT)
    mkfile(d + "/f")
    s.err("fifo.enotdir", "mkfifo(f/p)", os.mkfifo, d + "/f/p", exp=errno.ENOTDIR)
    s.err("reg", "mknod(r, S_IFREG|0640)", os.mknod, d + "/r", stat.S_IFREG | 0o640)
    st = os.lstat(d + "/r")
    s.eq("reg.type", "S_ISREG(lstat(r)), size", (True, 0), (stat.S_ISREG(st.st_mode), st.st_size))
    s.err("sock", "mknod(s, S_IFSOCK|0600)", os.mknod, d + "/s", stat.S_IFSOCK | 0o600)
    s.eq("sock.type", "S_ISSOCK(lstat(s))", True, stat.S_ISSOCK(os.lstat(d + "/s").st_mode))
    s.err("dir", "mknod(x, S_IFDIR|0755)", os.mknod, d + "/x", stat.S_IFDIR | 0o755, exp=errno.EPERM)
    s.err("badtype", "mknod(x, 0170000|0644)", os.mknod, d + "/x", 0o170000 | 0o644, exp=errno.EINVAL)
    # fifo semantics are the kernel's: O_WRONLY|O_NONBLOCK without a reader
    s.err("fifo.enxio", "open(p, O_WRONLY|O_NONBLOCK) without a reader", opn, d + "/p",
          os.O_WRONLY | os.O_NONBLOCK, exp=errno.ENXIO)
    r = os.open(d + "/p", os.O_RDONLY | os.O_NONBLOCK)
    w = os.open(d + "/p", os.O_WRONLY | os.O_NONBLOCK)
    os.write(w, b"through the pipe")
    s.eq("fifo.io", "write/read through the fifo", b"through the pipe", os.read(r, 100))
    os.close(w)
    os.close(r)
    if s.root:
        s.err("chr", "mknod(c, S_IFCHR|0666, 1:3)", os.mknod, d + "/c", stat.S_IFCHR | 0o666, os.makedev(1, 3))
        st = os.lstat(d + "/c")
        s.eq("chr.rdev", "lstat(c) type, rdev", (True, os.makedev(1, 3)), (stat.S_ISCHR(st.st_mode), st.st_rdev))
        s.err("blk", "mknod(b, S_IFBLK|0600, 7:0)", os.mknod, d + "/b", stat.S_IFBLK | 0o600, os.makedev(7, 0))
        s.eq("blk.rdev", "lstat(b).rdev", os.makedev(7, 0), os.lstat(d + "/b").st_rdev)
        s.err("chr.open", "open(c, O_RDONLY) (EACCES on a nodev mount)", opn, d + "/c", os.O_RDONLY,
              exp=errno.EACCES if s.nodev else 0, diff="D5" if s.nodev else None)
    else:
        s.err("user.chr", "mknod(c, S_IFCHR, 1:3) as user", os.mknod, d + "/c", stat.S_IFCHR | 0o666,
              os.makedev(1, 3), exp=errno.EPERM)


def t_open(s):
    d = s.d("o")
    os.umask(0o022)
    f = d + "/f"
    fd = s.err("creat", "open(f, O_CREAT|O_WRONLY, 0666)", os.open, f, os.O_CREAT | os.O_WRONLY, 0o666)
    if fd is not None:
        os.write(fd, b"hello world")
        os.close(fd)
    st = os.stat(f)
    s.eq("creat.mode", "stat(f).mode (0666 & ~022)", 0o644, stat.S_IMODE(st.st_mode))
    s.eq("creat.owner", "stat(f) uid:gid", (s.uid, s.gid), (st.st_uid, st.st_gid))
    s.err("excl", "open(f, O_CREAT|O_EXCL)", opn, f, os.O_CREAT | os.O_EXCL | os.O_WRONLY, exp=errno.EEXIST)
    os.symlink("nowhere", d + "/dangling")
    s.err("excl.symlink", "open(dangling symlink, O_CREAT|O_EXCL)", opn, d + "/dangling",
          os.O_CREAT | os.O_EXCL | os.O_WRONLY, exp=errno.EEXIST)
    s.true("excl.symlink.nocreate", "O_CREAT|O_EXCL did not create the symlink's target",
           not os.path.lexists(d + "/nowhere"))
    s.err("creat.via.symlink", "open(dangling symlink, O_CREAT) creates the target", opn, d + "/dangling",
          os.O_CREAT | os.O_WRONLY)
    s.true("creat.via.symlink.exists", "target exists", os.path.exists(d + "/nowhere"))
    s.err("creat.existing", "open(f, O_CREAT|O_RDONLY) of an existing file", opn, f, os.O_CREAT | os.O_RDONLY)
    s.eq("creat.existing.data", "content unchanged", b"hello world", readall(f))
    m0 = os.stat(f).st_mtime_ns
    tick()
    s.err("trunc", "open(f, O_WRONLY|O_TRUNC)", opn, f, os.O_WRONLY | os.O_TRUNC)
    st = os.stat(f)
    s.eq("trunc.size", "stat(f).size", 0, st.st_size)
    s.true("trunc.mtime", "O_TRUNC updates mtime", st.st_mtime_ns > m0)
    mkfile(f, b"0123456789")
    fd = os.open(f, os.O_WRONLY | os.O_APPEND)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, b"AB")
    s.eq("append.offset", "offset after an O_APPEND write", 12, os.lseek(fd, 0, os.SEEK_CUR))
    os.close(fd)
    s.eq("append", "content after lseek(0) + write with O_APPEND", b"0123456789AB", readall(f))
    fd = os.open(f, os.O_RDWR | os.O_APPEND)
    os.pwrite(fd, b"Z", 0)
    os.close(fd)
    s.eq("append.pwrite", "pwrite(off 0) with O_APPEND appends (Linux)", b"0123456789ABZ", readall(f))
    fd = os.open(f, os.O_RDWR)
    os.lseek(fd, 20, os.SEEK_SET)
    os.write(fd, b"end")
    os.close(fd)
    s.eq("hole", "write past EOF leaves a zero-filled hole", b"0123456789ABZ" + b"\0" * 7 + b"end", readall(f))
    s.err("odirectory", "open(f, O_DIRECTORY)", opn, f, os.O_RDONLY | os.O_DIRECTORY, exp=errno.ENOTDIR)
    os.symlink("f", d + "/sl")
    s.err("onofollow", "open(sl, O_NOFOLLOW)", opn, d + "/sl", os.O_RDONLY | os.O_NOFOLLOW, exp=errno.ELOOP)
    s.err("follow", "open(sl, O_RDONLY) follows", opn, d + "/sl", os.O_RDONLY)
    os.symlink("loop2", d + "/loop1")
    os.symlink("loop1", d + "/loop2")
    s.err("eloop", "open(symlink loop)", opn, d + "/loop1", os.O_RDONLY, exp=errno.ELOOP)
    os.mkdir(d + "/sub")
    s.err("dir.rdonly", "open(sub, O_RDONLY)", opn, d + "/sub", os.O_RDONLY)
    s.err("dir.wronly", "open(sub, O_WRONLY)", opn, d + "/sub", os.O_WRONLY, exp=errno.EISDIR)
    s.err("dir.rdwr", "open(sub, O_RDWR)", opn, d + "/sub", os.O_RDWR, exp=errno.EISDIR)
    s.err("dir.creat", "open(sub, O_CREAT|O_RDONLY)", opn, d + "/sub", os.O_CREAT | os.O_RDONLY, exp=errno.EISDIR)
    s.err("trailing.slash", "open('new/', O_CREAT)", opn, d + "/new/", os.O_CREAT | os.O_WRONLY, exp=errno.EISDIR)
    s.err("enoent", "open(missing, O_RDONLY)", opn, d + "/missing", os.O_RDONLY, exp=errno.ENOENT)
    s.err("enoent.dir", "open(missing/x, O_CREAT)", opn, d + "/missing/x", os.O_CREAT | os.O_WRONLY,
          exp=errno.ENOENT)
    s.err("enotdir", "open(f/x, O_RDONLY)", opn, f + "/x", os.O_RDONLY, exp=errno.ENOTDIR)
    s.err("enametoolong", "open(256-byte name, O_CREAT)", opn, d + "/" + "n" * 256, os.O_CREAT | os.O_WRONLY,
          exp=errno.ENAMETOOLONG)
    fd = os.open(f, os.O_RDONLY)
    s.err("ebadf.write", "write() on an O_RDONLY fd", os.write, fd, b"x", exp=errno.EBADF)
    os.close(fd)
    fd = os.open(f, os.O_WRONLY)
    s.err("ebadf.read", "read() on an O_WRONLY fd", os.read, fd, 1, exp=errno.EBADF)
    os.close(fd)
    fd = os.open(d + "/sub", os.O_RDONLY)
    s.err("eisdir.read", "read() on a directory fd", os.read, fd, 1, exp=errno.EISDIR)
    os.close(fd)
    # O_CREAT mode that forbids writing: the creating open still writes
    fd = s.err("creat.0444", "open(ro, O_CREAT|O_RDWR, 0444)", os.open, d + "/ro", os.O_CREAT | os.O_RDWR, 0o444)
    if fd is not None:
        s.err("creat.0444.write", "write() through that fd", os.write, fd, b"ok")
        os.close(fd)
    s.eq("creat.0444.mode", "stat(ro).mode", 0o444, perm(d + "/ro"))
    if not s.root:
        s.err("user.ro.wronly", "open(own 0444 file, O_WRONLY) as user", opn, d + "/ro", os.O_WRONLY,
              exp=errno.EACCES)
        mkfile(d + "/noread", b"x", 0o200)
        s.err("user.noread", "open(own 0200 file, O_RDONLY) as user", opn, d + "/noread", os.O_RDONLY,
              exp=errno.EACCES)
        os.mkdir(d + "/rodir", 0o555)
        s.err("user.creat.rodir", "open(rodir/x, O_CREAT) with rodir 0555", opn, d + "/rodir/x",
              os.O_CREAT | os.O_WRONLY, exp=errno.EACCES)
        s.err("user.creat.fixture", "open(other's 0755 dir/x, O_CREAT)", opn, s.fixture("rodir", "x"),
              os.O_CREAT | os.O_WRONLY, exp=errno.EACCES)
        s.err("user.other.0600", "open(other's 0600 file, O_RDONLY)", opn, s.fixture("open", "other_0600"),
              os.O_RDONLY, exp=errno.EACCES)
        s.err("user.other.0644.w", "open(other's 0644 file, O_WRONLY)", opn, s.fixture("open", "other_0644"),
              os.O_WRONLY, exp=errno.EACCES)
        s.err("user.other.0644.r", "open(other's 0644 file, O_RDONLY)", opn, s.fixture("open", "other_0644"),
              os.O_RDONLY)
        s.err("user.other.trunc", "open(other's 0644 file, O_RDONLY|O_TRUNC)", opn,
              s.fixture("open", "other_0644"), os.O_RDONLY | os.O_TRUNC, exp=errno.EACCES)
    else:
        mkfile(d + "/noperm", b"secret", 0o000)
        s.err("root.noperm", "open(0000 file, O_RDWR) as root", opn, d + "/noperm", os.O_RDWR)
        s.eq("root.noperm.read", "read as root", b"secret", readall(d + "/noperm"))


def t_rename(s):
    d = s.d("r")
    a = mkfile(d + "/a", b"AAA")
    b = mkfile(d + "/b", b"BBB")
    ia = os.stat(a).st_ino
    c0 = os.stat(a).st_ctime_ns
    tick()
    s.err("file.over.file", "rename(a, b)", os.rename, a, b)
    s.eq("file.over.file.result", "b content, a exists", (b"AAA", False), (readall(b), os.path.lexists(a)))
    s.eq("file.over.file.ino", "stat(b).ino is a's", ia, os.stat(b).st_ino)
    s.true("ctime", "rename updates the ctime of the renamed file", os.stat(b).st_ctime_ns > c0,
           "(%d <= %d)" % (os.stat(b).st_ctime_ns, c0))
    # the replaced file lives on through an open fd
    x = mkfile(d + "/x", b"old x")
    fd = os.open(x, os.O_RDONLY)
    mkfile(d + "/y", b"new")
    os.rename(d + "/y", x)
    s.eq("replaced.open", "read(fd of the replaced file)", b"old x", os.pread(fd, 100, 0))
    s.eq("replaced.nlink", "fstat(fd of the replaced file).nlink", 0, os.fstat(fd).st_nlink)
    os.close(fd)
    os.makedirs(d + "/p/q")
    mkfile(d + "/p/q/file")
    os.mkdir(d + "/empty")
    n0 = os.stat(d).st_nlink
    s.err("dir.over.empty", "rename(p, empty)", os.rename, d + "/p", d + "/empty")
    s.true("dir.over.empty.result", "empty/q/file exists, p gone",
           os.path.exists(d + "/empty/q/file") and not os.path.exists(d + "/p"))
    s.eq("dir.over.empty.nlink", "parent nlink - 1", n0 - 1, os.stat(d).st_nlink)
    os.mkdir(d + "/full")
    mkfile(d + "/full/x")
    os.mkdir(d + "/src")
    s.err("dir.over.nonempty", "rename(src, full)", os.rename, d + "/src", d + "/full",
          exp=errno.ENOTEMPTY)
    s.err("file.over.dir", "rename(b, src)", os.rename, b, d + "/src", exp=errno.EISDIR)
    s.err("dir.over.file", "rename(src, b)", os.rename, d + "/src", b, exp=errno.ENOTDIR)
    s.err("dir.into.self", "rename(empty, empty/q/in)", os.rename, d + "/empty", d + "/empty/q/in",
          exp=errno.EINVAL)
    s.err("dir.into.self.direct", "rename(empty, empty/in)", os.rename, d + "/empty", d + "/empty/in",
          exp=errno.EINVAL)
    s.err("self", "rename(b, b)", os.rename, b, b)
    s.eq("self.result", "b unchanged", b"AAA", readall(b))
    os.link(b, d + "/b2")
    s.err("samefile", "rename(b, b2) (two links of one inode)", os.rename, b, d + "/b2")
    s.true("samefile.result", "both names remain (POSIX: no-op)",
           os.path.exists(b) and os.path.exists(d + "/b2"), "b=%s b2=%s" % (os.path.exists(b), os.path.exists(d + "/b2")))
    s.err("enoent", "rename(missing, z)", os.rename, d + "/missing", d + "/z", exp=errno.ENOENT)
    s.err("enoent.dst", "rename(b, missing/z)", os.rename, b, d + "/missing/z", exp=errno.ENOENT)
    s.err("enotdir", "rename(b, b2/z)", os.rename, b, d + "/b2/z", exp=errno.ENOTDIR)
    s.err("dot", "rename(src/., z)", os.rename, d + "/src/.", d + "/z", exp=errno.EBUSY)
    s.err("dotdot.dst", "rename(b, src/..)", os.rename, b, d + "/src/..", exp=errno.EBUSY)
    # moving a directory updates both parents' link counts and its ".."
    os.mkdir(d + "/m1")
    os.mkdir(d + "/m2")
    os.mkdir(d + "/m1/mv")
    n1, n2 = os.stat(d + "/m1").st_nlink, os.stat(d + "/m2").st_nlink
    s.err("dir.move", "rename(m1/mv, m2/mv)", os.rename, d + "/m1/mv", d + "/m2/mv")
    s.eq("dir.move.nlink", "nlink of m1, m2", (n1 - 1, n2 + 1), (os.stat(d + "/m1").st_nlink,
                                                                 os.stat(d + "/m2").st_nlink))
    s.eq("dir.move.dotdot", "stat(m2/mv/..).ino", os.stat(d + "/m2").st_ino, os.stat(d + "/m2/mv/..").st_ino)
    os.symlink("b", d + "/sl")
    s.err("symlink", "rename(sl, sl2) moves the link, not the target", os.rename, d + "/sl", d + "/sl2")
    s.true("symlink.result", "sl2 is a symlink to b", os.readlink(d + "/sl2") == "b" and os.path.exists(b))
    # renameat2
    mkfile(d + "/n1", b"n1")
    mkfile(d + "/n2", b"n2")
    s.err("noreplace", "renameat2(n1, n2, RENAME_NOREPLACE)", renameat2, d + "/n1", d + "/n2", RENAME_NOREPLACE,
          exp=errno.EEXIST)
    s.eq("noreplace.unchanged", "n1, n2 content", (b"n1", b"n2"), (readall(d + "/n1"), readall(d + "/n2")))
    s.err("noreplace.ok", "renameat2(n1, n3, RENAME_NOREPLACE)", renameat2, d + "/n1", d + "/n3", RENAME_NOREPLACE)
    s.err("noreplace.dangling", "renameat2(n3, dangling symlink, RENAME_NOREPLACE)",
          lambda: (os.symlink("nowhere", d + "/dl"), renameat2(d + "/n3", d + "/dl", RENAME_NOREPLACE)),
          exp=errno.EEXIST)
    s.err("exchange", "renameat2(n2, n3, RENAME_EXCHANGE)", renameat2, d + "/n2", d + "/n3", RENAME_EXCHANGE)
    s.eq("exchange.result", "n2, n3 content", (b"n1", b"n2"), (readall(d + "/n2"), readall(d + "/n3")))
    os.makedirs(d + "/xd/inner")
    i_d, i_f = os.stat(d + "/xd").st_ino, os.stat(d + "/n2").st_ino
    s.err("exchange.file.dir", "renameat2(n2, xd, RENAME_EXCHANGE)", renameat2, d + "/n2", d + "/xd",
          RENAME_EXCHANGE)
    s.eq("exchange.file.dir.result", "ino of n2, xd", (i_d, i_f), (os.lstat(d + "/n2").st_ino,
                                                                    os.lstat(d + "/xd").st_ino))
    s.true("exchange.file.dir.types", "n2 is a dir with inner, xd a file",
           os.path.isdir(d + "/n2/inner") and os.path.isfile(d + "/xd"))
    os.mkdir(d + "/other")
    os.mkdir(d + "/other/deep")
    no0, nd0 = os.stat(d + "/other").st_nlink, os.stat(d).st_nlink
    s.err("exchange.dirs.parents", "renameat2(other/deep, xd, RENAME_EXCHANGE) across parents",
          renameat2, d + "/other/deep", d + "/xd", RENAME_EXCHANGE)
    s.eq("exchange.dirs.parents.nlink", "nlink of other, parent (dir<->file across parents)",
         (no0 - 1, nd0 + 1), (os.stat(d + "/other").st_nlink, os.stat(d).st_nlink))
    s.eq("exchange.dirs.parents.dotdot", "stat(xd/..).ino is the parent", os.stat(d).st_ino,
         os.stat(d + "/xd/..").st_ino)
    s.err("exchange.enoent", "renameat2(n3, missing, RENAME_EXCHANGE)", renameat2, d + "/n3", d + "/missing",
          RENAME_EXCHANGE, exp=errno.ENOENT)
    s.err("exchange.noreplace", "renameat2(n3, xd, RENAME_EXCHANGE|RENAME_NOREPLACE)", renameat2, d + "/n3",
          d + "/other/xd", RENAME_EXCHANGE | RENAME_NOREPLACE, exp=errno.EINVAL)
    s.err("exchange.into.self", "renameat2(n2, n2/inner, RENAME_EXCHANGE)", renameat2, d + "/n2",
          d + "/n2/inner", RENAME_EXCHANGE, exp=errno.EINVAL)
    s.err("badflags", "renameat2(n3, z, 0x80)", renameat2, d + "/n3", d + "/z", 0x80, exp=errno.EINVAL)
    if not s.root:
        os.mkdir(d + "/rodir")
        mkfile(d + "/rodir/f")
        os.chmod(d + "/rodir", 0o555)
        s.err("user.eacces.src", "rename(rodir/f, g) with rodir 0555", os.rename, d + "/rodir/f", d + "/g",
              exp=errno.EACCES)
        s.err("user.eacces.dst", "rename(n3, rodir/g) with rodir 0555", os.rename, d + "/n3", d + "/rodir/g",
              exp=errno.EACCES)
        os.chmod(d + "/rodir", 0o755)
        os.makedirs(d + "/t1/lockeddir")
        os.mkdir(d + "/t2")
        os.chmod(d + "/t1/lockeddir", 0o555)
        s.err("user.dir.nowrite.move", "rename(t1/lockeddir 0555, t2/x): '..' needs write", os.rename,
              d + "/t1/lockeddir", d + "/t2/x", exp=errno.EACCES)
        s.err("user.dir.nowrite.same", "rename(t1/lockeddir 0555, t1/y) same parent", os.rename,
              d + "/t1/lockeddir", d + "/t1/y")
        os.chmod(d + "/t1/y", 0o755)


def t_sticky(s):
    st = s.fixture("sticky")
    if s.root:
        s.err("root.unlink", "unlink(other's file in a sticky dir) as root", os.unlink, st + "/root_victim")
        return
    s.err("user.unlink.other", "unlink(other's file in other's 1777 dir)", os.unlink, st + "/other_file",
          exp=errno.EPERM)
    s.err("user.rename.other", "rename(other's file in a sticky dir, ...)", os.rename, st + "/other_file",
          st + "/moved", exp=errno.EPERM)
    s.err("user.rmdir.other", "rmdir(other's empty dir in a sticky dir)", os.rmdir, st + "/other_dir",
          exp=errno.EPERM)
    mine = mkfile(st + "/mine-%d" % os.getpid(), b"m")
    s.err("user.rename.over", "rename(own file, over other's file) in a sticky dir", os.rename, mine,
          st + "/other_file", exp=errno.EPERM)
    s.err("user.exchange.other", "renameat2(own, other's, RENAME_EXCHANGE) in a sticky dir", renameat2, mine,
          st + "/other_file", RENAME_EXCHANGE, exp=errno.EPERM)
    s.true("user.other.intact", "other's file still there", os.path.exists(st + "/other_file"))
    s.err("user.rename.own", "rename(own file) in a sticky dir", os.rename, mine, mine + "-2")
    s.err("user.unlink.own", "unlink(own file) in a sticky dir", os.unlink, mine + "-2")
    s.err("user.unlink.owndir", "unlink(other's file in own sticky dir)", os.unlink,
          s.fixture("mysticky", "other_file"))
    if open("/proc/sys/fs/protected_regular").read().strip() != "0":
        raise Skip("fs.protected_regular != 0")
    fd = s.err("user.open.other.creat", "open(other's 0666 file in sticky dir, O_CREAT|O_WRONLY)", os.open,
               st + "/other_file", os.O_CREAT | os.O_WRONLY)
    if fd is not None:
        os.close(fd)


def t_rmdir(s):
    d = s.d("d")
    os.makedirs(d + "/a/b")
    s.err("enotempty", "rmdir(a) with a/b", os.rmdir, d + "/a", exp=errno.ENOTEMPTY)
    mkfile(d + "/f")
    s.err("enotdir", "rmdir(f)", os.rmdir, d + "/f", exp=errno.ENOTDIR)
    s.err("enotdir.path", "rmdir(f/x)", os.rmdir, d + "/f/x", exp=errno.ENOTDIR)
    s.err("dot", "rmdir(a/b/.)", os.rmdir, d + "/a/b/.", exp=errno.EINVAL)
    s.err("dotdot", "rmdir(a/b/..)", os.rmdir, d + "/a/b/..", exp=errno.ENOTEMPTY)
    s.err("enoent", "rmdir(missing)", os.rmdir, d + "/missing", exp=errno.ENOENT)
    os.symlink("a", d + "/sl")
    s.err("symlink", "rmdir(symlink to a dir)", os.rmdir, d + "/sl", exp=errno.ENOTDIR)
    n0 = os.stat(d + "/a").st_nlink
    s.err("ok", "rmdir(a/b)", os.rmdir, d + "/a/b")
    s.eq("ok.nlink", "parent nlink - 1", n0 - 1, os.stat(d + "/a").st_nlink)
    s.true("ok.gone", "a/b gone", not os.path.lexists(d + "/a/b"))
    os.mkdir(d + "/c")
    fd = os.open(d + "/c", os.O_RDONLY)
    s.err("open", "rmdir(c) while open", os.rmdir, d + "/c")
    st = os.fstat(fd)
    s.eq("open.nlink", "fstat(fd of removed dir).nlink", 0, st.st_nlink)
    s.err("open.creat", "openat(removed dir fd, x, O_CREAT)", lambda: os.close(
        os.open("x", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=fd)), exp=errno.ENOENT)
    s.eq("open.readdir", "listdir of the removed dir", [], os.listdir(fd))
    os.close(fd)
    # ENOTEMPTY also for hidden-looking names
    os.mkdir(d + "/h")
    mkfile(d + "/h/.dot")
    s.err("enotempty.dotfile", "rmdir(h) with h/.dot", os.rmdir, d + "/h", exp=errno.ENOTEMPTY)
    if not s.root:
        os.mkdir(d + "/ro")
        os.mkdir(d + "/ro/x")
        os.chmod(d + "/ro", 0o555)
        s.err("user.eacces", "rmdir(ro/x) with ro 0555", os.rmdir, d + "/ro/x", exp=errno.EACCES)
        os.chmod(d + "/ro", 0o755)


def t_symlink(s):
    d = s.d("s")
    s.err("ok", "symlink('target/x', sl)", os.symlink, "target/x", d + "/sl")
    st = os.lstat(d + "/sl")
    s.eq("ok.readlink", "readlink(sl)", "target/x", os.readlink(d + "/sl"))
    s.eq("ok.lstat", "lstat(sl): S_ISLNK, size, mode", (True, 8, 0o777),
         (stat.S_ISLNK(st.st_mode), st.st_size, stat.S_IMODE(st.st_mode)))
    s.eq("ok.owner", "lstat(sl) uid:gid", (s.uid, s.gid), (st.st_uid, st.st_gid))
    s.err("empty", "symlink('', e)", symlink_raw, b"", d + "/e", exp=errno.ENOENT)
    s.err("eexist", "symlink(x, sl)", os.symlink, "x", d + "/sl", exp=errno.EEXIST)
    mkfile(d + "/f")
    s.err("eexist.file", "symlink(x, f)", os.symlink, "x", d + "/f", exp=errno.EEXIST)
    s.err("enoent", "symlink(x, missing/sl)", os.symlink, "x", d + "/missing/sl", exp=errno.ENOENT)
    s.err("enotdir", "symlink(x, f/sl)", os.symlink, "x", d + "/f/sl", exp=errno.ENOTDIR)
    t4095 = "a/" * 2047 + "b"
    s.err("len4095", "symlink(4095-byte target, long)", os.symlink, t4095, d + "/long")
    got = os.readlink(d + "/long") if os.path.lexists(d + "/long") else None
    s.eq("len4095.readlink", "readlink(long) == target", True, got == t4095)
    s.err("len4096", "symlink(4096-byte target, toolong)", os.symlink, "c" * 4096, d + "/toolong",
          exp=errno.ENAMETOOLONG)
    s.err("readlink.einval", "readlink(f)", os.readlink, d + "/f", exp=errno.EINVAL)
    s.err("readlink.enoent", "readlink(missing)", os.readlink, d + "/missing", exp=errno.ENOENT)
    s.eq("readlink.short", "readlink(sl, buf of 3) truncates", b"tar", readlink_raw(d + "/sl", 3))
    s.err("dangling.stat", "stat(sl) of a dangling symlink", os.stat, d + "/sl", exp=errno.ENOENT)
    os.symlink("f", d + "/tof")
    s.eq("follow", "stat(tof).ino == stat(f).ino", os.stat(d + "/f").st_ino, os.stat(d + "/tof").st_ino)
    os.symlink("/" + "x" * 10, d + "/abs")
    s.eq("absolute", "readlink(abs)", "/" + "x" * 10, os.readlink(d + "/abs"))
    os.mkdir(d + "/sub")
    os.symlink("../f", d + "/sub/up")
    s.eq("relative", "stat(sub/up) resolves relative to the link's dir", os.stat(d + "/f").st_ino,
         os.stat(d + "/sub/up").st_ino)
    s.err("trailing.slash", "stat(tof/) of a symlink to a file", os.stat, d + "/tof/", exp=errno.ENOTDIR)
    os.symlink("sub", d + "/tosub")
    s.err("unlink.link", "unlink(tosub) removes the link", os.unlink, d + "/tosub")
    s.true("unlink.link.dir", "sub still exists", os.path.isdir(d + "/sub"))


def t_truncate(s):
    d = s.d("t")
    f = mkfile(d + "/f", b"0123456789")
    s.err("grow", "truncate(f, 100000)", os.truncate, f, 100000)
    data = readall(f)
    s.eq("grow.size", "stat(f).size", 100000, os.stat(f).st_size)
    s.eq("grow.zeros", "content: old bytes + zeros", True, data == b"0123456789" + b"\0" * 99990)
    s.err("shrink", "truncate(f, 4)", os.truncate, f, 4)
    s.eq("shrink.data", "content", b"0123", readall(f))
    os.truncate(f, 8)
    s.eq("shrink.grow", "shrink then grow reads zeros, not old bytes", b"0123\0\0\0\0", readall(f))
    s.err("same", "truncate(f, 8) (same size)", os.truncate, f, 8)
    m0 = os.stat(f).st_mtime_ns
    c0 = os.stat(f).st_ctime_ns
    tick()
    os.truncate(f, 2)
    st = os.stat(f)
    s.true("times", "truncate updates mtime and ctime", st.st_mtime_ns > m0 and st.st_ctime_ns > c0)
    os.mkdir(d + "/sub")
    s.err("eisdir", "truncate(sub, 0)", os.truncate, d + "/sub", 0, exp=errno.EISDIR)
    s.err("einval", "truncate(f, -1)", truncate_raw, f, -1, exp=errno.EINVAL)
    s.err("enoent", "truncate(missing, 0)", os.truncate, d + "/missing", 0, exp=errno.ENOENT)
    s.err("enotdir", "truncate(f/x, 0)", os.truncate, f + "/x", 0, exp=errno.ENOTDIR)
    fd = os.open(f, os.O_RDWR)
    s.err("ftruncate", "ftruncate(fd, 3000)", os.ftruncate, fd, 3000)
    s.eq("ftruncate.fstat", "fstat(fd).size", 3000, os.fstat(fd).st_size)
    s.err("ftruncate.einval", "ftruncate(fd, -1)", os.ftruncate, fd, -1, exp=errno.EINVAL)
    os.close(fd)
    fd = os.open(f, os.O_RDONLY)
    s.err("ftruncate.rdonly", "ftruncate(O_RDONLY fd, 0)", os.ftruncate, fd, 0, exp=(errno.EINVAL, errno.EBADF))
    os.close(fd)
    fd = os.open(d + "/sub", os.O_RDONLY)
    s.err("ftruncate.dir", "ftruncate(dir fd, 0)", os.ftruncate, fd, 0, exp=(errno.EINVAL, errno.EISDIR))
    os.close(fd)
    os.symlink("f", d + "/sl")
    s.err("symlink", "truncate(sl -> f, 7) follows", os.truncate, d + "/sl", 7)
    s.eq("symlink.size", "stat(f).size", 7, os.stat(f).st_size)
    fd = os.open(f, os.O_RDWR)
    os.lseek(fd, 7, os.SEEK_SET)
    os.ftruncate(fd, 0)
    os.write(fd, b"X")
    s.eq("ftruncate.offset", "write after ftruncate(0) keeps the fd offset (hole)", b"\0" * 7 + b"X",
         os.pread(fd, 100, 0) if os.lseek(fd, 0, os.SEEK_CUR) == 8 else b"offset moved")
    os.close(fd)
    if not s.root:
        mkfile(d + "/ro", b"x", 0o444)
        s.err("user.eacces", "truncate(own 0444 file, 0) as user", os.truncate, d + "/ro", 0, exp=errno.EACCES)
        s.err("user.other", "truncate(other's 0644 file) as user", os.truncate, s.fixture("open", "other_0644"),
              0, exp=errno.EACCES)


def t_unlink(s):
    d = s.d("u")
    f = mkfile(d + "/f", b"x")
    s.err("ok", "unlink(f)", os.unlink, f)
    s.true("ok.gone", "f gone", not os.path.lexists(f))
    s.err("enoent", "unlink(f) again", os.unlink, f, exp=errno.ENOENT)
    os.mkdir(d + "/sub")
    s.err("eisdir", "unlink(sub)", os.unlink, d + "/sub", exp=errno.EISDIR)
    s.err("dot", "unlink(sub/.)", os.unlink, d + "/sub/.", exp=errno.EISDIR)
    mkfile(d + "/g")
    s.err("enotdir", "unlink(g/x)", os.unlink, d + "/g/x", exp=errno.ENOTDIR)
    os.link(d + "/g", d + "/g2")
    c0 = os.stat(d + "/g").st_ctime_ns
    tick()
    os.unlink(d + "/g2")
    st = os.stat(d + "/g")
    s.eq("link.nlink", "nlink after unlinking one of two links", 1, st.st_nlink)
    s.true("link.ctime", "unlink updates the ctime of the remaining inode", st.st_ctime_ns > c0)
    m0 = os.stat(d).st_mtime_ns
    tick()
    os.unlink(d + "/g")
    s.true("parent.mtime", "unlink updates the parent's mtime", os.stat(d).st_mtime_ns > m0)
    os.symlink("sub", d + "/sl")
    s.err("symlink", "unlink(symlink to a dir)", os.unlink, d + "/sl")
    os.mkfifo(d + "/p")
    s.err("fifo", "unlink(fifo)", os.unlink, d + "/p")
    # open, unlinked files
    f = mkfile(d + "/o", b"before")
    fd = os.open(f, os.O_RDWR)
    os.unlink(f)
    s.true("open.gone", "name gone after unlink", not os.path.lexists(f))
    s.eq("open.read", "pread(fd) after unlink", b"before", os.pread(fd, 100, 0))
    s.eq("open.nlink", "fstat(fd).nlink", 0, os.fstat(fd).st_nlink)
    s.err("open.write", "pwrite(fd, 'after', 6) after unlink", os.pwrite, fd, b"after", 6)
    s.eq("open.readback", "pread(fd) after the write", b"beforeafter", os.pread(fd, 100, 0))
    s.err("open.ftruncate", "ftruncate(fd, 3) after unlink", os.ftruncate, fd, 3)
    s.eq("open.fstat.size", "fstat(fd).size", 3, os.fstat(fd).st_size)
    s.err("open.fchmod", "fchmod(fd, 0600) after unlink", os.fchmod, fd, 0o600)
    s.eq("open.fchmod.mode", "fstat(fd).mode", 0o600, stat.S_IMODE(os.fstat(fd).st_mode))
    s.err("open.fsync", "fsync(fd) after unlink", os.fsync, fd)
    fd2 = s.err("open.proc", "open(/proc/self/fd/N) of the unlinked file", os.open, "/proc/self/fd/%d" % fd,
                os.O_RDONLY)
    if fd2 is not None:
        s.eq("open.proc.read", "read through it", b"bef", os.read(fd2, 100))
        os.close(fd2)
    s.err("open.recreate", "creating the name again while the old one is open", mkfile, f, b"new")
    s.eq("open.recreate.separate", "old fd still reads the old file", b"bef", os.pread(fd, 100, 0))
    os.close(fd)
    # space stays allocated while an unlinked file is open, and is freed
    # after the last close (statvfs; on a shared ext4 disk other writers add
    # noise, so up to three attempts)
    size = 32 << 20
    chunk = os.urandom(1 << 20)

    def free():
        sv = os.statvfs(d)
        return sv.f_bavail * sv.f_frsize
    for attempt in range(3):
        f0 = free()
        f = d + "/big"
        fd = os.open(f, os.O_RDWR | os.O_CREAT, 0o644)
        for _ in range(size >> 20):
            os.write(fd, chunk)
        os.fsync(fd)
        os.unlink(f)
        time.sleep(0.2)
        f1 = free()
        held = f0 - f1
        os.close(fd)
        freed = 0
        deadline = time.time() + (5 if held >= size // 2 else 0)
        while True:
            freed = free() - f1
            if freed >= size // 2 or time.time() > deadline:
                break
            time.sleep(0.2)
        if held >= size // 2 and freed >= size // 2:
            break
    s.true("open.space.held", "statvfs: an unlinked file's 32 MiB stay used while it is open",
           held >= size // 2, "(%d bytes used)" % held)
    s.true("open.space.freed", "statvfs: the space is freed after the last close",
           freed >= size // 2, "(%d bytes freed)" % freed)
    if not s.root:
        os.mkdir(d + "/ro")
        mkfile(d + "/ro/x")
        os.chmod(d + "/ro", 0o555)
        s.err("user.eacces", "unlink(ro/x) with ro 0555", os.unlink, d + "/ro/x", exp=errno.EACCES)
        os.chmod(d + "/ro", 0o755)


def t_utimens(s):
    d = s.d("tm")
    f = mkfile(d + "/f", b"x")
    s.err("explicit", "utimensat(f, (1000000000.123456789, 1100000000.987654321))", utimensat, f,
          (1000000000, 123456789), (1100000000, 987654321))
    st = os.stat(f)
    s.eq("explicit.get", "stat(f) atime_ns, mtime_ns", (1000000000123456789, 1100000000987654321),
         (st.st_atime_ns, st.st_mtime_ns))
    c0 = st.st_ctime_ns
    tick()
    s.err("omit.atime", "utimensat(f, (UTIME_OMIT, 1200000000.5))", utimensat, f, UTIME_OMIT, (1200000000, 5))
    st = os.stat(f)
    s.eq("omit.atime.get", "atime_ns unchanged, mtime_ns set", (1000000000123456789, 1200000000000000005),
         (st.st_atime_ns, st.st_mtime_ns))
    s.true("ctime", "utimensat updates ctime", st.st_ctime_ns > c0)
    s.err("omit.mtime", "utimensat(f, (1300000000.0, UTIME_OMIT))", utimensat, f, (1300000000, 0), UTIME_OMIT)
    st = os.stat(f)
    s.eq("omit.mtime.get", "atime set, mtime unchanged", (1300000000000000000, 1200000000000000005),
         (st.st_atime_ns, st.st_mtime_ns))
    c1 = st.st_ctime_ns
    tick()
    s.err("omit.both", "utimensat(f, (UTIME_OMIT, UTIME_OMIT))", utimensat, f, UTIME_OMIT, UTIME_OMIT)
    s.eq("omit.both.ctime", "ctime unchanged by OMIT/OMIT", c1, os.stat(f).st_ctime_ns)
    before = time.time_ns()
    tick()
    s.err("now", "utimensat(f, (UTIME_NOW, UTIME_NOW))", utimensat, f, UTIME_NOW, UTIME_NOW)
    st = os.stat(f)
    s.true("now.get", "atime and mtime are now", st.st_atime_ns >= before - 10**8 and
           st.st_mtime_ns >= before - 10**8 and st.st_mtime_ns <= time.time_ns() + 10**8)
    utimensat(f, (5, 0), (5, 0))
    s.err("null", "utimensat(f, NULL)", utimensat, f, None, None)
    s.true("null.get", "NULL sets both to now", os.stat(f).st_mtime_ns >= before - 10**8)
    s.err("einval.nsec", "utimensat(f, (0, 1000000000))", utimensat, f, (0, 1000000000), UTIME_OMIT,
          exp=errno.EINVAL)
    s.err("einval.negnsec", "utimensat(f, (0, -1))", utimensat, f, UTIME_OMIT, (0, -1), exp=errno.EINVAL)
    s.err("pre1970", "utimensat(f, mtime -1000000000.5 (1938))", utimensat, f, UTIME_OMIT, (-1000000000, 5))
    s.eq("pre1970.get", "stat(f).mtime_ns", -1000000000 * 10**9 + 5, os.stat(f).st_mtime_ns)
    s.err("y2106", "utimensat(f, mtime 4300000000 (2106))", utimensat, f, UTIME_OMIT, (4300000000, 0))
    s.eq("y2106.get", "stat(f).mtime", 4300000000, os.stat(f).st_mtime_ns // 10**9)
    s.err("enoent", "utimensat(missing)", utimensat, d + "/missing", UTIME_NOW, UTIME_NOW, exp=errno.ENOENT)
    os.symlink("f", d + "/sl")
    s.err("symlink.nofollow", "utimensat(sl, (10,0), (20,0), AT_SYMLINK_NOFOLLOW)", utimensat, d + "/sl",
          (10, 0), (20, 0), AT_SYMLINK_NOFOLLOW)
    s.eq("symlink.nofollow.get", "lstat(sl).mtime, stat(f).mtime unchanged", (20, 4300000000),
         (os.lstat(d + "/sl").st_mtime_ns // 10**9, os.stat(f).st_mtime_ns // 10**9))
    os.mkdir(d + "/sub")
    s.err("dir", "utimensat(sub, (30,0), (40,0))", utimensat, d + "/sub", (30, 0), (40, 0))
    s.eq("dir.get", "stat(sub).mtime", 40, os.stat(d + "/sub").st_mtime_ns // 10**9)
    fd = os.open(f, os.O_RDONLY)
    s.err("futimens", "futimens(fd, (50,0), (60,0))", os.utime, fd, ns=(50 * 10**9, 60 * 10**9))
    s.eq("futimens.get", "stat(f).mtime", 60, os.stat(f).st_mtime_ns // 10**9)
    os.close(fd)
    # the write path updates mtime
    utimensat(f, (1, 0), (1, 0))
    with open(f, "ab") as fh:
        fh.write(b"y")
    s.true("write.mtime", "write() updates mtime", os.stat(f).st_mtime_ns > 10**9 * 10)
    rw = s.fixture("open", "other_0666")
    ro = s.fixture("open", "other_0644")
    if s.root:
        s.err("root.other", "utimensat(other's file, explicit) as root", utimensat, ro, (70, 0), (80, 0))
        s.eq("root.other.get", "stat.mtime", 80, os.stat(ro).st_mtime_ns // 10**9)
    else:
        s.err("user.other.explicit", "utimensat(other's 0666 file, explicit times) as non-owner", utimensat, rw,
              (70, 0), (80, 0), exp=errno.EPERM)
        s.err("user.other.now", "utimensat(other's 0666 file, UTIME_NOW x2) with write permission", utimensat, rw,
              UTIME_NOW, UTIME_NOW)
        s.err("user.other.null", "utimensat(other's 0666 file, NULL) with write permission", utimensat, rw,
              None, None)
        s.err("user.other.now.omit", "utimensat(other's 0666 file, (UTIME_NOW, UTIME_OMIT))", utimensat, rw,
              UTIME_NOW, UTIME_OMIT, exp=errno.EPERM)
        s.err("user.other.ro.now", "utimensat(other's 0644 file, UTIME_NOW) without write permission",
              utimensat, ro, UTIME_NOW, UTIME_NOW, exp=errno.EACCES)
        s.err("user.other.ro.explicit", "utimensat(other's 0644 file, explicit)", utimensat, ro, (1, 0), (1, 0),
              exp=errno.EPERM)
        s.err("user.other.omit", "utimensat(other's 0644 file, OMIT, OMIT)", utimensat, ro, UTIME_OMIT,
              UTIME_OMIT)
        mkfile(d + "/own0444", b"", 0o444)
        s.err("user.own.ro", "utimensat(own 0444 file, explicit) as owner", utimensat, d + "/own0444",
              (90, 0), (90, 0))
        s.err("user.own.ro.now", "utimensat(own 0444 file, UTIME_NOW) as owner", utimensat, d + "/own0444",
              UTIME_NOW, UTIME_NOW)


def t_xattr(s):
    d = s.d("x")
    f = mkfile(d + "/f", b"x")
    s.err("set", "setxattr(f, user.a, 'one')", os.setxattr, f, "user.a", b"one")
    s.eq("get", "getxattr(f, user.a)", b"one", os.getxattr(f, "user.a"))
    s.err("set2", "setxattr(f, user.b, '')", os.setxattr, f, "user.b", b"")
    s.eq("get.empty", "getxattr(f, user.b)", b"", os.getxattr(f, "user.b"))
    s.eq("list", "listxattr(f) (user.*)", ["user.a", "user.b"],
         sorted(n for n in os.listxattr(f) if n.startswith("user.")))
    s.err("create.eexist", "setxattr(f, user.a, XATTR_CREATE)", os.setxattr, f, "user.a", b"two", XATTR_CREATE,
          exp=errno.EEXIST)
    s.eq("create.eexist.unchanged", "getxattr(f, user.a)", b"one", os.getxattr(f, "user.a"))
    s.err("create.ok", "setxattr(f, user.c, XATTR_CREATE)", os.setxattr, f, "user.c", b"c", XATTR_CREATE)
    s.err("replace.enodata", "setxattr(f, user.zz, XATTR_REPLACE)", os.setxattr, f, "user.zz", b"z",
          XATTR_REPLACE, exp=errno.ENODATA)
    s.err("replace.ok", "setxattr(f, user.a, 'two', XATTR_REPLACE)", os.setxattr, f, "user.a", b"two",
          XATTR_REPLACE)
    s.eq("replace.get", "getxattr(f, user.a)", b"two", os.getxattr(f, "user.a"))
    s.err("badflags", "setxattr(f, user.a, flags 4)", setxattr_raw, f, "user.a", b"x", 4, exp=errno.EINVAL)
    s.err("get.enodata", "getxattr(f, user.missing)", os.getxattr, f, "user.missing", exp=errno.ENODATA)
    s.err("remove", "removexattr(f, user.c)", os.removexattr, f, "user.c")
    s.err("remove.get", "getxattr(f, user.c) after remove", os.getxattr, f, "user.c", exp=errno.ENODATA)
    s.err("remove.enodata", "removexattr(f, user.c) again", os.removexattr, f, "user.c", exp=errno.ENODATA)
    os.setxattr(f, "user.ten", b"0123456789")
    s.eq("size.query", "getxattr(f, user.ten, NULL, 0) returns the size", 10, getxattr_raw(f, "user.ten", 0)[0])
    s.err("erange", "getxattr(f, user.ten, buf, 4)", getxattr_raw, f, "user.ten", 4, exp=errno.ERANGE)
    s.eq("exact", "getxattr(f, user.ten, buf, 10)", b"0123456789", getxattr_raw(f, "user.ten", 10)[1])
    total = listxattr_raw(f, 0)
    s.true("list.size", "listxattr(f, NULL, 0) returns the size", total >= len("user.a\0user.b\0user.ten\0"),
           "(%d)" % total)
    s.err("list.erange", "listxattr(f, buf, 3)", listxattr_raw, f, 3, exp=errno.ERANGE)
    s.err("binary", "setxattr(f, user.bin, bytes 0..255)", os.setxattr, f, "user.bin", bytes(range(256)))
    s.eq("binary.get", "getxattr(f, user.bin)", bytes(range(256)), os.getxattr(f, "user.bin"))
    big = os.urandom(65536)
    try:
        os.setxattr(f, "user.max", big)
        e = 0
    except OSError as ex:
        e = ex.errno
    # ext4 without ea_inode refuses values that do not fit a block (ENOSPC); enrp keeps up to 64 KiB
    s.record(e == 0 if s.enrp else e in (0, errno.ENOSPC, errno.E2BIG), "max", "setxattr(f, user.max, 65536 bytes)",
             "OK" if s.enrp else "OK/ENOSPC/E2BIG", ename(e), "[enrp: D6]" if s.enrp else "")
    if e == 0:
        s.eq("max.get", "getxattr(f, user.max) == value", True, os.getxattr(f, "user.max") == big)
    s.err("huge", "setxattr(f, user.huge, 65537 bytes)", os.setxattr, f, "user.huge", b"h" * 65537, exp=errno.E2BIG)
    s.err("name.long", "setxattr(f, 'user.' + 250 chars) (255 bytes)", os.setxattr, f, "user." + "n" * 250, b"x")
    s.err("name.toolong", "setxattr(f, 'user.' + 251 chars) (256 bytes)", os.setxattr, f,
          "user." + "n" * 251, b"x", exp=errno.ERANGE)
    s.err("name.empty", "setxattr(f, 'user.')", os.setxattr, f, "user.", b"x", exp=errno.EINVAL)
    s.err("name.nonamespace", "setxattr(f, 'foo.bar')", os.setxattr, f, "foo.bar", b"x", exp=errno.EOPNOTSUPP)
    if s.root:
        s.err("trusted.root", "setxattr(f, trusted.t) as root", os.setxattr, f, "trusted.t", b"t",
              exp=errno.EOPNOTSUPP if s.enrp else 0, diff="D7" if s.enrp else None)
        s.err("trusted.root.get", "getxattr(f, trusted.t) as root", os.getxattr, f, "trusted.t",
              exp=errno.ENODATA if s.enrp else 0, diff="D7" if s.enrp else None)
    else:
        s.err("trusted.user", "setxattr(f, trusted.t) as user", os.setxattr, f, "trusted.t", b"t", exp=errno.EPERM)
        s.err("trusted.user.get", "getxattr(f, trusted.t) as user", os.getxattr, f, "trusted.t",
              exp=errno.ENODATA)
    os.mkdir(d + "/sub")
    s.err("dir", "setxattr(sub, user.d)", os.setxattr, d + "/sub", "user.d", b"dir")
    s.eq("dir.get", "getxattr(sub, user.d)", b"dir", os.getxattr(d + "/sub", "user.d"))
    os.symlink("f", d + "/sl")
    s.err("symlink.set", "lsetxattr(sl, user.s)", os.setxattr, d + "/sl", "user.s", b"s", follow_symlinks=False,
          exp=errno.EPERM)
    s.err("symlink.get", "lgetxattr(sl, user.a)", os.getxattr, d + "/sl", "user.a", follow_symlinks=False,
          exp=errno.ENODATA)
    s.eq("symlink.follow", "getxattr(sl, user.a) follows", b"two", os.getxattr(d + "/sl", "user.a"))
    s.eq("symlink.list", "llistxattr(sl) has no user.*", [],
         [n for n in os.listxattr(d + "/sl", follow_symlinks=False) if n.startswith("user.")])
    os.mkfifo(d + "/p")
    s.err("fifo.set", "setxattr(fifo, user.p)", os.setxattr, d + "/p", "user.p", b"p", exp=errno.EPERM)
    fd = os.open(f, os.O_RDONLY)
    s.err("fset", "fsetxattr(O_RDONLY fd, user.f)", os.setxattr, fd, "user.f", b"f")
    s.eq("fget", "fgetxattr(fd, user.f)", b"f", os.getxattr(fd, "user.f"))
    os.close(fd)
    g = mkfile(d + "/g", b"")
    s.eq("list.none", "listxattr of a file without xattrs (user.*)", [],
         [n for n in os.listxattr(g) if n.startswith("user.")])
    c0 = os.stat(f).st_ctime_ns
    tick()
    os.setxattr(f, "user.ctime", b"1")
    s.true("ctime", "setxattr updates ctime", os.stat(f).st_ctime_ns > c0)
    os.link(f, d + "/hl")
    s.eq("hardlink", "getxattr(hard link, user.a)", b"two", os.getxattr(d + "/hl", "user.a"))
    os.rename(f, d + "/renamed")
    s.eq("rename", "getxattr after rename", b"two", os.getxattr(d + "/renamed", "user.a"))
    if not s.root:
        ro = s.fixture("open", "other_0644")
        s.err("user.other.set", "setxattr(other's 0644 file, user.x)", os.setxattr, ro, "user.x", b"x",
              exp=errno.EACCES)
        s.err("user.other.get", "getxattr(other's 0600 file, user.x)", os.getxattr,
              s.fixture("open", "other_0600"), "user.x", exp=errno.EACCES)
        rw = s.fixture("open", "other_0666")
        s.err("user.other.rw.set", "setxattr(other's 0666 file, user.w) with write permission", os.setxattr, rw,
              "user.w", b"w")
        os.chmod(g, 0o444)
        s.err("user.own.ro.set", "setxattr(own 0444 file, user.x) as owner", os.setxattr, g, "user.x", b"x",
              exp=errno.EACCES)
        s.err("user.sticky.dir", "setxattr(other's sticky 1777 dir, user.x)", os.setxattr,
              s.fixture("sticky"), "user.x", b"x", exp=errno.EPERM)


def t_readdir(s):
    d = s.d("rd")
    names = {"a", "b b", "c" * 255, ".hidden", "\u00e9t\u00e9"}
    for n in names:
        mkfile(d + "/" + n)
    os.mkdir(d + "/dir")
    names.add("dir")
    s.eq("list", "listdir", sorted(names), sorted(os.listdir(d)))
    with os.scandir(d) as it:
        types = {e.name: (e.is_dir(follow_symlinks=False), e.is_file(follow_symlinks=False)) for e in it}
    s.eq("dtype", "d_type of dir and a", ((True, False), (False, True)), (types.get("dir"), types.get("a")))
    s.eq("dots", "stat(d/.) and stat(d/..) inode numbers", (os.stat(d).st_ino, os.stat(s.work).st_ino),
         (os.stat(d + "/.").st_ino, os.stat(d + "/..").st_ino))
    for i in range(500):
        mkfile("%s/dir/n%04d" % (d, i))
    s.eq("many", "listdir of 500 entries", 500, len(os.listdir(d + "/dir")))
    # unlinking while iterating sees each remaining entry once
    seen = []
    with os.scandir(d + "/dir") as it:
        for i, e in enumerate(it):
            seen.append(e.name)
            if i == 10:
                for j in range(400, 500):
                    os.unlink("%s/dir/n%04d" % (d, j))
    s.true("unlink.during", "readdir while unlinking returns no duplicates", len(seen) == len(set(seen)))


def t_eirdir(s):
    """The top directory handed to the suite (an EIR directory on enrp)."""
    top = os.path.dirname(os.path.abspath(s.work))
    if s.enrp:
        parent = os.path.dirname(top)
        if not os.path.ismount(parent):
            raise Skip("the suite's directory is not an EIR directory")
        target = top
    else:
        target = s.d("eirlike")
    st = os.stat(target)
    if not s.root and st.st_uid != s.uid:
        raise Skip("caller does not own %s" % target)
    mode = stat.S_IMODE(st.st_mode)
    D = "D1" if s.enrp else None
    s.err("chmod", "chmod(EIR dir, same mode)", os.chmod, target, mode)
    s.eq("chmod.unchanged", "stat.mode", mode, perm(target))
    s.err("chmod.wider", "chmod(EIR dir, 0777)", os.chmod, target, 0o777)
    s.eq("chmod.wider.kept", "stat.mode after chmod 0777", mode if s.enrp else 0o777, perm(target),
         diff=D)
    os.chmod(target, mode)
    s.err("chown", "chown(EIR dir, owner, group)", os.chown, target, st.st_uid, st.st_gid)
    s.err("utimens", "utimensat(EIR dir, UTIME_NOW x2)", utimensat, target, UTIME_NOW, UTIME_NOW)
    D = "D2" if s.enrp else None
    for name in (".enrp", ".snapshots"):
        p = os.path.join(target, name)
        if not s.enrp:
            s.err("mkdir" + name, "mkdir(EIR/%s)" % name, os.mkdir, p)
            os.rmdir(p)
            continue
        s.err("mkdir" + name, "mkdir(EIR/%s)" % name, os.mkdir, p, exp=errno.EEXIST, diff=D)
        s.err("creat" + name, "open(EIR/%s, O_CREAT|O_EXCL)" % name, opn, p, os.O_CREAT | os.O_EXCL | os.O_WRONLY,
              exp=errno.EEXIST, diff=D)
        s.err("symlink" + name, "symlink(x, EIR/%s)" % name, os.symlink, "x", p, exp=errno.EEXIST, diff=D)
        s.err("rmdir" + name, "rmdir(EIR/%s)" % name, os.rmdir, p, exp=errno.EPERM, diff=D)
        s.err("rename.from.same" + name, "rename(EIR/%s, EIR/x) (same parent)" % name, os.rename, p,
              os.path.join(target, "stolen-%d" % os.getpid()), exp=errno.EPERM, diff=D)
        # to another parent the kernel first wants write permission on the
        # directory itself (its ".." changes): root gets the fs's EPERM
        s.err("rename.from" + name, "rename(EIR/%s, EIR/sub/x)" % name, os.rename, p,
              os.path.join(s.work, "stolen"), exp=errno.EPERM if s.root else errno.EACCES, diff=D)
        mkfile(os.path.join(s.work, "onto"))
        # a file onto a directory: the kernel answers EISDIR before asking the fs
        s.err("rename.file.onto" + name, "rename(file, EIR/%s)" % name, os.rename, os.path.join(s.work, "onto"), p,
              exp=errno.EISDIR, diff=D)
        os.mkdir(os.path.join(s.work, "ontodir"))
        s.err("rename.dir.onto" + name, "rename(empty dir, EIR/%s)" % name, os.rename,
              os.path.join(s.work, "ontodir"), p, exp=errno.EPERM, diff=D)
        s.err("exchange.onto" + name, "renameat2(file, EIR/%s, RENAME_EXCHANGE)" % name, renameat2,
              os.path.join(s.work, "onto"), p, RENAME_EXCHANGE, exp=errno.EPERM if s.root else errno.EACCES, diff=D)
        os.rmdir(os.path.join(s.work, "ontodir"))
        s.err("unlink" + name, "unlink(EIR/%s)" % name, os.unlink, p, exp=errno.EISDIR, diff=D)
        s.true("hidden" + name, "readdir(EIR) does not list %s" % name, name not in os.listdir(target))
        s.true("stat" + name, "stat(EIR/%s) is a directory" % name, os.path.isdir(p))
    s.err("nested.ordinary", "mkdir(EIR/sub/.enrp) is ordinary", os.mkdir, os.path.join(s.work, ".enrp"))


def t_misc(s):
    import mmap
    d = s.d("misc")
    # parent directory times on create / rename / remove
    for what, fn in (("creat", lambda: mkfile(d + "/c1")), ("mkdir", lambda: os.mkdir(d + "/m1")),
                     ("symlink", lambda: os.symlink("x", d + "/s1")),
                     ("rename", lambda: os.rename(d + "/c1", d + "/c2")),
                     ("rmdir", lambda: os.rmdir(d + "/m1"))):
        st0 = os.stat(d)
        tick()
        fn()
        st = os.stat(d)
        s.true("parent.times." + what, "%s updates the parent's mtime and ctime" % what,
               st.st_mtime_ns > st0.st_mtime_ns and st.st_ctime_ns > st0.st_ctime_ns)
    # st_blocks counts allocated space (du)
    f = mkfile(d + "/blocks", os.urandom(100000))
    st = os.stat(f)
    s.true("st_blocks", "stat.st_blocks * 512 >= size after writing 100000 bytes", st.st_blocks * 512 >= 100000,
           "(st_blocks %d)" % st.st_blocks)
    s.true("st_blksize", "stat.st_blksize > 0", st.st_blksize > 0)
    # relatime: reading a file whose atime <= mtime updates atime
    utimensat(f, (1000, 0), (2000, 0))
    readall(f)
    a = os.stat(f).st_atime_ns
    if "noatime" in s.mount_opts:
        s.eq("atime.read", "read() leaves atime alone (noatime mount)", 1000, a // 10**9)
    else:
        s.true("atime.read", "read() updates atime when atime <= mtime (relatime)", a > 2000 * 10**9,
               "(atime %d)" % (a // 10**9))
    # mmap
    fd = os.open(d + "/mm", os.O_RDWR | os.O_CREAT, 0o644)
    os.ftruncate(fd, 8192)
    m = mmap.mmap(fd, 8192, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    m[4096:4101] = b"mmapd"
    m.flush()
    m.close()
    s.eq("mmap.shared", "pread after a MAP_SHARED write + msync", b"mmapd", os.pread(fd, 5, 4096))
    os.close(fd)
    s.eq("mmap.reopen", "read through a new open", b"mmapd", readall(d + "/mm")[4096:4101])
    # two O_APPEND writers
    f = mkfile(d + "/app")
    a1 = os.open(f, os.O_WRONLY | os.O_APPEND)
    a2 = os.open(f, os.O_WRONLY | os.O_APPEND)
    for i in range(5):
        os.write(a1, b"a%d" % i)
        os.write(a2, b"b%d" % i)
    os.close(a1)
    os.close(a2)
    s.eq("append.two", "two O_APPEND fds interleave without overwriting", b"a0b0a1b1a2b2a3b3a4b4", readall(f))
    # copy_file_range (cp uses it)
    src = mkfile(d + "/cfr-src", b"0123456789" * 1000)
    fi = os.open(src, os.O_RDONLY)
    fo = os.open(d + "/cfr-dst", os.O_WRONLY | os.O_CREAT, 0o644)
    s.err("copy_file_range", "copy_file_range(src, dst, 10000)", os.copy_file_range, fi, fo, 10000)
    os.close(fi)
    os.close(fo)
    s.eq("copy_file_range.data", "dst == src", readall(src), readall(d + "/cfr-dst"))
    # fallocate
    f = mkfile(d + "/fa", b"x" * 10)
    fd = os.open(f, os.O_RDWR)
    s.err("posix_fallocate", "posix_fallocate(fd, 0, 100000)", os.posix_fallocate, fd, 0, 100000)
    s.eq("posix_fallocate.size", "fstat.size", 100000, os.fstat(fd).st_size)
    s.eq("posix_fallocate.data", "old bytes kept, rest zeros", b"x" * 10 + b"\0" * 10, os.pread(fd, 20, 0))
    os.close(fd)
    # statvfs
    sv = os.statvfs(d)
    s.eq("statvfs.namemax", "statvfs.f_namemax", 255, sv.f_namemax)
    # O_TMPFILE
    O_TMPFILE = getattr(os, "O_TMPFILE", 0o20200000)
    fd = None
    try:
        fd = os.open(d, O_TMPFILE | os.O_RDWR, 0o600)
        e = 0
    except OSError as ex:
        e = ex.errno
    s.record(e in ((0, errno.EOPNOTSUPP) if s.enrp else (0,)), "o_tmpfile", "open(dir, O_TMPFILE|O_RDWR)",
             "OK/EOPNOTSUPP" if s.enrp else "OK", ename(e), "[enrp: D8]" if s.enrp else "")
    if fd is not None:
        os.write(fd, b"tmp")
        s.eq("o_tmpfile.nlink", "fstat(tmpfile).nlink", 0, os.fstat(fd).st_nlink)
        os.close(fd)
    s.eq("o_tmpfile.invisible", "the directory lists no tmpfile", [], [n for n in os.listdir(d) if n.startswith("#")])


SECTIONS = [
    ("chmod", t_chmod), ("chmod_users", t_chmod_users), ("chown", t_chown), ("suid", t_suid_write),
    ("sgid_dir", t_sgid_dir), ("link", t_link), ("mkdir", t_mkdir), ("mknod", t_mknod), ("open", t_open), ("rename", t_rename),
    ("sticky", t_sticky), ("rmdir", t_rmdir), ("symlink", t_symlink), ("truncate", t_truncate),
    ("unlink", t_unlink), ("utimens", t_utimens), ("xattr", t_xattr), ("readdir", t_readdir), ("misc", t_misc),
    ("eirdir", t_eirdir),
]


def detect_fs(path):
    best, fstype = "", ""
    real = os.path.realpath(path)
    with open("/proc/self/mountinfo") as f:
        for line in f:
            p = line.split()
            mp = p[4].replace("\\040", " ")
            sep = p.index("-")
            if (real == mp or real.startswith(mp.rstrip("/") + "/")) and len(mp) >= len(best):
                best, fstype = mp, p[sep + 1]
    if fstype == "fuse.enrpfs":
        return "enrp"
    return "ext4" if fstype == "ext4" else fstype


def check(work, fs, verbose, only):
    if fs == "auto":
        fs = detect_fs(work)
    s = Suite(work, fs, verbose)
    who = "uid %d gid %d groups %s" % (s.uid, s.gid, ",".join(map(str, sorted(s.groups))))
    print("# posix suite: %s (fs %s%s), as %s" % (work, fs, ", nodev" if s.nodev else "", who))
    os.umask(0o022)
    for name, fn in SECTIONS:
        if only and name not in only:
            continue
        s.section = name
        os.umask(0o022)
        try:
            fn(s)
        except Skip as e:
            s.skipped += 1
            print("skip     %s: %s" % (name, e))
        except Exception as e:  # a check that could not even run is a failure
            import traceback
            s.failed += 1
            s.failures.append("%s: %r" % (name, e))
            print("FAIL     %s: aborted: %s: %s" % (name, type(e).__name__, e))
            if verbose:
                traceback.print_exc(file=sys.stdout)
    print("# %s, %d sections skipped" % (fs, s.skipped))
    print("%d passed, %d failed" % (s.passed, s.failed))
    return 0 if s.failed == 0 else 1


def prepare(work, user, other):
    uid, gid = map(int, user.split(":"))
    ouid, ogid = map(int, other.split(":"))
    fx = os.path.join(work, "fx")
    os.mkdir(fx)
    os.chmod(fx, 0o755)

    def mk(path, mode, owner, data=b""):
        mkfile(path, data)
        os.chown(path, *owner)
        os.chmod(path, mode)

    def mkd(path, mode, owner):
        os.mkdir(path)
        os.chown(path, *owner)
        os.chmod(path, mode)
    O = (ouid, ogid)
    mkd(fx + "/open", 0o777, O)
    mk(fx + "/open/other_0600", 0o600, O, b"secret")
    mk(fx + "/open/other_0644", 0o644, O, b"public")
    mk(fx + "/open/other_0666", 0o666, O, b"shared")
    mk(fx + "/open/other_suid", 0o6777, O, b"suid")
    mk(fx + "/open/user_rootgrp", 0o644, (uid, 0))
    mkd(fx + "/rodir", 0o755, O)
    mkd(fx + "/sticky", 0o1777, O)
    mk(fx + "/sticky/other_file", 0o666, O, b"other")
    mk(fx + "/sticky/root_victim", 0o600, O, b"other")
    mkd(fx + "/sticky/other_dir", 0o777, O)
    mkd(fx + "/mysticky", 0o1777, (uid, gid))
    mkd(fx + "/sgiddir", 0o2777, O)
    os.chmod(fx + "/sgiddir", 0o2777)
    mk(fx + "/mysticky/other_file", 0o644, O)
    with open(fx + "/fixtures.json", "w") as f:
        json.dump({"user_uid": uid, "user_gid": gid, "other_uid": ouid, "other_gid": ogid}, f)
    os.chmod(fx + "/fixtures.json", 0o644)


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(prog="posix.py")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("check")
    p.add_argument("work")
    p.add_argument("--fs", default="auto")
    p.add_argument("-v", "--verbose", action="store_true")
    p.add_argument("--only", default="")
    p = sub.add_parser("prepare")
    p.add_argument("work")
    p.add_argument("--user", required=True)
    p.add_argument("--other", required=True)
    a = ap.parse_args(argv)
    if a.cmd == "prepare":
        prepare(a.work, a.user, a.other)
        return 0
    only = set(x for x in a.only.split(",") if x)
    return check(a.work, a.fs, a.verbose, only)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
