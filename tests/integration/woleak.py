#!/usr/bin/env python3
"""woleak.py — attacks on the write-only promise (DESIGN §4), for t2300/t2310.

  woleak.py worker          serve commands on stdin as the calling account
  woleak.py readback CTL STORE EIR RWEIR USER
                            t2300: no byte of a wo file comes back, by any path
  woleak.py checksum CTL STORE EIR USER
                            t2310: no checksum of a mix of known and unknown bytes

The drivers run as root and talk to workers, one per account, that keep
their descriptors open across mode switches (a descriptor opened before a
switch to wo is one of the attacks).  Each worker command is one JSON line;
the answer is one JSON line.  Every check prints "ok|..." or "fail|...".
"""
import atexit
import errno
import fcntl
import hashlib
import json
import mmap
import os
import signal
import subprocess
import sys
import time

from driver import verified_sha

FICLONE = 0x40049409
FICLONERANGE = 0x4020940D


# ---- the worker: runs as the attacking (or writing) account ----------------

def child_read_mmap(fd, size, flags):
    """Maps FD in a child (a fault may be SIGBUS) and returns what it read."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            m = mmap.mmap(fd, size, flags=flags, prot=mmap.PROT_READ)
            data = m[:size]
            os.write(w, b"D" + data)
        except OSError as e:
            os.write(w, b"E" + str(e.errno).encode())
        os._exit(0)
    os.close(w)
    out = b""
    while True:
        b = os.read(r, 65536)
        if not b:
            break
        out += b
    os.close(r)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return {"signal": os.WTERMSIG(status)}
    if out[:1] == b"D":
        return {"data": out[1:].hex()}
    if out[:1] == b"E":
        return {"errno": int(out[1:])}
    return {"errno": -1}


def worker():
    fds = {}
    next_id = 1
    for line in sys.stdin:
        req = json.loads(line)
        op = req["op"]
        res = {}
        try:
            if op == "open":
                flags = 0
                for f in req["flags"]:
                    flags |= getattr(os, f)
                fd = os.open(req["path"], flags, 0o644)
                fds[next_id] = fd
                res["h"] = next_id
                next_id += 1
            elif op == "close":
                os.close(fds.pop(req["h"]))
            elif op == "pwrite":
                res["n"] = os.pwrite(fds[req["h"]], bytes.fromhex(req["data"]), req["off"])
            elif op == "futimens":
                os.utime(fds[req["h"]], None)
            elif op == "fchmod":
                os.fchmod(fds[req["h"]], req["mode"])
            elif op == "ftruncate":
                os.ftruncate(fds[req["h"]], req["size"])
            elif op == "fsize":
                res["size"] = os.fstat(fds[req["h"]]).st_size
            elif op == "fallocate":
                import ctypes
                libc = ctypes.CDLL(None, use_errno=True)
                libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64,
                                           ctypes.c_int64]
                if libc.fallocate(fds[req["h"]], req["mode"], req["off"], req["len"]) != 0:
                    raise OSError(ctypes.get_errno(), "fallocate")
            elif op == "read":
                res.update(read_path(fds[req["h"]], req["how"], req.get("dst"), req["size"]))
            else:
                res["errno"] = errno.EINVAL
        except OSError as e:
            res["errno"] = e.errno
        print(json.dumps(res), flush=True)


def read_path(fd, how, dst, size):
    """One way of getting bytes out of FD; returns {"data": hex} or an error."""
    if how == "read":
        os.lseek(fd, 0, os.SEEK_SET)
        return {"data": os.read(fd, size).hex()}
    if how == "pread":
        return {"data": os.pread(fd, size, 0).hex()}
    if how == "readv":
        os.lseek(fd, 0, os.SEEK_SET)
        a, b = bytearray(size // 2 or 1), bytearray(size - size // 2 or 1)
        n = os.readv(fd, [a, b])
        return {"data": bytes((a + b)[:n]).hex()}
    if how == "preadv2":
        a = bytearray(size)
        n = os.preadv(fd, [a], 0, 0)
        return {"data": bytes(a[:n]).hex()}
    if how == "fadvise-pread":
        os.posix_fadvise(fd, 0, size, os.POSIX_FADV_WILLNEED)
        time.sleep(0.05)
        return {"data": os.pread(fd, size, 0).hex()}
    if how == "mmap-shared":
        return child_read_mmap(fd, size, mmap.MAP_SHARED)
    if how == "mmap-private":
        return child_read_mmap(fd, size, mmap.MAP_PRIVATE)
    if how == "sendfile":
        out = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            n = os.sendfile(out, fd, 0, size)
        finally:
            os.close(out)
        return {"n": n, "dst": dst}
    if how == "splice":
        r, w = os.pipe()
        try:
            n = os.splice(fd, w, size, offset_src=0)
            data = os.read(r, n) if n else b""
        finally:
            os.close(r)
            os.close(w)
        return {"data": data.hex()}
    if how == "copy_file_range":
        out = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            n = os.copy_file_range(fd, out, size, 0, 0)
        finally:
            os.close(out)
        return {"n": n, "dst": dst}
    if how in ("ficlone", "ficlonerange"):
        out = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            if how == "ficlone":
                fcntl.ioctl(out, FICLONE, fd)
            else:
                import struct
                fcntl.ioctl(out, FICLONERANGE, struct.pack("qQQQ", fd, 0, size, 0))
        finally:
            os.close(out)
        return {"n": -1, "dst": dst}
    return {"errno": errno.EINVAL}


# ---- the drivers: run as root --------------------------------------------

class Worker:
    def __init__(self, user):
        cmd = [sys.executable, os.path.abspath(__file__), "worker"]
        if user != "root":
            gid = subprocess.run(["id", "-g", user], capture_output=True, text=True,
                                 check=True).stdout.strip()
            cmd = ["setpriv", "--reuid=" + user, "--regid=" + gid, "--init-groups", "--"] + cmd
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                  env={"PATH": "/usr/bin:/bin", "HOME": "/"})

    def __call__(self, op, **kw):
        kw["op"] = op
        self.p.stdin.write(json.dumps(kw) + "\n")
        self.p.stdin.flush()
        return json.loads(self.p.stdout.readline())

    def close(self):
        self.p.stdin.close()
        self.p.wait()


FAILS = 0


def say(ok, what):
    global FAILS
    if not ok:
        FAILS += 1
    print(("ok|" if ok else "fail|") + what, flush=True)


def ename(res):
    e = res.get("errno")
    return errno.errorcode.get(e, str(e)) if e is not None else "ok"


class Driver:
    def __init__(self, ctl, store, eir):
        self.ctl, self.store, self.eir = ctl, store, eir

    def mode(self, name, m):
        subprocess.run([self.ctl, "-S", self.store, "eir", "set", name, "--mode", m], check=True,
                       stdout=subprocess.DEVNULL)

    def wait_verified(self, path, timeout=60):
        return verified_sha(path, timeout)


READ_PATHS = ["read", "pread", "readv", "preadv2", "fadvise-pread", "mmap-shared",
              "mmap-private", "sendfile", "splice", "copy_file_range", "ficlone",
              "ficlonerange"]


def leaked(res, dstdir_files):
    """Bytes that came back through RES, or None if none did."""
    if res.get("data"):
        return bytes.fromhex(res["data"])
    dst = res.get("dst")
    if dst and os.path.exists(dst):
        with open(dst, "rb") as f:
            data = f.read()
        os.unlink(dst)
        if data:
            return data
    if res.get("n", 0) > 0:
        return b"?"
    return None


def readback(ctl, store, eir_dir, rw_dir, user):
    """No byte of a file in a wo EIR reaches any process, by any path."""
    d = Driver(ctl, store, eir_dir)
    eir = os.path.basename(eir_dir)
    alice, root = Worker(user), Worker("root")
    size = 3 * 4096 + 100
    dsts = [os.path.join(rw_dir, "copy"), "/tmp/woleak-copy.%d" % os.getpid()]
    atexit.register(lambda: os.path.exists(dsts[1]) and os.unlink(dsts[1]))
    # Handle origins x what happened to the file before the reads.
    origins = ["create-rdwr-in-wo", "rdwr-opened-in-rw", "rdonly-opened-in-rw",
               "create-rdwr-in-rw"]
    befores = ["nothing", "futimens", "fchmod", "ftruncate-same", "root-writes-later",
               "root-appends-uncached"]
    n = 0
    for origin in origins:
        for before in befores:
            n += 1
            path = os.path.join(eir_dir, "f%02d" % n)
            mine = os.urandom(size)
            theirs = os.urandom(4096)
            d.mode(eir, "rw")
            rh = None
            if origin == "create-rdwr-in-wo":
                d.mode(eir, "wo")
                h = alice("open", path=path, flags=["O_RDWR", "O_CREAT", "O_EXCL"])["h"]
                alice("pwrite", h=h, off=0, data=mine.hex())
            elif origin == "create-rdwr-in-rw":
                h = alice("open", path=path, flags=["O_RDWR", "O_CREAT", "O_EXCL"])["h"]
                alice("pwrite", h=h, off=0, data=mine.hex())
                alice("read", h=h, how="pread", size=size)  # into the page cache
                d.mode(eir, "wo")
            else:
                with open(path, "wb") as f:
                    f.write(mine)
                os.chown(path, int(subprocess.run(["id", "-u", user], capture_output=True,
                                                  text=True).stdout), -1)
                flags = ["O_RDWR"] if origin.startswith("rdwr") else ["O_RDONLY"]
                h = alice("open", path=path, flags=flags)["h"]
                alice("read", h=h, how="pread", size=size)  # into the page cache
                if before == "root-writes-later":
                    rh = root("open", path=path, flags=["O_WRONLY"])["h"]
                d.mode(eir, "wo")
            # Each way of reading gets its own fresh try: a write (the
            # attacker's own bytes — even those must not come back), then
            # what happened before the read (a setattr keeps the kernel from
            # noticing the write; another writer adds bytes), then the read.
            for how in READ_PATHS:
                for dst in dsts if how in ("sendfile", "copy_file_range", "ficlone",
                                           "ficlonerange") else [None]:
                    alice("pwrite", h=h, off=0, data=mine[:4096].hex())
                    if before == "futimens":
                        alice("futimens", h=h)
                    elif before == "fchmod":
                        alice("fchmod", h=h, mode=0o640)
                    elif before == "ftruncate-same":
                        alice("ftruncate", h=h, size=alice("fsize", h=h).get("size", size))
                    elif before == "root-writes-later":
                        if rh is None:
                            rh = root("open", path=path, flags=["O_WRONLY"])["h"]
                        root("pwrite", h=rh, off=4096, data=theirs.hex())
                    elif before == "root-appends-uncached":
                        ah = root("open", path=path, flags=["O_WRONLY", "O_APPEND"])["h"]
                        root("pwrite", h=ah, off=0, data=theirs.hex())
                        root("close", h=ah)
                    res = alice("read", h=h, how=how, dst=dst, size=size + 8192)
                    got = leaked(res, dsts)
                    where = " -> %s" % ("the owner's rw EIR" if dst == dsts[0] else "/tmp") \
                        if dst else ""
                    say(got is None,
                        "%s, write, %s, then %s%s: %s" % (
                            origin, before, how, where,
                            "no byte comes back (%s)" % (
                                ename(res) if "signal" not in res else
                                "signal %d" % res["signal"])
                            if got is None else "%d bytes came back" % len(got)))
            if rh is not None:
                root("close", h=rh)
            # A new handle: reading opens are refused, a write-only one cannot read.
            for flags in (["O_RDONLY"], ["O_RDWR"]):
                res = alice("open", path=path, flags=flags)
                say("errno" in res and res["errno"] == errno.EACCES,
                    "%s, %s: a fresh open %s is refused (%s)" % (origin, before, flags[0],
                                                                 ename(res)))
                if "h" in res:
                    alice("close", h=res["h"])
            alice("close", h=h)
    # Nothing the reads wanted was served without the daemon seeing it: the
    # journal has the denials (checked by the shell).
    alice.close()
    root.close()


def checksum(ctl, store, eir_dir, user):
    """No operation allowed in wo tells anything about bytes the caller cannot read."""
    d = Driver(ctl, store, eir_dir)
    eir = os.path.basename(eir_dir)
    alice, root = Worker(user), Worker("root")
    uid = int(subprocess.run(["id", "-u", user], capture_output=True, text=True).stdout)
    pin = os.urandom(8)
    secret = b"config: pin=" + pin + b"\n" + os.urandom(5000)
    path = os.path.join(eir_dir, "secret.conf")
    d.mode(eir, "rw")
    with open(path, "wb") as f:
        f.write(secret)
    os.chown(path, uid, -1)
    want = hashlib.sha256(secret).hexdigest()
    got = d.wait_verified(path)
    say(got == want, "the secret file is verified with its checksum")
    d.mode(eir, "wo")
    k = secret.index(pin)

    # The attack of the issue: overwrite byte k with each guess, wait for the
    # seal, compare the checksum.  Every attempt must be refused, and the
    # checksum never move.
    refused = 0
    for guess in range(256):
        res = alice("open", path=path, flags=["O_WRONLY"])
        if "h" not in res:
            continue
        h = res["h"]
        w = alice("pwrite", h=h, off=k, data=bytes([guess]).hex())
        refused += w.get("errno") == errno.EACCES
        alice("close", h=h)
    say(refused == 256, "256 guesses of one byte written in place: all refused (%d)" % refused)
    say(d.wait_verified(path, 5) == want, "the checksum is the original's")

    # Every other way to change or cut bytes the caller did not write.
    h = alice("open", path=path, flags=["O_WRONLY"])["h"]
    for what, op, kw in [
        ("ftruncate shorter", "ftruncate", {"size": k + 1}),
        ("ftruncate to 1 byte", "ftruncate", {"size": 1}),
        ("punch a hole over the pin", "fallocate", {"mode": 0x01 | 0x02, "off": k, "len": 1}),
        ("zero range over the pin", "fallocate", {"mode": 0x10, "off": k, "len": 1}),
        ("collapse range", "fallocate", {"mode": 0x08, "off": 0, "len": 4096}),
        ("insert range", "fallocate", {"mode": 0x20, "off": 0, "len": 4096}),
        ("pwrite straddling the end", "pwrite", {"off": len(secret) - 1,
                                                  "data": b"XY".hex()}),
    ]:
        res = alice(op, h=h, **kw)
        say(res.get("errno") in (errno.EACCES, errno.EOPNOTSUPP),
            "in wo, %s over bytes the caller did not write is refused (%s)" % (what, ename(res)))
    alice("close", h=h)
    for what, cmd in [
        ("truncate -s", ["truncate", "-s", str(k + 1), path]),
        ("dd conv=notrunc seek", ["sh", "-c", "printf Z | dd of=%s bs=1 seek=%d conv=notrunc"
                                  " status=none" % (path, k)]),
    ]:
        r = subprocess.run(["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--init-groups",
                            "--"] + cmd, capture_output=True, text=True)
        say(r.returncode != 0 and "Permission denied" in r.stderr,
            "in wo, %s of an existing file is refused: %s" % (what, r.stderr.strip()[:120]))
    say(os.path.getsize(path) == len(secret), "the file keeps its size")
    say(d.wait_verified(path, 5) == want, "and its checksum")

    # Appending reveals nothing new: the checksum of secret + known suffix can
    # be computed from the checksum of the secret alone.
    res = alice("open", path=path, flags=["O_WRONLY", "O_APPEND"])
    h = res["h"]
    say("errno" not in alice("pwrite", h=h, off=len(secret), data=b"tail\n".hex()),
        "appending to an existing file is allowed in wo")
    alice("close", h=h)
    d.mode(eir, "rw")
    with open(path, "rb") as f:
        say(f.read() == secret + b"tail\n", "the append landed after the untouched secret")
    d.mode(eir, "wo")

    # What owners need keeps working: a new file rewritten in its own session
    # (pg_dump -Fc writes its table of contents last, at the start).
    p2 = os.path.join(eir_dir, "dump.custom")
    h = alice("open", path=p2, flags=["O_WRONLY", "O_CREAT", "O_TRUNC"])["h"]
    body = os.urandom(100000)
    alice("pwrite", h=h, off=0, data=(b"\0" * 512).hex())
    alice("pwrite", h=h, off=512, data=body.hex())
    r = alice("pwrite", h=h, off=0, data=(b"TOC" * 100).hex())
    say("errno" not in r, "the writer of a new file rewrites its own header (%s)" % ename(r))
    r = alice("ftruncate", h=h, size=512 + len(body) - 10)
    say("errno" not in r, "and may cut what it wrote itself (%s)" % ename(r))
    alice("close", h=h)
    expect = (b"TOC" * 100 + b"\0" * 212 + body)[:512 + len(body) - 10]
    say(d.wait_verified(p2) == hashlib.sha256(expect).hexdigest(),
        "its verified checksum is that of what it wrote")
    # Once that session ended, the file is like any other.
    h = alice("open", path=p2, flags=["O_WRONLY"])["h"]
    r = alice("pwrite", h=h, off=0, data=b"X".hex())
    say(r.get("errno") == errno.EACCES, "after its session, rewriting it is refused (%s)" %
        ename(r))
    alice("close", h=h)
    # O_TRUNC replaces the whole file: a new session.
    h = alice("open", path=p2, flags=["O_WRONLY", "O_TRUNC"])["h"]
    r1 = alice("pwrite", h=h, off=0, data=b"new".hex())
    r2 = alice("pwrite", h=h, off=0, data=b"NEW".hex())
    say("errno" not in r1 and "errno" not in r2, "O_TRUNC starts a new session")
    alice("close", h=h)
    say(d.wait_verified(p2) == hashlib.sha256(b"NEW").hexdigest(), "and seals what it wrote")

    # Someone else's bytes inside a session end it: the writer may append
    # after them, never rewrite around them.
    p3 = os.path.join(eir_dir, "mixed")
    h = alice("open", path=p3, flags=["O_WRONLY", "O_CREAT", "O_EXCL"])["h"]
    alice("pwrite", h=h, off=0, data=(b"A" * 10).hex())
    rh = root("open", path=p3, flags=["O_WRONLY", "O_APPEND"])["h"]
    r = root("pwrite", h=rh, off=10, data=pin.hex())
    say("errno" not in r, "another account appends to a file being written (%s)" % ename(r))
    root("close", h=rh)
    r = alice("pwrite", h=h, off=10, data=b"?".hex())
    say(r.get("errno") == errno.EACCES,
        "then its first writer may not rewrite those bytes (%s)" % ename(r))
    r = alice("ftruncate", h=h, size=11)
    say(r.get("errno") == errno.EACCES, "nor cut them (%s)" % ename(r))
    r = alice("pwrite", h=h, off=0, data=b"?".hex())
    say(r.get("errno") == errno.EACCES, "nor its own earlier bytes any more (%s)" % ename(r))
    r = alice("pwrite", h=h, off=18, data=b"more".hex())
    say("errno" not in r, "but may append (%s)" % ename(r))
    alice("close", h=h)
    alice.close()
    root.close()


def main():
    if sys.argv[1] == "worker":
        worker()
        return
    if sys.argv[1] == "readback":
        readback(*sys.argv[2:7])
    elif sys.argv[1] == "checksum":
        checksum(*sys.argv[2:6])
    sys.exit(1 if FAILS else 0)


if __name__ == "__main__":
    main()
