#!/bin/bash
# t6310: `enrpctl audit events` lists every event the code can write, and
# enrpctl(8) lists the same.  The sources are read for every call of
# journal_append_txn() and enrp_journal_append(): the event argument is a
# literal, a choice between literals, or a variable or table of the same file
# whose literals are the events.  A call whose event cannot be told, or an
# event missing from the table (core/journal_events.c), fails: an auditor
# must be able to look up and select every record.  No mount needed.
. "$(dirname "$0")/lib.sh"
setup

ctl audit events --json >"$T/events.json" 2>"$T/err"
assert_eq 0 "$?" "audit events --json exits 0 ($(head -c 200 "$T/err"))"
text=$(ctl audit events)
assert_match '^eir-create +an EIR was created' "$text" "audit events: one line per event, with its meaning"

"$PY" - "$REPO" "$T/events.json" >"$T/scan" <<'PYEOF'
import json, os, re, sys
repo, table = sys.argv[1], {e["event"]: e["meaning"] for e in json.load(open(sys.argv[2]))}
CALL = re.compile(r"\b(journal_append_txn|enrp_journal_append)\s*\(")
LIT = re.compile(r'"((?:[^"\\]|\\.)*)"')

def args_at(src, i):
    """The top-level arguments of the call whose '(' is at src[i]."""
    depth, cur, out, j = 0, "", [], i
    while j < len(src):
        c = src[j]
        if c == '"':
            k = j + 1
            while src[k] != '"':
                k += 2 if src[k] == "\\" else 1
            cur += src[j:k + 1]
            j = k + 1
            continue
        if c in "([{":
            depth += 1
            if depth == 1:
                j += 1
                continue
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                out.append(cur.strip())
                return out
        elif c == "," and depth == 1:
            out.append(cur.strip())
            cur = ""
            j += 1
            continue
        cur += c
        j += 1
    return out

found, problems = {}, []
for d in ("core", "fs", "tools"):
    for name in sorted(os.listdir(os.path.join(repo, d))):
        if not name.endswith(".c"):
            continue
        path = os.path.join(d, name)
        src = open(os.path.join(repo, path)).read()
        for m in CALL.finditer(src):
            line = src.count("\n", 0, m.start()) + 1
            args = args_at(src, m.end() - 1)
            if len(args) < 4 or "const char" in args[3]:
                continue  # a declaration or definition
            ev = args[3]
            if path == "core/journal.c" and ev == "c->event":
                continue  # enrp_journal_append's own forwarding
            lits = LIT.findall(ev)
            if not lits:
                ident = re.match(r"^([A-Za-z_]\w*)", ev)
                if ident:
                    v = re.escape(ident.group(1))
                    lits = re.findall(r"\b" + v + r"\s*=\s*\"([^\"]+)\"", src)
                    arr = re.search(r"\b" + v + r"\s*\[[^\]]*\]\s*=\s*\{(.*?)\};", src, re.S)
                    if arr:
                        lits += LIT.findall(arr.group(1))
            if not lits:
                problems.append("%s:%d: cannot tell the event of this call (%s)" % (path, line, ev))
            for e in lits:
                found.setdefault(e, "%s:%d" % (path, line))
missing = sorted(e for e in found if e not in table)
print("events written: %d" % len(found))
print("missing: " + " ".join("%s (%s)" % (e, found[e]) for e in missing))
print("problems: " + "; ".join(problems))
PYEOF
assert_eq 0 "$?" "the source scan ran"
log "$(head -n 1 "$T/scan")"
written=$(sed -n 1p "$T/scan" | grep -o '[0-9]*$')
assert_true "the scan found the events the code writes ($written)" test "${written:-0}" -ge 30
assert_eq "missing: " "$(sed -n 2p "$T/scan")" "every event the code writes is in the table"
assert_eq "problems: " "$(sed -n 3p "$T/scan")" "every call's event can be told"

# The daemon's events are in the table (the names enrpfs writes).
for e in mount unmount recovery keyfile-use file-removed file-replaced file-truncated verified denied; do
	assert_match "^$e " "$text" "audit events lists $e"
done

# enrpctl(8) has the same list.
man_missing=$("$PY" -c '
import json, sys
man = open(sys.argv[2]).read().replace("\\-", "-")
print(" ".join(e["event"] for e in json.load(open(sys.argv[1])) if ".B " + e["event"] + "\n" not in man))
' "$T/events.json" "$REPO/tools/enrpctl.8")
assert_eq "" "$man_missing" "enrpctl(8) lists every event"

# An unknown event is refused, with the list of events.
out=$(ctl audit show --event no-such-event 2>&1)
assert_eq 1 "$?" "audit show --event no-such-event exits 1"
assert_match "^enrpctl: unknown event 'no-such-event'" "$out" "... and says so"
assert_match "hint: .*eir-create.*verified.*mirror-target" "$out" "... and lists the events"
out=$(ctl audit show --eir no-such-eir 2>&1)
assert_eq 1 "$?" "audit show --eir no-such-eir exits 1"
assert_match "^enrpctl: no EIR named 'no-such-eir'" "$out" "... and says so"
finish
