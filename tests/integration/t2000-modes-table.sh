#!/bin/bash
# t2000: the access-mode table of DESIGN §4, generated: every mode (and the
# escalated, suspended and retired variants) x every caller (the owner, another
# user — let in to search by --dir-mode 0755, working in a directory of its
# own — the active EIR's agent, root)
# x every operation, each cell asserted with its exact errno.  The expected
# value comes from expect_cell below, written from DESIGN §4 independently of
# core/policy.c.  Also: escalation and its expiry, suspend/resume/retire.
. "$(dirname "$0")/lib.sh"
setup

mk_eir team --owner "$ALICE:$TEAM" --agent "$AGENT" --dir-mode 0755
mount_fs
E=$MNT/team
CALLERS=("$ALICE" "$BOB" "$AGENT" root)

# ---- the expectation (DESIGN §4) -----------------------------------------------
# write_verdict MODE STATE ESCALATED CALLER
write_verdict() {
	case $2 in suspended | retired) echo EROFS; return ;; esac
	case $1 in
	rw | wo) echo ok ;;
	ro) echo EROFS ;;
	active)
		if [ "$4" = "$AGENT" ] || [ "$3" = 1 ]; then echo ok; else echo EROFS; fi
		;;
	esac
}
# read_verdict MODE: reads are refused only in wo (state does not matter).
read_verdict() { if [ "$1" = wo ]; then echo EACCES; else echo ok; fi; }

# expect_cell MODE STATE ESCALATED CALLER CLASS -> ok | ERRNO | ERRNO|ERRNO
expect_cell() {
	local r w
	case $5 in
	INSPECT) echo ok ;;
	READ) read_verdict "$1" ;;
	WRITE | REMOVE) write_verdict "$1" "$2" "$3" "$4" ;;
	SHRINK) # cutting bytes the caller did not write in its own session:
		# a write, and in wo refused (a checksum of the rest would tell)
		w=$(write_verdict "$1" "$2" "$3" "$4")
		if [ "$w" = ok ] && [ "$1" = wo ]; then echo EACCES; else echo "$w"; fi
		;;
	RDWR) # open O_RDWR is a read and a write: refused if either is
		r=$(read_verdict "$1")
		w=$(write_verdict "$1" "$2" "$3" "$4")
		if [ "$r" = ok ]; then echo "$w"
		elif [ "$w" = ok ] || [ "$w" = "$r" ]; then echo "$r"
		else echo "$r|$w"; fi
		;;
	esac
}

# ---- the operations: NAME CLASS COMMAND ($1 = caller's fixture dir, $2 = EIR) ----
OPS=(
	"stat|INSPECT|stat \"\$1/f\""
	"ls|INSPECT|ls -la \"\$1\""
	"readlink|INSPECT|readlink -v \"\$1/l\""
	"statfs|INSPECT|stat -f \"\$1\""
	"getxattr|INSPECT|getfattr -n user.k \"\$1/f\""
	"status|INSPECT|cat \"\$2/.enrp/status\""
	"read|READ|cat \"\$1/f\""
	"rdwr|RDWR|exec 3<>\"\$1/f\""
	"create|WRITE|echo new > \"\$1/new\""
	"append|WRITE|echo more >> \"\$1/app\""
	"truncate|SHRINK|truncate -s 2 \"\$1/tr\""
	"mkdir|WRITE|mkdir \"\$1/nd\""
	"mkfifo|WRITE|mkfifo \"\$1/np\""
	"symlink|WRITE|ln -s f \"\$1/nl\""
	"link|WRITE|ln \"\$1/f\" \"\$1/nh\""
	"rename|WRITE|mv \"\$1/f2\" \"\$1/f2r\""
	"chmod|WRITE|chmod 600 \"\$1/ch\""
	"utimens|WRITE|touch -d '2001-01-01 00:00 UTC' \"\$1/tm\""
	"setxattr|WRITE|setfattr -n user.n -v 1 \"\$1/sx\""
	"rmxattr|WRITE|setfattr -x user.k \"\$1/rx\""
	"unlink|REMOVE|rm \"\$1/u\""
	"rmdir|REMOVE|rmdir \"\$1/rd\""
)

