#!/usr/bin/python3
"""Differential test of enrp's CSV reader (core/csv.c) against Python's csv.

Usage: csv_differential.py DUMPER WORKDIR [N] [SEED]

DUMPER is build/tests/test_csv, which prints what enrp reads from a file as
JSON (`test_csv --dump FILE`).  N random files are generated (seeded, so a
failure can be reproduced): fields of ASCII, Russian and Kazakh letters
(ә ғ қ ң ө ұ ү һ і), spaces, commas, quotes, LF and CRLF inside quotes,
empty fields and empty lines, records ended by CRLF, LF or lone CR, with
or without a BOM and a final terminator, some fields quoted without need.
For each well-formed file enrp must return exactly the rows of
csv.reader(newline='') on the same text.

A quarter of the files are then damaged in one of the ways RFC 4180 forbids.
enrp must refuse each, naming its line and place in it; there the two readers
differ by design, and this checks the difference is the documented one:
  - a quote inside an unquoted field (a"b): Python keeps it as text even
    with strict=True; enrp refuses it;
  - text after a closing quote ("a"b): Python (strict=False) glues it on;
    with strict=True it raises, as enrp does;
  - a quoted field open at the end of the file: Python with strict=True
    raises, as enrp does.
Prints TAP.
"""
import csv
import io
import json
import os
import random
import subprocess
import sys

dumper, work = sys.argv[1], sys.argv[2]
count = int(sys.argv[3]) if len(sys.argv) > 3 else 300
rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 11)

LETTERS = ("abcxyzABC019" "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВЯ" "әғқңөұүһіӘҒҚҢӨҰҮҺІ")
SPECIAL = [",", '"', " ", "\n", "\r\n", "\t", ";", "«", "»", "—"]

n_ok = 0
n_fail = 0


def report(good, desc):
    global n_ok, n_fail
    n_ok += 1 if good else 0
    n_fail += 0 if good else 1
    print(("ok" if good else "not ok") + " %d - %s" % (n_ok + n_fail, desc))


def field():
    k = rng.random()
    if k < 0.12:
        return ""
    out = []
    for _ in range(rng.randint(1, 12)):
        out.append(rng.choice(SPECIAL) if rng.random() < 0.2 else rng.choice(LETTERS))
    return "".join(out)


def encode_field(f):
    need = any(c in f for c in ',"\r\n')
    if need or rng.random() < 0.15:
        return '"' + f.replace('"', '""') + '"'
    return f


def make_file():
    """Returns the bytes of a well-formed file."""
    eol_choice = rng.choice(["\r\n", "\n", "\r", "mixed"])
    lines = []
    width = rng.randint(1, 8)
    for _ in range(rng.randint(0, 12)):
        if rng.random() < 0.08:
            lines.append("")  # an empty line
            continue
        n = width if rng.random() < 0.9 else rng.randint(1, 9)
        fields = [field() for _ in range(n)]
        if n == 1 and fields[0] == "":
            fields[0] = '""'  # a lone empty field is written quoted
            lines.append(fields[0])
            continue
        lines.append(",".join(encode_field(f) for f in fields))
    text = ""
    for i, line in enumerate(lines):
        eol = rng.choice(["\r\n", "\n", "\r"]) if eol_choice == "mixed" else eol_choice
        last = i == len(lines) - 1
        text += line + ("" if last and rng.random() < 0.3 and line else eol)
    data = text.encode()
    if rng.random() < 0.2:
        data = b"\xef\xbb\xbf" + data
    return data


def enrp_read(path):
    out = subprocess.run([dumper, "--dump", path], capture_output=True, check=True).stdout
    return json.loads(out)


def python_read(data, strict=False):
    text = data.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""), strict=strict))


def damage(data):
    """One RFC 4180 violation; returns (bytes, kind)."""
    kind = rng.choice(["quote-in-unquoted", "after-closing-quote", "unclosed"])
    if kind == "quote-in-unquoted":
        return data + b'\nab"cd,e\n', kind
    if kind == "after-closing-quote":
        return data + b'\n"ab"cd,e\n', kind
    return data + b'\nx,"never closed\n', kind


for i in range(count):
    data = make_file()
    path = os.path.join(work, "f%04d.csv" % i)
    with open(path, "wb") as f:
        f.write(data)
    got = enrp_read(path)
    want = python_read(data)
    report(got == want, "file %d (%d bytes): enrp reads what Python reads" % (i, len(data)))
    if got != want:
        print("#   enrp:   %r" % (got,))
        print("#   python: %r" % (want,))
    if i % 4 == 0:
        bad, kind = damage(data)
        with open(path, "wb") as f:
            f.write(bad)
        got = enrp_read(path)
        refused = isinstance(got, dict) and got["error"][0] >= 1 and got["error"][1] >= 1
        report(refused, "file %d damaged (%s): enrp refuses it at a line and place (%s)"
               % (i, kind, got.get("error") if isinstance(got, dict) else "accepted"))
        try:
            python_read(bad, strict=True)
            py_strict = "accepts"
        except csv.Error:
            py_strict = "refuses"
        expect = "accepts" if kind == "quote-in-unquoted" else "refuses"
        report(py_strict == expect,
               "file %d damaged (%s): Python strict %s it, as documented" % (i, kind, py_strict))

print("1..%d" % (n_ok + n_fail))
sys.exit(1 if n_fail else 0)
