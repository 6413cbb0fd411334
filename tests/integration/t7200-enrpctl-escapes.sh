#!/bin/bash
# t7200: enrpctl never writes a user's string raw to the terminal.  EIR names,
# store paths, option values (mode, owner, class, quota, dir-mode, rpo, retention,
# duration, agent, dates, events), unknown options, and reasons that passed
# validation but hold bidi overrides are echoed with control characters,
# escape sequences, C1 controls and bidi/invisible format characters escaped
# (\x1b, \n, \u202e), in messages, in `eir show`, `eir list`, `audit show`,
# `status` and `init` output, and in --json (as \u escapes, still valid JSON).
# A newline in a string never makes a line of its own.
. "$(dirname "$0")/lib.sh"
setup

mk_eir a --owner "$ALICE"
mk_eir act --owner "$ALICE" --mode active --agent "$AGENT"

ESC=$'\e[31mRED\e[0m\e]0;title\a'    # colour, OSC window title with BEL
NL=$'x\nenrpctl: fake line'          # a newline faking a second message
C1=$'\xc2\x9b2J'                      # U+009B, CSI for 8-bit terminals
BIDI=$'txt\xe2\x80\xaeexe.sh'          # U+202E right-to-left override
BAD=$'\xff\xfe'                        # not UTF-8

# raw TEXT: whether TEXT holds a byte a terminal acts on: C0 controls but
# newline, DEL, C1 controls as UTF-8, bidi overrides/isolates.
raw() {
	printf '%s' "$1" | LC_ALL=C grep -qP '[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xa9]|\xff'
}
# clean DESC LINES ARGS...: enrpctl ARGS; nothing raw in stdout or stderr,
# and stderr has at most LINES lines (a newline in an argument added none).
clean() {
	local desc=$1 lines=$2 out err
	shift 2
	out=$( (exec -a enrpctl "$ENRPCTL" "$@") 2>"$T/err")
	err=$(cat "$T/err")
	if raw "$out$err"; then
		fail "$desc: raw control bytes reached the terminal: $(printf '%s%s' "$out" "$err" | od -c | head -n 3 | tr '\n' ' ')"
	else
		pass "$desc: nothing raw"
	fi
	if [ "$lines" -gt 0 ]; then
		local n
		n=$(printf '%s' "$err" | grep -c '')
		assert_true "$desc: at most $lines line(s) on stderr ($n)" test "$n" -le "$lines"
	fi
	LAST_OUT=$out LAST_ERR=$err
}
has() { # has FIXED TEXT DESCRIPTION
	if grep -qF -- "$1" <<<"$2"; then pass "$3"; else fail "$3: '${2:0:300}' lacks '$1'"; fi
}
S=(-S "$STORE")

# ---- names and paths in messages ---------------------------------------------------------------
for s in "$ESC" "$NL" "$C1" "$BIDI" "$BAD"; do
	for verb in show "set --mode ro" "suspend --reason r" resume "retire --reason r" deescalate \
		"escalate --for 1h --reason r"; do
		# shellcheck disable=SC2086
		clean "eir $verb NAME" 3 "${S[@]}" eir $verb -- "$s"
	done
	clean "eir create NAME" 3 "${S[@]}" eir create --owner "$ALICE" -- "$s"
	clean "-S PATH" 3 -S "$T/$s" eir list
	clean "init PATH (missing parent)" 3 init "$T/nodir/$s"
done
clean "eir show ESC" 3 "${S[@]}" eir show "$ESC"
has "'\x1b[31mRED\x1b[0m\x1b]0;title\x07'" "$LAST_ERR" "the name is shown with \\x escapes"
clean "eir show NL" 3 "${S[@]}" eir show "$NL"
has "x\nenrpctl: fake line" "$LAST_ERR" "a newline is shown as \\n, inside the message"
clean "eir show C1" 3 "${S[@]}" eir show "$C1"
has "\u009b2J" "$LAST_ERR" "U+009B is shown as \\u009b"

# ---- option values ----------------------------------------------------------------------------
for s in "$ESC" "$NL" "$C1" "$BIDI"; do
	clean "--mode" 3 "${S[@]}" eir set a --mode "$s"
	clean "--owner" 3 "${S[@]}" eir set a --owner "$s"
	clean "--owner USER:GROUP" 3 "${S[@]}" eir set a --owner "$ALICE:$s"
	clean "--agent" 3 "${S[@]}" eir set act --agent "$s"
	clean "--class" 3 "${S[@]}" eir set a --class "$s"
	clean "--quota" 3 "${S[@]}" eir set a --quota "$s"
	clean "--dir-mode" 3 "${S[@]}" eir set a --dir-mode "$s"
	clean "--rpo" 3 "${S[@]}" eir set act --rpo "$s"
	clean "--retention" 3 "${S[@]}" eir set a --retention "$s"
	clean "--retention VALUE" 3 "${S[@]}" eir set a --retention "keep-daily=$s"
	clean "--for" 3 "${S[@]}" eir escalate act --for "$s" --reason r
	clean "--since" 3 "${S[@]}" audit show --since "$s"
	clean "--event" 3 "${S[@]}" audit show --event "$s"
	clean "unknown verb option" 4 "${S[@]}" eir list "--$s"
	clean "unknown global option" 0 "--$s" eir list
	clean "unknown command" 0 "${S[@]}" "$s"
	clean "unknown verb" 0 "${S[@]}" eir "$s"
done
for s in "$ESC" "$NL" "$C1" "$BAD"; do
	clean "--reason refused" 3 "${S[@]}" eir suspend a --reason "$s"
	assert_match "^enrpctl: the reason (contains a control character|is not valid UTF-8)" "$LAST_ERR" \
		"--reason: a control character or bad UTF-8 is refused"
done
clean "unknown option" 4 "${S[@]}" eir list "--$ESC"
has "unrecognized option '--\x1b[31mRED" "$LAST_ERR" "an unknown option is named, escaped"

# ---- stored strings: reasons with a bidi override pass validation ------------------------------
expect_ok ctl eir suspend a --reason "$BIDI"
expect_ok ctl eir escalate act --for 1h --reason "$BIDI"
clean "eir show" 0 "${S[@]}" eir show a
has "state-reason: txt\u202eexe.sh" "$LAST_OUT" "eir show: the reason, its override escaped"
clean "eir show act" 0 "${S[@]}" eir show act
has "escalation-reason: txt\u202eexe.sh" "$LAST_OUT" "eir show: the escalation reason escaped"
clean "eir list" 0 "${S[@]}" eir list
clean "audit show" 0 "${S[@]}" audit show
has "reason=txt\u202eexe.sh" "$LAST_OUT" "audit show: the journalled reason escaped"
clean "eir show --json" 0 "${S[@]}" eir show a --json
assert_eq "$BIDI" "$(ctl eir show a --json | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["state_reason"])')" \
	"--json: the same string, escaped as \\u202e (valid JSON)"
clean "audit show --json" 0 "${S[@]}" audit show --json
assert_true "audit show --json parses" bash -c '"$1" -S "$2" audit show --json | "$3" -m json.tool >/dev/null' \
	_ "$ENRPCTL" "$STORE" "$PY"

# ---- a store whose path holds escapes ----------------------------------------------------------
S2=$T/$'st\e[7mre'
clean "init" 0 init "$S2"
has "initialised store at $T/st\x1b[7mre" "$LAST_OUT" "init: the path escaped"
clean "status" 0 -S "$S2" status
has "store: $T/st\x1b[7mre" "$LAST_OUT" "status: the path escaped"

finish