FIXTURE='set -e; cd "$1"
echo data > f; setfattr -n user.k -v v f
echo two > f2; echo u > u; mkdir rd; ln -s f l
echo app > app; echo trunc > tr; echo ch > ch; echo tm > tm; echo sx > sx
echo rx > rx; setfattr -n user.k -v v rx'

# Errno name from a command's stderr.
classify() {
	local e
	for e in EACCES EROFS EPERM ENOENT EEXIST EDQUOT EIO ENOTCONN EINVAL ENOSPC; do
		case $1 in *"$(errmsg "$e")"*) echo "$e"; return ;; esac
	done
	echo "ERR"
}

snapshot() { (cd "$1" && find . -printf '%P %y %m %s %T@ %n %l\n' | sort); }

short() {
	case $1 in
	ok) echo ok ;; EACCES) echo ACC ;; EROFS) echo ROFS ;; EPERM) echo PERM ;;
	*) echo "${1:0:4}" ;;
	esac
}

TABLE=()
header=$(printf '%-22s' "config/caller")
for op in "${OPS[@]}"; do header+=$(printf ' %-5.5s' "${op%%|*}"); done
TABLE+=("$header")

# reset_eir: back to rw, normal, not escalated (fixtures are made there).
reset_eir() {
	ctl eir deescalate team >/dev/null 2>&1
	ctl eir resume team >/dev/null 2>&1
	set_mode team rw
}

# run_config LABEL MODE STATE ESCALATED
run_config() {
	local label=$1 mode=$2 state=$3 esc=$4 c d op name class cmd want got err row before out rc
	local -A snap=()
	reset_eir
	for c in "${CALLERS[@]}"; do
		d=$E/$label-$c
		# The EIR directory lets only its owner write (the registry
		# decides); each caller gets a directory of its own below it.
		mkdir "$d" && chown "$c:" "$d" || die "cannot make $d"
		out=$(as "$c" bash -c "$FIXTURE" _ "$d" 2>&1) || die "fixture for $c in $label: $out"
		snap[$c]=$(snapshot "$d")
	done
	set_mode team "$mode"
	if [ "$esc" = 1 ]; then
		out=$(ctl eir escalate team --for 1h --reason "t2000 escalated table" 2>&1) || die "escalate: $out"
	fi
	case $state in
	suspended) out=$(ctl eir suspend team --reason "t2000 suspended table" 2>&1) || die "suspend: $out" ;;
	retired) out=$(ctl eir retire team --reason "t2000 retired table" --yes 2>&1) || die "retire: $out" ;;
	esac
	for c in "${CALLERS[@]}"; do
		d=$E/$label-$c
		row=$(printf '%-22s' "$label/${c#enrp-}")
		for op in "${OPS[@]}"; do
			name=${op%%|*}
			class=${op#*|}
			class=${class%%|*}
			cmd=${op#*|*|}
			want=$(expect_cell "$mode" "$state" "$esc" "$c" "$class")
			err=$(as "$c" bash -c "$cmd" _ "$d" "$E" 2>&1 >/dev/null)
			rc=$?
			if [ "$rc" -eq 0 ]; then got=ok; else got=$(classify "$err"); fi
			if [ "$got" = "$want" ] || { [ "$got" != ok ] && [[ "|$want|" == *"|$got|"* ]]; }; then
				pass "$label $c $name: $got"
				row+=$(printf ' %-5s' "$(short "$got")")
			else
				fail "$label $c $name: got $got, expected $want (stderr: ${err:0:200})"
				row+=$(printf ' %-5s' "$(short "$got")!")
			fi
		done
		TABLE+=("$row")
		# Where every change is refused, nothing may have changed.
		if [ "$(write_verdict "$mode" "$state" "$esc" "$c")" != ok ]; then
			assert_eq "${snap[$c]}" "$(snapshot "$d")" "$label $c: refused changes left the tree as it was"
		fi
	done
}

run_config rw rw normal 0
run_config wo wo normal 0
run_config ro ro normal 0
run_config active active normal 0
run_config active+esc active normal 1
run_config rw+susp rw suspended 0
run_config wo+susp wo suspended 0
run_config active+susp active suspended 0

# ---- escalation: grant and revoke, journalled -----------------------------------------
reset_eir
# A directory everyone may write in, for the callers the EIR directory keeps
# out of its own entries.
mkdir -m 0777 "$E/esc" || die "mkdir esc"
expect_ok as "$BOB" bash -c 'echo base > "$1/esc/esc-file" && chmod 666 "$1/esc/esc-file"' _ "$E"
set_mode team active
expect_fail EROFS as "$BOB" bash -c 'echo x >> "$1/esc/esc-file"' _ "$E"
expect_ok as "$AGENT" bash -c 'echo agent >> "$1/esc/esc-file"' _ "$E"
expect_ok ctl eir escalate team --for 2h --reason "restore drill"
expect_ok as "$BOB" bash -c 'echo escalated >> "$1/esc/esc-file"' _ "$E"
expect_ok as "$ALICE" touch "$E/esc-alice"
expect_ok ctl eir deescalate team
expect_fail EROFS as "$BOB" bash -c 'echo after >> "$1/esc/esc-file"' _ "$E"
expect_fail EROFS as "$ALICE" rm "$E/esc-alice"
assert_eq "$(printf 'base\nagent\nescalated')" "$(cat "$E/esc/esc-file")" "escalated write kept, others refused"
assert_match '^[1-9]' "$(audit_count --eir team --event escalate)" "escalate journalled"
assert_match '^[1-9]' "$(audit_count --eir team --event deescalate)" "deescalate journalled"
expect_exit 1 ctl eir deescalate team

# ---- escalation expiry ---------------------------------------------------------------------
expect_ok ctl eir escalate team --for 2s --reason "short window"
bob_refused() {
	local err
	err=$(as "$BOB" bash -c 'echo late >> "$1/esc/esc-expiry"' _ "$E" 2>&1) && return 1
	case $err in *"$(errmsg EROFS)"*) return 0 ;; esac
	return 1
}
if poll_until 60 bob_refused; then
	pass "writes refused with EROFS once the escalation expired"
