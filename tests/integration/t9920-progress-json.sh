#!/bin/bash
# t9920: progress and output (issue 9 item 11).  Long work shows progress on a
# terminal and nothing more when piped: prune (EIRs, snapshots examined, what
# went, then the daemon's collection with gc's own line), gc and scrub, each
# run through a real pseudo-terminal (script(1)) and through pipes.  A
# snapshot that prune keeps because it is mounted is reported as mounted,
# apart from a held one (text, --json, journal).  Every listing's --json
# parses and has its fields, as global option and after the verb.  Every
# action is journalled with its counts.
. "$(dirname "$0")/lib.sh"
setup
ensure_users

pending_empty() { [ -r "$MNT/$1/.enrp/pending" ] && [ ! -s "$MNT/$1/.enrp/pending" ]; }
settle() { poll_until 60 pending_empty "$1" || fail "$1: still pending after 60 s"; }
# on_tty CMD: CMD's stdout and stderr as a terminal shows them (one pty).
on_tty() { script -qfec "$*" /dev/null </dev/null; }
CTL="$ENRPCTL -S $STORE"
# json_has WHAT KEYS... <JSON: the document parses; an object (or a
# non-empty array's first element) has every key.
json_has() {
	local what=$1 out
	shift
	out=$("$PY" -c '
import json, sys
j = json.load(sys.stdin)
o = j[0] if isinstance(j, list) and j else j
if isinstance(j, list) and not j:
    sys.exit("an empty array")
missing = [k for k in sys.argv[1:] if k not in o]
if missing:
    sys.exit("missing " + " ".join(missing))
' "$@" 2>&1)
	if [ $? -eq 0 ]; then
		pass "$what: JSON with $*"
	else
		fail "$what: ${out:0:300}"
	fi
}
# assert_no_match REGEX TEXT DESCRIPTION (extended regex)
assert_no_match() {
	if grep -Eq -- "$1" <<<"$2"; then
		fail "$3: '$(grep -E -m1 -- "$1" <<<"$2" | cut -c1-300)' matches /$1/"
		return 1
	fi
	pass "$3"
}
# details EVENT: the details of the last journal record of EVENT.
details() {
	ctl audit show --event "$1" --json | details_flat | tail -n 1
}

mk_eir pj --owner "$ALICE"
expect_ok ctl eir set pj --retention keep-last=1
mount_fs
E=$MNT/pj
as "$ALICE" sh -c "head -c 1500000 /dev/urandom >$E/dump.1 && echo one >$E/notes.txt" || die "write"
settle pj
for s in s1 s2 s3 s4; do
	expect_ok ctl snapshot create pj "$s"
done
expect_ok ctl hold add pj@s1 --until 2099-01-01 --reason long-term
R=$T/restore
mkdir "$R" && chmod 755 "$R"
EXTRA_MOUNTS+=("$R")
expect_ok ctl snapshot mount pj@s2 "$R"

# ---- prune: held, mounted, gone ------------------------------------------------------------
out=$(ctl prune --dry-run)
assert_match '^keep \(held\) +snapshot pj@s1 ' "$out" "dry run: s1 kept as held"
assert_match '^keep \(mounted\) +snapshot pj@s2 ' "$out" "dry run: s2 kept as mounted, not as held"
assert_match '^would prune +snapshot pj@s3 ' "$out" "dry run: s3 would go"
assert_match '1 snapshots.* would go; 1 held, 1 mounted$' "$out" "dry run: the summary counts held and mounted apart"
j=$(ctl prune --dry-run --json)
json_has "prune --dry-run --json" items dry_run snapshots kept trash trash_bytes held mounted eirs <<<"$j"
assert_eq "s1:True:False s2:False:True s3:False:False" \
	"$("$PY" -c 'import json, sys; print(" ".join("%s:%s:%s" % (i["what"], i["held"], i["mounted"]) for i in json.load(sys.stdin)["items"]))' <<<"$j")" \
	"prune --json: each item says held or mounted"
assert_eq "1 3 1 1" "$("$PY" -c 'import json, sys; j = json.load(sys.stdin); print(j["snapshots"], j["kept"], j["held"], j["mounted"])' <<<"$j")" \
	"prune --json: snapshots, kept, held, mounted"
assert_eq 0 "$(audit_count --event prune)" "a dry run journals nothing"

# ---- progress on a terminal, none through pipes --------------------------------------------
tty_out=$(on_tty "$CTL prune")
assert_eq 0 "$?" "prune on a terminal: exit 0"
assert_match 'prune: EIR [0-9]+/[0-9]+, [0-9]+ snapshots examined, [0-9]+ deleted, [0-9]+ trash entries purged' \
	"$tty_out" "prune on a terminal: its progress line"
assert_match $'\r' "$tty_out" "drawn in place (carriage returns)"
assert_match 'gc: EIR [0-9]+/[0-9]+, [0-9]+ chunks looked at' "$tty_out" \
	"then the daemon's collection is followed with gc's progress line"
assert_match 'pruned +snapshot pj@s3 ' "$tty_out" "the items are there too"
assert_match 'prune: 1 EIRs with a policy; 0 files, 1 snapshots, 0 trash entries \(0\) gone; 1 held, 1 mounted' \
	"$tty_out" "and the summary"
expect_exit 1 ctl snapshot show pj@s3
expect_ok ctl snapshot show pj@s2
assert_match '^files=0 snapshots=1 kept=3 trash=0 trash_bytes=0 held=1 mounted=1$' "$(details prune)" \
	"the prune record has its counts, mounted apart from held"

expect_ok ctl snapshot create pj s5
ctl prune >"$T/prune.out" 2>"$T/prune.err"
assert_eq 0 "$?" "prune piped: exit 0"
assert_match 'pruned +snapshot pj@s4 ' "$(cat "$T/prune.out")" "prune piped: the items"
assert_eq "" "$(cat "$T/prune.err")" "prune piped: nothing on stderr (no progress, no gc line)"
assert_no_match $'\r' "$(cat "$T/prune.out" "$T/prune.err")" "prune piped: no carriage return anywhere"
out=$(ctl prune 2>&1 | cat)
assert_no_match 'EIR [0-9]+/|examined' "$out" "prune into a pipe (stderr too): no progress"

tty_out=$(on_tty "$CTL gc")
assert_match $'\rgc: EIR [0-9]+/[0-9]+, [0-9]+ chunks looked at, [0-9]+ freed \\(' "$tty_out" \
	"gc on a terminal: its progress line"
out=$(ctl gc 2>&1)
assert_match '^gc: [0-9]+ EIRs, ' "$out" "gc piped: the summary"
assert_no_match 'gc: EIR|'$'\r' "$out" "gc piped: no progress line"
tty_out=$(on_tty "$CTL scrub")
assert_match $'\rscrub: [0-9]+/[0-9]+ files' "$tty_out" "scrub on a terminal: its progress line"
out=$(ctl scrub 2>&1)
assert_no_match '[0-9]+/[0-9]+ files|'$'\r' "$out" "scrub piped: no progress line"
tty_out=$(on_tty "$CTL prune --json")
assert_no_match 'prune: EIR' "$tty_out" "prune --json on a terminal: no line drawn over the document"

# ---- every listing has --json (global, or after the verb) ----------------------------------
as "$ALICE" sh -c "echo gone >$E/gone.txt" && settle pj
as "$ALICE" rm "$E/gone.txt"
expect_ok ctl hold add pj/notes.txt --until 2099-01-01 --reason audit
expect_ok ctl calendar holiday add 2099-12-24 --note christmas
PLAN=$(date -u -d '+40 days' +%F)
expect_ok ctl restore-test plan pj --date "$PLAN"
expect_ok ctl restore-test record pj --snapshot s5 --result pass
poll_until 10 sh -c "$CTL --json trash list pj | grep -q gone.txt" || fail "the deletion reached trash"
EIR_KEYS="name id mode state class owner quota used files retention"
SNAP_KEYS="eir name gen created by files bytes not_included"
for form in global verb; do
	run() { # run ARGS...: the command with --json where FORM puts it
		if [ "$form" = global ]; then ctl --json "$@"; else ctl "$@" --json; fi
	}
	json_has "$form: eir list" $EIR_KEYS < <(run eir list)
	json_has "$form: eir show" $EIR_KEYS < <(run eir show pj)
	json_has "$form: status" store format daemon_running daemon_pid eirs < <(run status)
	json_has "$form: snapshot list" $SNAP_KEYS < <(run snapshot list)
	json_has "$form: snapshot show" $SNAP_KEYS < <(run snapshot show pj@s5)
	json_has "$form: hold list" eir path until reason active by created < <(run hold list)
	json_has "$form: trash list" id eir path size sha256 sealed trashed why expires < <(run trash list pj)
	json_has "$form: restore-test list" eir class interval_months due status last_pass next_plan < <(run restore-test list)
	json_has "$form: calendar holiday list" date note < <(run calendar holiday list)
	json_has "$form: calendar zone" zone utc_offset_s today < <(run calendar zone)
	json_has "$form: audit show" seq time eir event details hash prev_hash < <(run audit show)
	json_has "$form: audit verify" intact records journal < <(run audit verify)
	json_has "$form: audit head" seq hash journal < <(run audit head)
	json_has "$form: audit mirror" mirror < <(run audit mirror)
	json_has "$form: gc" eirs chunks chunks_freed bytes_freed chunks_busy by_daemon < <(run gc)
	json_has "$form: prune" items dry_run snapshots kept trash trash_bytes held mounted eirs < <(run prune --dry-run)
	json_has "$form: scrub" files files_damaged chunks chunks_damaged bytes damaged < <(run scrub)
	json_has "$form: fsck" clean problems findings < <(run fsck)
done
for cmd in "eir list" "status" "snapshot list" "hold list" "trash list pj" "restore-test list" \
	"calendar holiday list" "audit show" "gc" "prune --dry-run"; do
	out=$(ctl --json $cmd | "$PY" -m json.tool 2>&1 >/dev/null)
	assert_eq "" "$out" "python3 -m json.tool accepts enrpctl --json $cmd"
done
ID=$(ctl --json trash list pj | "$PY" -c 'import json, sys; print([e["id"] for e in json.load(sys.stdin) if e["path"] == "gone.txt"][0])')
json_has "trash restore --json" eir id path size sha256 < <(ctl trash restore pj "$ID" --to back.txt --json)
as "$ALICE" rm "$E/back.txt"
poll_until 10 sh -c "$CTL --json trash list pj | grep -q back.txt" || fail "the second deletion reached trash"
j=$(ctl trash purge pj --json)
json_has "trash purge --json" eir id purged bytes kept collecting <<<"$j"
assert_eq "1 5" "$("$PY" -c 'import json, sys; j = json.load(sys.stdin); print(j["purged"], j["bytes"])' <<<"$j")" \
	"trash purge --json: one entry of 5 bytes"
L=$T/latest
mkdir "$L" && chmod 755 "$L"
EXTRA_MOUNTS+=("$L")
j=$(ctl snapshot mount pj@latest "$L" --json)
json_has "snapshot mount --json" snapshot created mountpoint allow <<<"$j"
assert_eq "True $L" "$("$PY" -c 'import json, sys; j = json.load(sys.stdin); print(j["created"], j["mountpoint"])' <<<"$j")" \
	"snapshot mount --json: created (latest), where"

# ---- every action journalled with its counts -----------------------------------------------
N='[0-9]+'
assert_match "^snapshot=latest-[^ ]+ gen=$N files=2 bytes=$N not_included=0$" "$(details snapshot-create)" \
	"snapshot-create: files and bytes"
assert_match "^snapshot=s4 gen=$N files=2 bytes=$N versions_moved=$N versions_released=$N$" "$(details snapshot-delete)" \
	"snapshot-delete: files, bytes and versions"
assert_match "^snapshot=latest-[^ ]+ gen=$N files=2 bytes=$N mountpoint=$L allow=-$" "$(details snapshot-mount)" \
	"snapshot-mount: files and bytes"
expect_ok ctl snapshot umount "$L"
expect_ok ctl snapshot umount "$R"
assert_match "^snapshot=s2 gen=$N files=2 bytes=$N mountpoint=$R$" "$(details snapshot-umount)" \
	"snapshot-umount: files and bytes"
assert_match "^path=notes.txt ino=$N bytes=4 until=$N reason=audit$" "$(details hold-add)" \
	"hold-add of a file: its bytes"
expect_ok ctl hold extend pj@s1 --until 2100-01-01
assert_match "^snapshot=s1 files=2 bytes=$N until=$N reason=long-term$" "$(details hold-extend)" \
	"hold-extend of a snapshot: its files and bytes"
assert_match "^seq=$N date=$PLAN workdays_ahead=$N note=$" "$(details restore-test-planned)" \
	"restore-test-planned: the notice in working days"
assert_match "^seq=$N snapshot=s5 files=2 bytes=$N result=pass date=" "$(details restore-test-recorded)" \
	"restore-test-recorded: the restored snapshot's files and bytes"
assert_match "^id=$N path=back.txt ino=$N size=5 sha256=" "$(details trash-restore)" "trash-restore: its size"
assert_match "^all=yes count=1 bytes=5 kept=0" "$(details trash-purge)" "trash-purge: count, bytes, kept"
expect_ok ctl gc
assert_match "^chunks_freed=$N bytes_freed=$N" "$(details gc)" "gc: chunks and bytes freed"

finish
