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
"""
import ctypes
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


def main():
    op, args = sys.argv[1], sys.argv[2:]
    {
        "renameat2": renameat2,
        "open": do_open,
        "write-fsync": write_fsync,
        "mksock": mksock,
        "unlink-open": unlink_open,
    }[op](*args)


if __name__ == "__main__":
    main()
