#!/usr/bin/python3
"""retention_borg.py — the borg side of t5100-retention-borg.sh.

  gen SEED N            N distinct whole-second timestamps ("ID UNIX_SECONDS"),
                        spread over 2020-10 .. 2024-04 with clusters at the
                        edges the rules care about (ISO week 53, month and
                        year ends, Berlin's DST nights, Almaty's 2024 change)
  create REPO SRC       reads "ID UNIX_SECONDS" lines and makes archive sID
                        of SRC for each with borg create --timestamp, in one
                        process (a borg per archive costs ~0.45 s here; this
                        ~0.15 s)
  parse                 reads `borg prune --dry-run --list` output, prints
                        "ID RULE #N" or "ID prune" per archive, sorted by ID
"""
import random
import re
import sys
from datetime import datetime, timezone


def ts(s):
    return int(datetime.strptime(s, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc).timestamp())


def gen(seed, n):
    rnd = random.Random(seed)
    # (start UTC, span in seconds, count): clusters around the edges.
    clusters = [
        ("2020-12-30 20:00:00", 6 * 86400, 10),   # 2020-W53 -> 2021-W01
        ("2021-10-31 00:00:00", 3 * 3600, 8),     # Berlin: CEST -> CET, 02:xx twice
        ("2022-03-27 00:00:00", 2 * 3600, 5),     # Berlin: CET -> CEST
        ("2022-01-31 17:00:00", 10 * 3600, 8),    # month end: Almaty midnight, UTC midnight
        ("2021-12-31 17:00:00", 9 * 3600, 8),     # year end in every zone
        ("2024-02-29 16:00:00", 30 * 3600, 8),    # leap day, Almaty +06 -> +05
        ("2022-06-15 10:00:00", 3600, 10),        # a burst within one hour
        ("2023-05-31 20:00:00", 5 * 3600, 6),     # month end in Berlin summer
    ]
    seen = set()
    out = []
    for start, span, count in clusters:
        t0 = ts(start)
        for _ in range(count):
            seen.add(t0 + rnd.randrange(span))
    lo, hi = ts("2020-10-01 00:00:00"), ts("2024-04-30 00:00:00")
    while len(seen) < n:
        seen.add(rnd.randrange(lo, hi))
    for i, t in enumerate(sorted(seen)):
        out.append("%d %d" % (i + 1, t))
    print("\n".join(out))


def create(repo, src):
    from borg.archiver import Archiver
    for line in sys.stdin:
        ident, secs = line.split()
        stamp = datetime.fromtimestamp(int(secs), timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        a = Archiver()
        args = a.get_args(["borg", "create", "--timestamp", stamp,
                           "%s::s%s" % (repo, ident), src], None)
        rc = a.run(args)
        if rc:
            sys.exit("borg create s%s: exit %d" % (ident, rc))


def parse():
    keep = re.compile(r"^Keeping archive \(rule: (\S+) #(\d+)\):\s+s(\d+)\s")
    prune = re.compile(r"^Would prune:\s+s(\d+)\s")
    rows = {}
    for line in sys.stdin:
        m = keep.match(line)
        if m:
            rows[int(m.group(3))] = "%s #%s" % (m.group(1), m.group(2))
            continue
        m = prune.match(line)
        if m:
            rows[int(m.group(1))] = "prune"
    for ident in sorted(rows):
        print(ident, rows[ident])


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "gen":
        gen(int(sys.argv[2]), int(sys.argv[3]))
    elif cmd == "create":
        create(sys.argv[2], sys.argv[3])
    elif cmd == "parse":
        parse()
    else:
        sys.exit("usage: retention_borg.py gen SEED N | create REPO SRC | parse")
