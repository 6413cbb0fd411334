#!/usr/bin/env python3
"""report_check.py — checks for t7700 (enrpctl report).

  csv REPORT.json REPORT.csv      the CSV equals the JSON, field by field
  dom REPORT.json DOM.html        the figures the browser shows equal the JSON
  png SHOT.png                    counts of each chart colour's pixels, as JSON
  pdf OUT.pdf                     pages and whether they are A4, as JSON
  selfcontained REPORT.html       no URL, script, import or external resource

The PNG decoder is the standard library's zlib plus the five PNG filters
(8-bit RGB or RGBA, not interlaced: what chromium writes), so the test needs
no PIL.
"""
import csv
import html.parser
import json
import re
import struct
import sys
import zlib


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)


def fmt(v, decimals=None):
    if v is None:
        return ""
    if decimals is not None:
        return "%.*f" % (decimals, v)
    return str(v)


def cmd_csv(jpath, cpath):
    j = json.load(open(jpath))
    with open(cpath, newline="") as f:
        rows = list(csv.reader(f))
    raw = open(cpath, "rb").read()
    if not raw.endswith(b"\r\n") or b"\n" in raw.replace(b"\r\n", b""):
        fail("records do not all end with CRLF")
    head, body = rows[0], rows[1:]
    if len(body) != len(j["eirs"]) + 1:
        fail("%d CSV rows for %d EIRs + platform" % (len(body), len(j["eirs"])))
    for row, e in zip(body, j["eirs"] + [None]):
        d = dict(zip(head, row))
        if e is None:
            s = j["summary"]
            want = {"row": "platform", "used": fmt(s["used"]), "quota": fmt(s["quota"]),
                    "stored": fmt(s["stored"]), "ratio": fmt(s["ratio"], 2),
                    "files": fmt(s["files"]), "corrupt": fmt(s["corrupt"])}
            for k in ("expected", "arrived", "late", "missed", "pending",
                      "failed_verifications", "holds_active", "holds_expiring"):
                want[k] = fmt(s[k])
        else:
            r = e["restore"]
            want = {"row": "eir", "name": e["name"], "class": fmt(e["class"]), "mode": e["mode"],
                    "state": e["state"], "backup_mode": fmt(e["backup_mode"]),
                    "used": fmt(e["used"]), "quota": fmt(e["quota"]),
                    "quota_used_percent": fmt(e["quota_used_percent"], 1),
                    "stored": fmt(e["stored"]), "ratio": fmt(e["ratio"], 2),
                    "files": fmt(e["files"]), "corrupt": fmt(e["corrupt"]),
                    "restore_last_pass": fmt(r["last_pass"]), "restore_due": fmt(r["due"]),
                    "restore_standing": fmt(r["standing"]),
                    "restore_next_plan": fmt(r["next_plan"]),
                    "next_hold_until": fmt(e["next_hold_until"]), "light": e["light"],
                    "reasons": " ".join(e["reasons"])}
            for k in ("expected", "arrived", "late", "missed", "pending",
                      "failed_verifications", "holds_active", "holds_expiring"):
                want[k] = fmt(e[k])
        for k, v in want.items():
            if d.get(k) != v:
                fail("CSV %s %s: %r, JSON says %r" % (d.get("name") or d.get("row"), k, d.get(k), v))
    print("ok %d rows" % len(body))


class Cells(html.parser.HTMLParser):
    """Collects, per table row with data-eir (and the summary table), the
    text and attributes of each cell with data-k; and the element names."""

    def __init__(self):
        super().__init__()
        self.rows = {}
        self.tags = set()
        self.table = None
        self.row = None
        self.cell = None
        self.text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.add(tag)
        if tag == "table":
            self.table = a.get("id")
        elif tag == "tr":
            if self.table == "eirs" and "data-eir" in a:
                self.row = a["data-eir"]
            elif self.table == "summary":
                self.row = "(summary)"
            else:
                self.row = None
        elif tag in ("td", "span") and "data-k" in a and self.row is not None:
            self.cell = (a["data-k"], a.get("title"))
            self.text = ""

    def handle_endtag(self, tag):
        if tag in ("td", "span") and self.cell:
            k, title = self.cell
            self.rows.setdefault(self.row, {})[k] = (self.text.strip(), title)
            self.cell = None
        elif tag == "table":
            self.table = None

    def handle_data(self, data):
        if self.cell:
            self.text += data


