#!/usr/bin/env python3
"""integ9.py — data generators for the t9xxx integrity tests.

  gen SEED SIZE                 SIZE pseudo-random bytes (seeded) on stdout
  sqldump SEED DAY OUT          day DAY (0..) of a synthetic SQL dump to OUT
  flipbyte FILE [OFFSET]        xor one byte of FILE with 0xff (default: middle)

The SQL dump: day 0 holds about 64 MiB of INSERT lines with varied, not
trivially compressible fields; every later day rewrites about ten contiguous
runs of rows (about 1 % of all rows in total) and appends about 0.5 % new
rows.  The same SEED and DAY always give the same bytes.
"""
import os
import random
import sys


def gen(seed, size):
    rnd = random.Random(int(seed))
    out = sys.stdout.buffer
    left = int(size)
    while left > 0:
        n = min(left, 1 << 20)
        out.write(rnd.randbytes(n))
        left -= n
    out.flush()


WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo "
         "lima mike november oscar papa quebec romeo sierra tango uniform "
         "victor whiskey xray yankee zulu").split()
CITIES = ("Almaty Astana Shymkent Karaganda Aktobe Taraz Pavlodar Oskemen "
          "Semey Atyrau Kostanay Kyzylorda Oral Petropavl Aktau Temirtau").split()


def row(rnd, rid, version):
    name = "%s %s" % (rnd.choice(WORDS).capitalize(), rnd.choice(WORDS).capitalize())
    email = "%s.%d@%s.example" % (rnd.choice(WORDS), rnd.randrange(10 ** 6), rnd.choice(WORDS))
    token = "%032x" % rnd.getrandbits(128)
    note = " ".join(rnd.choice(WORDS) for _ in range(rnd.randrange(2, 9)))
    return ("INSERT INTO accounts (id, name, email, city, balance, score, token, note, rev) "
            "VALUES (%d, '%s', '%s', '%s', %d.%02d, %.6f, '%s', '%s', %d);\n" % (
                rid, name, email, rnd.choice(CITIES), rnd.randrange(10 ** 7),
                rnd.randrange(100), rnd.random() * 1000, token, note, version))


def sqldump(seed, day, outpath):
    seed = int(seed)
    day = int(day)
    target = 64 << 20
    # Day 0: enough rows for ~64 MiB (rows average ~230 bytes).
    base = random.Random(seed)
    sample = sum(len(row(random.Random(i), i, 0)) for i in range(2000)) / 2000.0
    nrows0 = int(target / sample)
    versions = {}      # row id -> version (rows rewritten later)
    nrows = nrows0
    for d in range(1, day + 1):
        drnd = random.Random(seed * 1000 + d)
        per_run = max(1, nrows // 100 // 10)
        for _ in range(10):
            start = drnd.randrange(0, nrows - per_run)
            for rid in range(start, start + per_run):
                versions[rid] = d
        nrows += max(1, nrows0 // 200)
    with open(outpath, "w") as fh:
        fh.write("-- synthetic dump, seed %d, day %d\nBEGIN;\n" % (seed, day))
        for rid in range(nrows):
            v = versions.get(rid, 0)
            fh.write(row(random.Random((seed << 40) ^ (rid << 8) ^ v), rid, v))
        fh.write("COMMIT;\n")
    del base


def flipbyte(path, offset=None):
    size = os.path.getsize(path)
    off = size // 2 if offset is None else int(offset)
    with open(path, "r+b") as fh:
        fh.seek(off)
        b = fh.read(1)
        fh.seek(off)
        fh.write(bytes([b[0] ^ 0xFF]))


def main():
    op, args = sys.argv[1], sys.argv[2:]
    {"gen": gen, "sqldump": sqldump, "flipbyte": flipbyte}[op](*args)


if __name__ == "__main__":
    main()
