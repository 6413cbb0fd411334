#!/usr/bin/env python3
"""journaltool.py — the audit journal tests' helpers (t6100, t6200).

  recv unix PATH OUT [MS]    a syslog collector: binds a unix datagram socket
                             at PATH and appends each datagram to OUT as one
                             line (taking MS milliseconds over each, to be a
                             slow one); runs until killed
  recv udp PORTFILE OUT      the same on 127.0.0.1, port chosen by the kernel
                             and written to PORTFILE
  tamper META OP [N]         rewrites the LMDB environment META (no daemon
                             may run) the way an administrator holding the
                             store's files could, with mdb_dump/mdb_load:
                               edit N      change record N's details and
                                           re-hash the chain and the head
                               delete N    remove record N, renumber the
                                           later ones, re-hash, move the head
                               cut N       remove the records after N, leave
                                           the head alone
                               cut-head N  remove the records after N and
                                           move the head to N
  stream FILE                prints the parsed mirror messages in FILE as JSON
                             (seq, hash, prev, journal, event, eir, time,
                             header fields), one object per line of ours;
                             other lines are skipped; exits 1 when a line
                             claiming to be ours does not parse as RFC 5424
  segment FILE               checks a segment `enrpctl audit export` wrote,
                             independently of enrpctl: SHA-256 of each
                             record's base64-decoded bytes against its hash
                             line, the seq and previous-hash fields decoded
                             here, the chain from the anchor line, and the
                             end line; prints "ok FIRST LAST SEQ:HASH" or
                             "bad SEQ: why" (exit 1)

The record layout follows core/record.c (rec_journal_encode): version u8,
seq u64, time u64, uid u32, pid u32, (version 2: login uid u32, sudo uid
u32), then command, (version 2: sudo user), eir, event and details as
u16-length strings, then the previous record's SHA-256; all big-endian.  The
head (meta "journal_head") is version u8, seq u64, hash[32].
"""
import hashlib
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import time


def recv(kind, where, out, delay_ms=0):
    if kind == "unix":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(where)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        with open(where + ".tmp", "w") as f:
            f.write("%d\n" % s.getsockname()[1])
        os.rename(where + ".tmp", where)
    with open(out, "ab", buffering=0) as f:
        while True:
            f.write(s.recv(65536) + b"\n")
            if delay_ms:
                time.sleep(delay_ms / 1000)


# ---- LMDB records ----------------------------------------------------------

def decode(val):
    o = 0
    ver, seq, t, uid, pid = struct.unpack_from(">BQQII", val, o)
    o += struct.calcsize(">BQQII")
    luid = suid = None
    if ver == 2:
        luid, suid = struct.unpack_from(">II", val, o)
        o += 8
    strs = []
    for _ in range(5 if ver == 2 else 4):
        (n,) = struct.unpack_from(">H", val, o)
        o += 2
        strs.append(val[o:o + n])
        o += n
    prev = val[o:o + 32]
    if ver not in (1, 2) or len(prev) != 32 or o + 32 != len(val):
        sys.exit("journaltool: record %d does not decode" % seq)
    if ver == 1:
        strs.insert(1, b"")
    return {"ver": ver, "seq": seq, "time": t, "uid": uid, "pid": pid,
            "login_uid": luid, "sudo_uid": suid, "command": strs[0],
            "sudo_user": strs[1], "eir": strs[2], "event": strs[3],
            "details": strs[4], "prev": prev}


def encode(r):
    b = struct.pack(">BQQII", r["ver"], r["seq"], r["time"], r["uid"], r["pid"])
    keys = ("command", "eir", "event", "details")
    if r["ver"] == 2:
        b += struct.pack(">II", r["login_uid"], r["sudo_uid"])
        keys = ("command", "sudo_user", "eir", "event", "details")
    for k in keys:
        b += struct.pack(">H", len(r[k])) + r[k]
    return b + r["prev"]


def tamper(meta, op, n):
    dump = subprocess.run(["mdb_dump", "-a", meta], check=True, capture_output=True,
                          text=True).stdout.splitlines()
    # Split into databases: header lines, then key/value hex pairs.
    dbs, cur = [], None
    for line in dump:
        if line.startswith("VERSION="):
            cur = {"header": [line], "pairs": [], "in_data": False}
            dbs.append(cur)
        elif line == "HEADER=END":
            cur["header"].append(line)
            cur["in_data"] = True
            cur["pending"] = None
        elif line == "DATA=END":
            cur["in_data"] = False
        elif cur["in_data"]:
            if cur["pending"] is None:
                cur["pending"] = bytes.fromhex(line.strip())
            else:
                cur["pairs"].append([cur["pending"], bytes.fromhex(line.strip())])
                cur["pending"] = None
        else:
            cur["header"].append(line)

    def db(name):
        for d in dbs:
            if "database=%s" % name in d["header"]:
                return d
        sys.exit("journaltool: no database %s" % name)

    jdb, meta_db = db("journal"), db("meta")
    recs = [decode(v) for k, v in sorted(jdb["pairs"])]
    if [r["seq"] for r in recs] != list(range(1, len(recs) + 1)):
        sys.exit("journaltool: the journal has gaps before tampering")
    if not 1 <= n <= len(recs):
        sys.exit("journaltool: no record %d (%d records)" % (n, len(recs)))
    move_head = True
    if op == "edit":
        d = recs[n - 1]["details"]
        # A different, plausible value: a mode changed back, a class lowered.
        recs[n - 1]["details"] = (d.replace(b"->ro", b"->rw") if b"->ro" in d
                                  else d + b" edited=yes")
    elif op == "delete":
        del recs[n - 1]
        for i, r in enumerate(recs):
            r["seq"] = i + 1
    elif op in ("cut", "cut-head"):
        recs = recs[:n]
        move_head = op == "cut-head"
    else:
        sys.exit("journaltool: unknown tamper op %s" % op)
    prev = bytes(32)
    pairs = []
    for r in recs:
        if op != "cut":
            r["prev"] = prev  # re-hash: each record chains to the one before
        v = encode(r)
        prev = hashlib.sha256(v).digest()
        pairs.append([struct.pack(">Q", r["seq"]), v])
    jdb["pairs"] = pairs
    if move_head:
        for p in meta_db["pairs"]:
            if p[0] == b"journal_head":
                p[1] = struct.pack(">BQ", 1, len(recs)) + prev
    text = []
    for d in dbs:
        text += d["header"]
        for k, v in d["pairs"]:
            text += [" " + k.hex(), " " + v.hex()]
        text.append("DATA=END")
    with open(meta + ".dump", "w") as f:
        f.write("\n".join(text) + "\n")
    new = meta + ".new"
    shutil.rmtree(new, ignore_errors=True)
    os.mkdir(new)
    subprocess.run(["mdb_load", "-f", meta + ".dump", new], check=True)
    for name in os.listdir(meta):
        os.unlink(os.path.join(meta, name))
    for name in os.listdir(new):
        shutil.move(os.path.join(new, name), os.path.join(meta, name))
    os.rmdir(new)
    os.unlink(meta + ".dump")