def cmd_dom(jpath, dpath):
    j = json.load(open(jpath))
    p = Cells()
    p.feed(open(dpath, encoding="utf-8").read())
    if "script" in p.tags:
        fail("the rendered page has a script element")
    n = 0
    for e in j["eirs"]:
        cells = p.rows.get(e["name"])
        if cells is None:
            fail("no row for EIR %s in the page" % e["name"])
        want = {"class": fmt(e["class"]), "state": e["state"], "mode": e["mode"],
                "light": e["light"], "quota_used_percent": fmt(e["quota_used_percent"], 1) or "-",
                "ratio": fmt(e["ratio"], 2) or "-", "due": e["restore"]["due"] or "-",
                "last_pass": e["restore"]["last_pass"] or "-",
                "standing": e["restore"]["standing"] or "-"}
        for k in ("expected", "arrived", "late", "missed", "failed_verifications",
                  "holds_active", "holds_expiring"):
            want[k] = fmt(e[k])
        for k, v in want.items():
            got = cells.get(k, (None, None))[0]
            if got != v:
                fail("page: %s %s shows %r, JSON says %r" % (e["name"], k, got, v))
            n += 1
        if cells["used"][1] != str(e["used"]):
            fail("page: %s used is %r bytes, JSON says %r" % (e["name"], cells["used"][1], e["used"]))
    s = j["summary"]
    cells = p.rows.get("(summary)", {})
    for k in ("eirs", "green", "amber", "red", "expected", "arrived", "late", "missed",
              "failed_verifications", "holds_active", "holds_expiring"):
        got = cells.get(k, (None, None))[0]
        if got != fmt(s[k if k != "restore_overdue" else k]):
            fail("page: platform %s shows %r, JSON says %r" % (k, got, s[k]))
        n += 1
    if cells["used"][1] != str(s["used"]):
        fail("page: platform used %r, JSON %r" % (cells["used"][1], s["used"]))
    print("ok %d figures" % n)


def png_pixels(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail("not a PNG")
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    if depth != 8 or ctype not in (2, 6) or interlace:
        fail("PNG of depth %d type %d interlace %d not handled" % (depth, ctype, interlace))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    rows = []
    i = 0
    for _ in range(h):
        f = raw[i]
        line = bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                dist_a, dist_b, dist_c = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pr = a if dist_a <= dist_b and dist_a <= dist_c else (b if dist_b <= dist_c else c)
                line[x] = (line[x] + pr) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


COLOURS = {"green": (0x2e, 0x7d, 0x32), "amber": (0xf9, 0xa8, 0x25),
           "red": (0xc6, 0x28, 0x28), "blue": (0x15, 0x65, 0xc0)}


def cmd_png(path):
    w, h, bpp, rows = png_pixels(path)
    count = {k: 0 for k in COLOURS}
    for line in rows:
        for x in range(0, w * bpp, bpp):
            px = (line[x], line[x + 1], line[x + 2])
            for k, c in COLOURS.items():
                if abs(px[0] - c[0]) + abs(px[1] - c[1]) + abs(px[2] - c[2]) <= 12:
                    count[k] += 1
    count["width"], count["height"] = w, h
    print(json.dumps(count))


def cmd_pdf(path):
    data = open(path, "rb").read()
    if not data.startswith(b"%PDF-"):
        fail("not a PDF")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data)
    a4 = bool(boxes) and all(abs(float(x) - 595.3) < 2 and abs(float(y) - 841.9) < 2
                             for x, y in boxes)
    print(json.dumps({"pages": pages, "a4": a4}))


def cmd_selfcontained(path):
    text = open(path, encoding="utf-8").read()
    for pat in (r"https?:", r"//[a-z]", r"<script", r"<link", r"<img", r"<iframe", r"@import",
                r"url\(", r"\bsrc=", r"\bhref=", r"@font-face", r"<object", r"<embed"):
        m = re.search(pat, text, re.I)
        if m:
            fail("the page holds %r at %d: %r" % (pat, m.start(), text[max(0, m.start() - 40):m.start() + 40]))
    print("ok")


if __name__ == "__main__":
    cmd = sys.argv[1]
    {"csv": cmd_csv, "dom": cmd_dom, "png": cmd_png, "pdf": cmd_pdf,
     "selfcontained": cmd_selfcontained}[cmd](*sys.argv[2:])
