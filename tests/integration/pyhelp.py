#!/usr/bin/env python3
"""pyhelp.py — small syscall helpers the shell lacks, for the integration tests.

Each subcommand exits 0 on success; on failure it prints
"pyhelp: OP: <strerror>" on stderr (so expect_fail can match the errno text)
and exits 1.

  renameat2 SRC DST [none|noreplace|exchange]
  open PATH rdonly|wronly|rdwr|append|creat-excl   open (and close) a file
  write-fsync PATH SIZE          write SIZE random bytes, fsync, print sha256
  mksock PATH                    bind an AF_UNIX socket at PATH
  unlink-open PATH               open, unlink, read back through the handle
  dirents DIR                    every entry glibc's readdir returns, "." and
                                 ".." included (it drops those with d_ino 0),
                                 as 'INO NAME' lines
  size-max DIR                   print the largest size ftruncate grants a
                                 file on DIR's filesystem (bisection)
  truncate PATH SIZE             truncate(2) by path
  ftruncate PATH SIZE            open O_WRONLY, ftruncate(2)
  pwrite PATH OFF TEXT           open O_WRONLY, pwrite TEXT at OFF, print
                                 the count written
  fallocate PATH OFF LEN [keep]  open O_WRONLY, fallocate(2) (mode 0 or
                                 FALLOC_FL_KEEP_SIZE)
"""
import ctypes
import errno
import hashlib
import os
import socket
import sys

AT_FDCWD = -100
RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2


def die(op, err):
    sys.stderr.write("pyhelp: %s: %s\n" % (op, os.strerror(err)))
    sys.exit(1)


def renameat2(src, dst, how="none"):
    flags = {"none": 0, "noreplace": RENAME_NOREPLACE, "exchange": RENAME_EXCHANGE}[how]
    libc = ctypes.CDLL(None, use_errno=True)
    fn = libc.renameat2
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(AT_FDCWD, os.fsencode(src), AT_FDCWD, os.fsencode(dst), flags) != 0:
        die("renameat2", ctypes.get_errno())


def do_open(path, how):
    flags = {
        "rdonly": os.O_RDONLY,
        "wronly": os.O_WRONLY,
        "rdwr": os.O_RDWR,
        "append": os.O_WRONLY | os.O_APPEND,
        "creat-excl": os.O_WRONLY | os.O_CREAT | os.O_EXCL,
    }[how]
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as e:
        die("open", e.errno)
    os.close(fd)


def write_fsync(path, size):
    data = os.urandom(int(size))
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        off = 0
        while off < len(data):
            off += os.write(fd, data[off:])
        os.fsync(fd)
        os.close(fd)
    except OSError as e:
        die("write-fsync", e.errno)
    print(hashlib.sha256(data).hexdigest())


def mksock(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.bind(path)
    except OSError as e:
        die("bind", e.errno)
    s.close()


def unlink_open(path):
    try:
        fd = os.open(path, os.O_RDONLY)
        before = os.read(fd, 1 << 20)
        os.unlink(path)
        os.lseek(fd, 0, os.SEEK_SET)
        after = os.read(fd, 1 << 20)
        os.close(fd)
    except OSError as e:
        die("unlink-open", e.errno)
    if before != after or not before:
        sys.stderr.write("pyhelp: unlink-open: content changed after unlink\n")
        sys.exit(1)


class Dirent64(ctypes.Structure):
    _fields_ = [("d_ino", ctypes.c_uint64), ("d_off", ctypes.c_int64),
                ("d_reclen", ctypes.c_ushort), ("d_type", ctypes.c_ubyte),
                ("d_name", ctypes.c_char * 256)]


def dirents(d):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.opendir.restype = ctypes.c_void_p
    libc.opendir.argtypes = [ctypes.c_char_p]
    libc.readdir64.restype = ctypes.POINTER(Dirent64)
    libc.readdir64.argtypes = [ctypes.c_void_p]
    libc.closedir.argtypes = [ctypes.c_void_p]
    dp = libc.opendir(os.fsencode(d))
    if not dp:
        die("opendir", ctypes.get_errno())
    while True:
        ctypes.set_errno(0)
        e = libc.readdir64(dp)
        if not e:
            err = ctypes.get_errno()
            libc.closedir(dp)
            if err:
                die("readdir", err)
            return
        print(e.contents.d_ino, os.fsdecode(e.contents.d_name))


def size_max(d):
    fd = os.open(d, os.O_TMPFILE | os.O_RDWR, 0o600)
    ok, over = 0, 1 << 63
    while over - ok > 1:
        mid = (ok + over) // 2
        try:
            os.ftruncate(fd, mid)
            ok = mid
        except OSError as e:
            if e.errno not in (errno.EFBIG, errno.EINVAL):
                raise
            over = mid
    os.close(fd)
    print(ok)


def do_truncate(path, size):
    try:
        os.truncate(path, int(size))
    except OSError as e:
        die("truncate", e.errno)


def with_wronly(op, path, fn):
    try:
        fd = os.open(path, os.O_WRONLY)
        try:
            return fn(fd)
        finally:
            os.close(fd)
    except OSError as e:
        die(op, e.errno)


def do_ftruncate(path, size):
    with_wronly("ftruncate", path, lambda fd: os.ftruncate(fd, int(size)))


def do_pwrite(path, off, text):
    print(with_wronly("pwrite", path, lambda fd: os.pwrite(fd, os.fsencode(text), int(off))))


def do_fallocate(path, off, length, how="grow"):
    mode = {"grow": 0, "keep": 1}[how]  # FALLOC_FL_KEEP_SIZE
    libc = ctypes.CDLL(None, use_errno=True)
    fn = libc.fallocate
    fn.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]

    def call(fd):
        if fn(fd, mode, int(off), int(length)) != 0:
            die("fallocate", ctypes.get_errno())
    with_wronly("fallocate", path, call)


def main():
    op, args = sys.argv[1], sys.argv[2:]
    {
        "renameat2": renameat2,
        "open": do_open,
        "write-fsync": write_fsync,
        "mksock": mksock,
        "unlink-open": unlink_open,
        "dirents": dirents,
        "size-max": size_max,
        "truncate": do_truncate,
        "ftruncate": do_ftruncate,
        "pwrite": do_pwrite,
        "fallocate": do_fallocate,
    }[op](*args)


if __name__ == "__main__":
    main()
