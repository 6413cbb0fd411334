#!/usr/bin/env python3
"""An independent reading of schedule slots (enrpctl(8) SCHEDULES), with
Python's zoneinfo: every local date is tried one by one, and a local time is
read with fold=0 (a repeated time is its earlier moment, a skipped one uses
the offset before the gap).  Merged rules and windows are not modelled: only
the starts.

  slots_ref.py TEXT ZONE FROM N      the first N starts at or after FROM
                                     (ISO UTC), one ISO UTC time per line
  slots_ref.py --unit-cases          the cases of tests/unit/test_slots.c
"""
import datetime as dt
import sys
import zoneinfo

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def parse(text):
    out = []
    for r in text.split(";"):
        w = r.split()
        out.append((w[0], None, w[1], w[2]) if w[0] == "daily" else tuple(w))
    return out


def candidates(rule, zone, y0, y1):
    period, days, hm, _ = rule
    h, m = map(int, hm.split(":"))
    z = zoneinfo.ZoneInfo(zone)
    d = dt.date(y0, 1, 1)
    while d.year < y1:
        if period == "daily":
            ok = True
        elif period == "weekly":
            ok = DAYS[d.weekday()] in days.split(",")
        else:
            months = {"monthly": range(1, 13), "quarterly": (1, 4, 7, 10), "yearly": (1,)}[period]
            ok = d.month in months and d.day <= 7 and DAYS[d.weekday()] == days[6:]
        if ok:
            yield int(dt.datetime(d.year, d.month, d.day, h, m, tzinfo=z).timestamp())
        d += dt.timedelta(days=1)


def slots(text, zone, t0, n):
    y = dt.datetime.fromtimestamp(t0, dt.timezone.utc).year
    s = sorted(set(x for r in parse(text) for x in candidates(r, zone, y - 1, y + 6) if x >= t0))
    return s[:n]


def iso(x):
    return dt.datetime.fromtimestamp(x, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch(s):
    return int(dt.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp())


UNIT_LISTS = [
    ("daily 23:00 full", "Asia/Almaty", "2027-12-30T00:00:00Z", 4),
    ("monthly first-fri 23:00 full", "Asia/Almaty", "2027-01-01T00:00:00Z", 12),
    ("quarterly first-sat 23:00 full", "Asia/Almaty", "2027-01-01T00:00:00Z", 5),
    ("yearly first-sat 23:00 full", "Asia/Almaty", "2026-01-03T17:59:59Z", 4),
    ("daily 23:00 full", "Asia/Almaty", "2028-02-27T00:00:00Z", 4),
    ("daily 23:00 full", "UTC", "2027-02-27T00:00:00Z", 3),
    ("daily 00:00 full", "UTC", "2100-02-27T12:00:00Z", 3),
    ("daily 00:00 full", "UTC", "2028-02-27T12:00:00Z", 3),
    ("monthly first-tue 10:00 incremental", "UTC", "2028-01-31T00:00:00Z", 3),
    ("daily 02:30 full", "Europe/Berlin", "2027-03-26T00:00:00Z", 4),
    ("daily 02:30 full", "Europe/Berlin", "2027-10-29T00:00:00Z", 4),
    ("weekly sun 01:30 full", "America/New_York", "2027-11-01T00:00:00Z", 2),
    ("weekly sun 02:30 full", "America/New_York", "2027-03-10T00:00:00Z", 2),
    ("daily 23:00 full", "Asia/Kathmandu", "2027-06-30T00:00:00Z", 2),
    ("weekly mon,wed,fri 23:30 differential", "Asia/Almaty", "2027-12-29T00:00:00Z", 5),
    ("daily 23:00 incremental; monthly first-fri 23:00 full", "Asia/Almaty",
     "2027-01-31T00:00:00Z", 8),
    ("yearly first-sun 00:00 full", "Asia/Kathmandu", "2027-01-01T00:00:00Z", 3),
    ("quarterly first-mon 09:15 full", "America/New_York", "2027-12-31T00:00:00Z", 5),
]
UNIT_YEARS = [
    ("daily 23:00 full", "Asia/Almaty", 2027), ("daily 23:00 full", "Asia/Almaty", 2028),
    ("daily 23:00 full", "Europe/Berlin", 2027), ("daily 02:30 full", "Europe/Berlin", 2027),
    ("daily 01:30 full", "America/New_York", 2028), ("daily 23:00 full", "Asia/Kathmandu", 2100),
    ("weekly sat,sun 23:00 full", "UTC", 2028),
    ("daily 23:00 incremental; monthly first-fri 23:00 full; quarterly first-sat 23:00 full; "
     "yearly first-sat 23:00 full", "Asia/Almaty", 2027),
]


def unit_cases():
    for t, z, f, n in UNIT_LISTS:
        print('\tlist("%s", "%s", "%s",\n\t     "%s");'
              % (t, z, f, " ".join(iso(x) for x in slots(t, z, epoch(f), n))))
    for t, z, y in UNIT_YEARS:
        a, b = epoch("%d-01-01T00:00:00Z" % y), epoch("%d-01-01T00:00:00Z" % (y + 1))
        s = [x for x in slots(t, z, a, 800) if x < b]
        print('\tyear("%s", "%s", %d, %d, %dLL);' % (t, z, y, len(s), sum(s)))


if __name__ == "__main__":
    if sys.argv[1:] == ["--unit-cases"]:
        unit_cases()
    else:
        text, zone, t0, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
        for x in slots(text, zone, epoch(t0), n):
            print(iso(x))
