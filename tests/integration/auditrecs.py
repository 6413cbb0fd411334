#!/usr/bin/env python3
"""auditrecs.py — the records of `enrpctl audit show --json` with their
details as a dict, whichever way the details come: a JSON object, or the
"key=value key=value" string of core/details.c (values in double quotes with
\\" \\\\ \\n \\t \\r \\xHH escapes, and \\~ marking a cut value).

  auditrecs.py EVENT < audit.json
      prints one JSON object per record of EVENT (every record for "-"):
      the record's fields, with "details" a dict.

As a module: records(obj, event=None) and parse_details(text).
"""
import json
import sys


def parse_details(text):
    if isinstance(text, dict):
        return text
    out = {}
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] == " ":
            i += 1
        if i >= n:
            break
        eq = text.find("=", i)
        sp = text.find(" ", i)
        if eq < 0 or (0 <= sp < eq):
            # a stretch that is not a pair (older records)
            end = n if sp < 0 else sp
            out.setdefault("", text[i:end])
            i = end
            continue
        key = text[i:eq]
        i = eq + 1
        if i < n and text[i] == '"':
            i += 1
            val = []
            while i < n and text[i] != '"':
                c = text[i]
                if c == "\\" and i + 1 < n:
                    e = text[i + 1]
                    if e == "x" and i + 3 < n:
                        val.append(chr(int(text[i + 2:i + 4], 16)))
                        i += 4
                        continue
                    val.append({"n": "\n", "t": "\t", "r": "\r", "~": "CUT"}.get(e, e))
                    i += 2
                    continue
                val.append(c)
                i += 1
            i += 1
            v = "".join(val)
            # \xHH escapes are bytes: re-read the value as UTF-8
            try:
                v = v.encode("latin-1").decode("utf-8")
            except (UnicodeEncodeError, UnicodeDecodeError):
                pass
        else:
            end = n if sp < 0 else sp
            v = text[i:end]
            i = end
        out.setdefault(key, v)
    return out


def records(obj, event=None):
    for r in obj:
        if event not in (None, "-") and r.get("event") != event:
            continue
        r = dict(r)
        r["details"] = parse_details(r.get("details", ""))
        yield r


if __name__ == "__main__":
    for rec in records(json.load(sys.stdin), sys.argv[1] if len(sys.argv) > 1 else None):
        print(json.dumps(rec, ensure_ascii=False))
