#!/usr/bin/env python3
"""gen.py — deterministic data for tests/bench/run.

  dumps SEED SIZE DAYS OUTDIR   OUTDIR/day0.sql .. day<DAYS-1>.sql
  tree SEED NFILES OUTDIR       NFILES small text files under OUTDIR

The dumps look like a pg_dump of one big table (COPY ... FROM stdin, one
tab-separated row a line).  Day 0 is about SIZE bytes; every later day
rewrites ten contiguous runs of rows (about 1 % of all rows in total) with
new versions and appends about 0.5 % new rows, as a database does that
changes a little each day.  The same SEED always gives the same bytes.

Speed: rows are generated in blocks of BLOCK rows from one seeded PRNG per
block, from random bytes drawn in one call and sliced; later days splice
only the blocks they touch, so day N costs one write of the file.  Every
row is unique (id, token), so nothing dedups or compresses better than a
real dump would.
"""
import bisect
import os
import random
import sys
from array import array

BLOCK = 1024

WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo "
         "lima mike november oscar papa quebec romeo sierra tango uniform "
         "victor whiskey xray yankee zulu north south east west river lake "
         "hill stone field green black white red blue amber silver").split()
CITIES = ("Almaty Astana Shymkent Karaganda Aktobe Taraz Pavlodar Oskemen "
          "Semey Atyrau Kostanay Kyzylorda Oral Petropavl Aktau Temirtau").split()
STATUS = ("active", "closed", "frozen", "pending", "review")
NW, NC, NS = len(WORDS), len(CITIES), len(STATUS)
RB = 40  # random bytes per row


def rows(seed, rid0, n, ver):
    """n rows with ids rid0.. at version ver, as one bytes object, plus the
    offsets of their starts (and the end)."""
    rnd = random.Random((seed << 48) ^ (rid0 << 8) ^ ver)
    rb = rnd.randbytes(RB * n)
    out = []
    offs = array("I")
    pos = 0
    W, C, S = WORDS, CITIES, STATUS
    for i in range(n):
        b = rb[i * RB:(i + 1) * RB]
        nn = 2 + b[20] % 7
        note = " ".join([W[x % NW] for x in b[21:21 + nn]])
        line = ("%d\t%s %s\t%s.%d@%s.example\t%s\t%s\t%d.%02d\t%d\t%s\t%s\t"
                "2024-%02d-%02d %02d:%02d:%02d\t%d\n" % (
                    rid0 + i, W[b[0] % NW].capitalize(), W[b[1] % NW].capitalize(),
                    W[b[2] % NW], int.from_bytes(b[3:6], "little"), W[b[6] % NW],
                    C[b[7] % NC], S[b[8] % NS], int.from_bytes(b[9:12], "little"),
                    b[12] % 100, int.from_bytes(b[13:15], "little"),
                    b[30:40].hex(), note, 1 + b[15] % 12, 1 + b[16] % 28,
                    b[17] % 24, b[18] % 60, b[19] % 60, ver)).encode()
        offs.append(pos)
        pos += len(line)
        out.append(line)
    offs.append(pos)
    return b"".join(out), offs


class Block:
    __slots__ = ("data", "offs", "rid0", "n")

    def __init__(self, seed, rid0, n, ver):
        self.rid0, self.n = rid0, n
        self.data, self.offs = rows(seed, rid0, n, ver)

    def rewrite(self, seed, a, b, ver):
        """Rows a..b-1 (block-relative) get version ver."""
        mid, moffs = rows(seed, self.rid0 + a, b - a, ver)
        head = self.data[:self.offs[a]]
        tail = self.data[self.offs[b]:]
        self.data = head + mid + tail
        shift = len(head)
        delta = len(mid) - (self.offs[b] - self.offs[a])
        offs = self.offs
        new = array("I", offs[:a])
        new.extend(x + shift for x in moffs[:-1])
        new.extend(x + delta for x in offs[b:])
        self.offs = new


HEADER = (b"--\n-- PostgreSQL database dump (synthetic, enrp bench)\n--\n\n"
          b"CREATE TABLE public.accounts (\n    id bigint NOT NULL,\n"
          b"    name text, email text, city text, status text,\n"
          b"    balance numeric(12,2), score integer, token text, note text,\n"
          b"    updated_at timestamp without time zone, rev integer\n);\n\n"
          b"COPY public.accounts (id, name, email, city, status, balance, score, "
          b"token, note, updated_at, rev) FROM stdin;\n")
TRAILER = b"\\.\n\n--\n-- PostgreSQL database dump complete\n--\n"


def dumps(seed, size, days, outdir):
    seed, size, days = int(seed), int(size), int(days)
    probe, _ = rows(seed, 0, 2000, 0)
    nrows0 = max(BLOCK, int(size / (len(probe) / 2000.0)))
    blocks = []
    rid = 0
    while rid < nrows0:
        n = min(BLOCK, nrows0 - rid)
        blocks.append(Block(seed, rid, n, 0))
        rid += n
    nrows = nrows0
    starts = [b.rid0 for b in blocks]
    for day in range(days):
        if day > 0:
            drnd = random.Random(seed * 1000 + day)
            per_run = max(1, nrows // 100 // 10)
            for _ in range(10):
                start = drnd.randrange(0, nrows - per_run)
                end = start + per_run
                first = bisect.bisect_right(starts, start) - 1
                for blk in blocks[first:bisect.bisect_left(starts, end)]:
                    a = max(start, blk.rid0) - blk.rid0
                    b = min(end, blk.rid0 + blk.n) - blk.rid0
                    blk.rewrite(seed, a, b, day)
            add = max(1, nrows0 // 200)
            while add > 0:
                n = min(BLOCK, add)
                blocks.append(Block(seed, nrows, n, day))
                nrows += n
                add -= n
            starts = [b.rid0 for b in blocks]
        path = os.path.join(outdir, "day%d.sql" % day)
        with open(path + ".tmp", "wb") as fh:
            fh.write(HEADER)
            for i in range(0, len(blocks), 256):
                fh.write(b"".join(b.data for b in blocks[i:i + 256]))
            fh.write(TRAILER)
        os.rename(path + ".tmp", path)


def tree(seed, nfiles, outdir):
    """nfiles files of 0..32 KiB (mostly small) in a two-level tree of
    about 100 files a directory, plus a few larger ones."""
    rnd = random.Random(int(seed))
    nfiles = int(nfiles)
    pool = rows(int(seed), 10 ** 9, 4096, 0)[0]  # ~600 KiB of text
    per_dir = 100
    ndirs = (nfiles + per_dir - 1) // per_dir
    made = 0
    for d in range(ndirs):
        dpath = os.path.join(outdir, "d%02d" % (d % 20), "s%04d" % d)
        os.makedirs(dpath, exist_ok=True)
        for f in range(min(per_dir, nfiles - made)):
            r = rnd.random()
            size = int(r * r * 16384) if f % 50 else rnd.randrange(65536, 262144)
            off = rnd.randrange(0, len(pool) - size)
            data = pool[off:off + size]
            with open(os.path.join(dpath, "f%05d.%s" % (made, ("txt", "c", "json", "log")[f % 4])), "wb") as fh:
                fh.write(data)
            made += 1


def main():
    op, args = sys.argv[1], sys.argv[2:]
    {"dumps": dumps, "tree": tree}[op](*args)


if __name__ == "__main__":
    main()
