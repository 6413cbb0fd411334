#!/bin/bash
# t7100: retirement is final (DESIGN §4: "retired ... writes fail with EROFS
# forever, data kept until retention expires").  Every verb that would change
# a retired EIR — set of each field (even to the value it has), escalate,
# deescalate, suspend, resume, retire again — exits 1 with a message saying
# it is retired, prints nothing on stdout, journals nothing and changes
# nothing: the registry, the EIR directory on the mount, and its data, which
# stay readable and refuse writes.
. "$(dirname "$0")/lib.sh"
setup

mk_eir old --owner "$ALICE" --quota 10M
mk_eir act --owner "$ALICE" --mode active --agent "$AGENT"
mount_fs
as "$ALICE" sh -c 'echo kept >"$1"' _ "$MNT/old/f" || die "write"
expect_ok ctl eir escalate act --for 1h --reason "drill"
expect_ok ctl eir retire old --reason "removed from the critical list" --yes
expect_ok ctl eir retire act --reason "decommissioned" --yes

state() {
	audit_count
	eir_settings old
	eir_settings act
	stat -c '%U %G %a' "$MNT/old" "$MNT/act"
}
BEFORE=$(state)

# refused ARGS...: enrpctl ARGS exits 1, nothing on stdout, an "enrpctl:"
# line saying the EIR is retired and a hint.
refused() {
	local out err rc desc="enrpctl $(cmdstr "$@")"
	out=$(ctl "$@" 2>"$T/err")
	rc=$?
	err=$(cat "$T/err")
	assert_eq 1 "$rc" "$desc: exit 1"
	assert_eq "" "$out" "$desc: nothing on stdout"
	assert_match "^enrpctl: .*(it is retired, and retirement is final|is already retired)" \
		"$(head -n1 <<<"$err")" "$desc: says it is retired"
	assert_match "^hint: " "$(sed -n 2p <<<"$err")" "$desc: gives a hint"
}

for e in old act; do
	refused eir set "$e" --mode ro
	refused eir set "$e" --mode rw
	refused eir set "$e" --owner "$BOB"
	refused eir set "$e" --owner "$ALICE"      # its current owner
	refused eir set "$e" --quota 1G
	refused eir set "$e" --quota none
	refused eir set "$e" --class 1
	refused eir set "$e" --rpo 5
	refused eir set "$e" --dir-mode 0750
	refused eir set "$e" --agent "$BOB"
	refused eir set "$e" --mode ro --quota 1G --owner "$BOB"
	refused eir escalate "$e" --for 1h --reason "again"
	refused eir deescalate "$e"
	refused eir suspend "$e" --reason "pause"
	refused eir resume "$e"
	refused eir retire "$e" --reason "twice" --yes
	refused eir retire "$e" --reason "twice" --dry-run
done

assert_text_eq "$BEFORE" "$(state)" "nothing changed: journal, registry, directories"
assert_eq kept "$(as "$ALICE" cat "$MNT/old/f")" "a retired EIR's data stays readable"
expect_fail EROFS as "$ALICE" sh -c 'echo x >>"$1"' _ "$MNT/old/f"
expect_fail EROFS as "$ALICE" touch "$MNT/act/new"
expect_ok ctl audit verify

finish