# ---- the stream ------------------------------------------------------------

HEADER = re.compile(rb"^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) ")


def parse_sd(b):
    """The SD-ELEMENTs at the start of B: ([(id, {name: value})], rest)."""
    elems = []
    i = 0
    while i < len(b) and b[i:i + 1] == b"[":
        j = i + 1
        while b[j:j + 1] not in (b" ", b"]"):
            j += 1
        sdid, params = b[i + 1:j].decode(), {}
        i = j
        while b[i:i + 1] == b" ":
            eq = b.index(b"=", i)
            name = b[i + 1:eq].decode()
            if b[eq + 1:eq + 2] != b'"':
                raise ValueError("no quote")
            k, val = eq + 2, bytearray()
            while True:
                c = b[k:k + 1]
                if c == b"":
                    raise ValueError("unterminated value")
                if c == b"\\" and b[k + 1:k + 2] in (b'"', b"\\", b"]"):
                    val += b[k + 1:k + 2]
                    k += 2
                    continue
                if c == b'"':
                    break
                if c == b"]":
                    raise ValueError("unescaped ]")
                val += c
                k += 1
            params[name] = val.decode()
            i = k + 1
        if b[i:i + 1] != b"]":
            raise ValueError("element not closed")
        elems.append((sdid, params))
        i += 1
    return elems, b[i:]


def stream(path):
    bad = 0
    with open(path, "rb") as f:
        for no, line in enumerate(f, 1):
            line = line.rstrip(b"\n")
            if b"[enrp@32473" not in line and b"[enrpAlarm@32473" not in line:
                continue
            m = HEADER.match(line)
            try:
                if not m:
                    raise ValueError("no RFC 5424 header")
                elems, rest = parse_sd(line[m.end():])
                if not elems or (rest and not rest.startswith(b" ")):
                    raise ValueError("no structured data")
            except (ValueError, IndexError) as e:
                print("line %d: %s" % (no, e), file=sys.stderr)
                bad += 1
                continue
            sdid, p = elems[0]
            out = dict(p)
            out.update({"line": no, "sdid": sdid, "pri": int(m.group(1)),
                        "timestamp": m.group(2).decode(), "host": m.group(3).decode(),
                        "app": m.group(4).decode(), "procid": m.group(5).decode(),
                        "msgid": m.group(6).decode(),
                        "msg": rest[1:].decode("utf-8", "replace")})
            print(json.dumps(out))
    sys.exit(1 if bad else 0)


def segment(path):
    import base64
    lines = open(path, "rb").read().decode().split("\n")
    if lines[-1] != "":
        sys.exit("bad ?: no newline at the end")
    lines = lines[:-1]
    if lines[0] != "enrp-journal-segment 1":
        sys.exit("bad ?: not a segment")
    hdr = dict(ln.split(" ", 1) for ln in lines[1:4])
    aseq, ahash = hdr["anchor"].split(":")
    prev, expect, first = bytes.fromhex(ahash), int(aseq) + 1, None
    for ln in lines[4:-1]:
        kw, seq, h, b64 = ln.split(" ")
        seq, val = int(seq), base64.b64decode(b64, validate=True)
        if kw != "record" or seq != expect:
            print("bad %d: record %d expected, line holds %s %d" % (expect, expect, kw, seq))
            sys.exit(1)
        if hashlib.sha256(val).hexdigest() != h:
            print("bad %d: hash" % seq)
            sys.exit(1)
        r = decode(val)
        if r["seq"] != seq or r["prev"] != prev:
            print("bad %d: seq field or previous-hash" % seq)
            sys.exit(1)
        first = first or seq
        prev, expect = bytes.fromhex(h), seq + 1
    kw, count, last = lines[-1].split(" ")
    if kw != "end" or int(count) != expect - first or last != "%d:%s" % (expect - 1, prev.hex()):
        print("bad %d: end line" % expect)
        sys.exit(1)
    print("ok %d %d %s" % (first, expect - 1, last))


def main():
    a = sys.argv[1:]
    if len(a) in (4, 5) and a[0] == "recv":
        recv(a[1], a[2], a[3], int(a[4]) if len(a) == 5 else 0)
    elif len(a) == 4 and a[0] == "tamper":
        tamper(a[1], a[2], int(a[3]))
    elif len(a) == 2 and a[0] == "stream":
        stream(a[1])
    elif len(a) == 2 and a[0] == "segment":
        segment(a[1])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
