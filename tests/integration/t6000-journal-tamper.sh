#!/bin/bash
# t6000: the audit journal is a hash chain (DESIGN §7): every enrpctl change
# is one record; `audit verify` finds the chain intact, and after anyone edits
# the LMDB journal behind enrp's back (a changed byte, a removed record, the
# last record removed) it reports the chain broken at that record.  The
# tampering is done with mdb_dump/mdb_load on copies, with no daemon running.
. "$(dirname "$0")/lib.sh"
setup

# Seven changes, seven records.
mk_eir a --owner "$ALICE"
mk_eir b --owner "$BOB" --class 2 --mode wo
expect_ok ctl eir set a --mode ro
expect_ok ctl eir set a --quota 10M
expect_ok ctl eir suspend a --reason "tamper test"
expect_ok ctl eir resume a
expect_ok ctl eir set b --class 1
N=7

out=$(ctl audit verify 2>&1)
rc=$?
assert_eq 0 "$rc" "audit verify exits 0 on an intact journal"
assert_eq "audit: chain intact, $N records" "$out" "audit verify reports $N records"

# The JSON view: fields, sequence and chaining.
json=$(ctl audit show --json)
check=$("$PY" -c '
import json, sys
recs = json.loads(sys.argv[1])
want = {"seq", "time", "time_ns", "uid", "pid", "command", "eir", "event", "details", "hash", "prev_hash"}
problems = []
for i, r in enumerate(recs):
    missing = want - set(r)
    if missing:
        problems.append("record %d lacks %s" % (i + 1, sorted(missing)))
    if r.get("seq") != i + 1:
        problems.append("record %d has seq %r" % (i + 1, r.get("seq")))
    prev = recs[i - 1]["hash"] if i else "0" * 64
    if r.get("prev_hash") != prev:
        problems.append("record %d prev_hash does not match the hash before it" % (i + 1))
print(len(recs))
print(" ".join(r.get("event", "?") for r in recs))
print("; ".join(problems) or "none")
' "$json")
assert_eq "$N" "$(sed -n 1p <<<"$check")" "audit show --json lists $N records"
log "events: $(sed -n 2p <<<"$check")"
assert_match '^eir-create eir-create ' "$(sed -n 2p <<<"$check")" "first two records are the eir-create events"
assert_match ' suspend resume ' "$(sed -n 2p <<<"$check")" "suspend and resume recorded in order"
assert_eq none "$(sed -n 3p <<<"$check")" "records have all fields, consecutive seq, prev_hash = previous hash"
assert_eq 5 "$(audit_count --eir a)" "audit show --eir a: 5 records (1 create + 4 changes)"
assert_eq 2 "$(audit_count --event eir-create)" "audit show --event eir-create: 2 records"
first_time=$("$PY" -c 'import json, sys; print(json.loads(sys.argv[1])[0]["time"])' "$json")
assert_eq "$N" "$(audit_count --since "$first_time")" "audit show --since the first record's time: all"
assert_eq 0 "$(audit_count --since 2099-01-01)" "audit show --since the future: none"
actor=$("$PY" -c 'import json, sys; r = json.loads(sys.argv[1])[2]; print(r["uid"], r["command"], r["eir"], r["details"])' "$json")
log "record 3: $actor"
assert_match '^0 .*enrpctl.* a .*ro' "$actor" "record 3 names root, enrpctl, EIR a and the new mode"

# tamper COPY OP SEQ: rewrites COPY/meta with the journal changed.
#   OP: none (dump and load only), flip (change one byte of the record's
#   event), delete (remove the record).
tamper() {
	local copy=$1 op=$2 seq=$3
	rm -rf "$copy"
	cp -a "$STORE" "$copy"
	"$PY" - "$copy/meta" "$op" "$seq" "$json" <<'EOF'
import json, os, shutil, subprocess, sys
meta, op, seq, js = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
details = {r["seq"]: r["event"] for r in json.loads(js)}
dump = subprocess.run(["mdb_dump", "-a", meta], check=True, capture_output=True,
                      text=True).stdout.splitlines()
out, db, in_data, pending, done = [], None, False, None, False
for line in dump:
    if line.startswith("database="):
        db = line.split("=", 1)[1]
    if line == "HEADER=END":
        in_data = True
        out.append(line)
        continue
    if line == "DATA=END":
        in_data = False
        out.append(line)
        continue
    if not in_data or db != "journal":
        out.append(line)
        continue
    if pending is None:
        pending = line
        continue
    key, val = bytes.fromhex(pending.strip()), bytes.fromhex(line.strip())
    pending = None
    if len(key) != 8:
        sys.exit("journal key of %d bytes" % len(key))
    k = int.from_bytes(key, "big")
    if k == seq and op == "delete":
        done = True
        continue
    if k == seq and op == "flip":
        d = details[seq].encode()
        at = val.find(d)
        if not d or at < 0:
            sys.exit("event %r not found in record %d" % (d, seq))
        b = bytearray(val)
        b[at] = b[at] ^ 0x01  # one bit of the first byte of the event
        val = bytes(b)
        done = True
    out.append(" " + key.hex())
    out.append(" " + val.hex())
if op != "none" and not done:
    sys.exit("record %d not found in the journal" % seq)
with open(meta + ".dump", "w") as f:
    f.write("\n".join(out) + "\n")
new = meta + ".new"
os.mkdir(new)
subprocess.run(["mdb_load", "-f", meta + ".dump", new], check=True)
for n in os.listdir(meta):
    os.unlink(os.path.join(meta, n))
for n in os.listdir(new):
    shutil.move(os.path.join(new, n), os.path.join(meta, n))
os.rmdir(new)
EOF
}

# verify_copy COPY: prints "RC|OUTPUT" of audit verify on COPY.
verify_copy() {
	local out rc
	out=$( (exec -a enrpctl "$ENRPCTL" -S "$1" audit verify) 2>&1)
	rc=$?
	printf '%s|%s' "$rc" "$out"
}

# Control: dump and load without a change keeps the chain intact, so what
# follows is caused by the tampering, not by the method.
tamper "$T/copy-none" none 0 || die "tamper (none) failed"
assert_eq "0|audit: chain intact, $N records" "$(verify_copy "$T/copy-none")" \
	"control: a dump/load round trip keeps the chain intact"

# expect_broken LABEL COPY SEQS...: audit verify exits 1 and names one of SEQS.
expect_broken() {
	local label=$1 copy=$2 r rc out n s
	shift 2
	r=$(verify_copy "$copy")
	rc=${r%%|*}
	out=${r#*|}
	log "$label: $out"
	assert_eq 1 "$rc" "$label: audit verify exits 1"
	n=$(sed -n 's/^audit: chain broken at record \([0-9][0-9]*\): .*/\1/p' <<<"$out" | head -n1)
	for s in "$@"; do
		if [ "$n" = "$s" ]; then
			pass "$label: reports 'chain broken at record $n'"
			return
		fi
	done
	fail "$label: expected 'audit: chain broken at record ($*): ...', got '$out'"
}

tamper "$T/copy-flip" flip 4 || die "tamper (flip) failed"
expect_broken "one byte of record 4 changed" "$T/copy-flip" 4 5
tamper "$T/copy-del" delete 4 || die "tamper (delete) failed"
expect_broken "record 4 removed" "$T/copy-del" 4 5
tamper "$T/copy-last" delete "$N" || die "tamper (delete last) failed"
expect_broken "last record ($N) removed" "$T/copy-last" "$N" "$((N - 1))"
tamper "$T/copy-first" flip 1 || die "tamper (flip first) failed"
expect_broken "one byte of record 1 changed" "$T/copy-first" 1 2

# The original was never touched.
assert_eq "audit: chain intact, $N records" "$(ctl audit verify 2>&1)" "original store still intact"

finish