else
	fail "writes still not refused with EROFS 60 s after a 2 s escalation"
fi
expired() { [ "$(audit_count --eir team --event escalation-expired)" -ge 1 ]; }
if poll_until 30 expired; then
	pass "escalation-expired journalled"
else
	fail "no escalation-expired record 30 s after expiry"
fi
expect_ok as "$AGENT" bash -c 'echo agent-still >> "$1/esc/esc-file"' _ "$E"

# ---- escalation is only for active EIRs -------------------------------------------------
set_mode team rw
expect_exit 1 ctl eir escalate team --for 1h --reason "not active"

# ---- suspend / resume -------------------------------------------------------------------------
expect_ok ctl eir suspend team --reason "operator stop"
assert_eq suspended "$(status_field team state)" ".enrp/status state: suspended"
expect_fail EROFS as "$ALICE" bash -c 'echo x > "$1/susp"' _ "$E"
expect_ok as "$ALICE" cat "$E/esc/esc-file"
expect_ok ctl eir resume team
assert_eq normal "$(status_field team state)" ".enrp/status state: normal after resume"
expect_ok as "$ALICE" bash -c 'echo x > "$1/resumed"' _ "$E"

# ---- retire is final ----------------------------------------------------------------------------
run_config rw+retired rw retired 0
assert_eq retired "$(status_field team state)" ".enrp/status state: retired"
expect_exit 1 ctl eir resume team
expect_fail EROFS as "$ALICE" bash -c 'echo x > "$1/after-retire"' _ "$E"
expect_ok as "$ALICE" cat "$E/esc/esc-file"
# Not even its mode changes any more (t7100 tries every verb).
expect_exit 1 ctl eir set team --mode wo
assert_eq rw "$(status_field team mode)" "a retired EIR keeps the mode it had"
expect_fail EROFS as "$ALICE" bash -c 'echo x > "$1/after-retire"' _ "$E"
expect_ok as "$ALICE" cat "$E/esc/esc-file"
expect_ok ctl audit verify

printf '\n'
printf '# %s\n' "${TABLE[@]}"
finish
