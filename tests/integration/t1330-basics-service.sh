#!/bin/bash
# t1330: enrp as a service (issue 10, item 5).
#
#   - `enrpctl -V` and `--version` give the version `enrpfs -V` gives;
#   - `make install` (DESTDIR, PREFIX) installs the binaries, the man pages,
#     the bash completion and enrpfs@.service, and `make uninstall` removes
#     them; `systemd-analyze verify` accepts the unit without a word.  (The
#     unit itself cannot run here: systemd is not PID 1 in the test machine.)
#   - under a service manager (NOTIFY_SOCKET, as systemd sets it for
#     Type=notify), `enrpfs -f` says READY=1 once the mount is up and
#     STOPPING=1 when it is unmounted;
#   - -o logfile=FILE: timestamped lines, one per message; SIGHUP reopens
#     the file (logrotate) instead of ending the mount; bad paths are
#     refused before anything is mounted;
#   - without a syslog socket and without logfile=, a daemonising enrpfs
#     says on stderr that its messages would be lost;
#   - the bash completion completes commands, verbs, options and EIR names.
. "$(dirname "$0")/lib.sh"
setup

mk_eir db1 --owner "$ALICE"
mk_eir web2 --owner "$BOB"

# ---- versions ----------------------------------------------------------------------------------------
fsver=$("$ENRPFS" -V | awk '{ print $2 }')
assert_match '^[0-9]+\.[0-9]+\.[0-9]+$' "$fsver" "enrpfs -V gives a version: $fsver"
for opt in -V --version; do
	out=$(ctl_nostore "$opt" 2>&1)
	assert_eq 0 "$?" "enrpctl $opt exits 0"
	assert_match "^enrpctl $fsver " "$out" "enrpctl $opt gives enrpfs's version: $out"
done

# ---- make install / uninstall ------------------------------------------------------------------------
# -o: install what the suite runs against, never rebuild it from here.
inst() { make -s -C "$REPO" -o "$ENRPFS" -o "$ENRPCTL" BUILD="$BUILDDIR" "$@"; }
D=$T/dest
out=$(inst install DESTDIR="$D" PREFIX=/usr/local 2>&1)
assert_eq 0 "$?" "make install DESTDIR=... exits 0 ${out:+($out)}"
for f in sbin/enrpfs sbin/enrpctl share/man/man8/enrpfs.8 share/man/man8/enrpctl.8 \
	share/bash-completion/completions/enrpctl lib/systemd/system/enrpfs@.service \
	lib/systemd/system/enrp-notify@.service lib/systemd/system/enrp-notify@.timer; do
	assert_true "make install put /usr/local/$f under DESTDIR" test -s "$D/usr/local/$f"
done
unit=$D/usr/local/lib/systemd/system/enrpfs@.service
assert_match '^ExecStart=/usr/local/sbin/enrpfs -f \$\{STORE\} \$\{MOUNTPOINT\} \$OPTIONS$' \
	"$(grep '^ExecStart=' "$unit")" "the unit runs the installed enrpfs in the foreground"
assert_match '^Type=notify$' "$(grep '^Type=' "$unit")" "the unit is Type=notify"
assert_match '^EnvironmentFile=/etc/enrp/%i.conf$' "$(grep '^EnvironmentFile=' "$unit")" \
	"an instance reads /etc/enrp/NAME.conf"
# Each of these would give the service its own mount namespace, and hide
# the mount from the host.
assert_eq "" "$(grep -E '^(ProtectSystem|ProtectHome|PrivateTmp|PrivateDevices|PrivateMounts|ReadWritePaths|ProtectKernel[A-Za-z]*|ProtectControlGroups|ProtectHostname)=' "$unit")" \
	"no hardening option that would hide the mount in a namespace"
out=$(inst uninstall DESTDIR="$D" PREFIX=/usr/local 2>&1)
assert_eq 0 "$?" "make uninstall exits 0 ${out:+($out)}"
assert_eq "" "$(find "$D" -type f)" "make uninstall removed every installed file"

# verify needs the unit's ExecStart to exist: install for real under $T.
P=$T/prefix
inst install PREFIX="$P" >/dev/null 2>&1 || fail "make install PREFIX=$P"
out=$(systemd-analyze verify --man=no "$P/lib/systemd/system/enrpfs@backup.service" 2>&1)
rc=$?
assert_eq 0 "$rc" "systemd-analyze verify enrpfs@backup.service exits 0"
assert_eq "" "$out" "systemd-analyze verify has nothing to say about the unit"
out=$(systemd-analyze verify --man=no "$P/lib/systemd/system/enrp-notify@backup.service" \
	"$P/lib/systemd/system/enrp-notify@backup.timer" 2>&1)
rc=$?
assert_eq 0 "$rc" "systemd-analyze verify enrp-notify@backup.service and .timer exits 0"
assert_eq "" "$out" "systemd-analyze verify has nothing to say about them"
assert_match '^ExecStart=/bin/sh -c .exec '"$P"'/sbin/enrpctl -S "\$\$STORE" notify ' \
	"$(grep '^ExecStart=' "$P/lib/systemd/system/enrp-notify@.service")" \
	"the notify service runs the installed enrpctl notify"

# ---- sd_notify ---------------------------------------------------------------------------------------
# A service manager's end of NOTIFY_SOCKET: prints each datagram, one per
# line with newlines as '|', until told to stop.
"$PY" - "$T/notify.sock" >"$T/notify.out" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
try:
    while True:
        msg = s.recv(4096).decode()
        print(msg.replace("\n", "|"), flush=True)
        if "STOPPING=1" in msg:
            break
except socket.timeout:
    pass
EOF
listener=$!
CLEANUP_PIDS+=("$listener")
poll_until 10 test -S "$T/notify.sock" || die "no notify socket"
NOTIFY_SOCKET=$T/notify.sock "$ENRPFS" -f "$STORE" "$MNT" 2>"$T/fg.err" &
fgpid=$!
CLEANUP_PIDS+=("$fgpid")
poll_until 20 grep -q READY=1 "$T/notify.out" || fail "no READY=1 from enrpfs -f: $(cat "$T/fg.err")"
assert_true "at READY=1 the mount is up" is_mounted "$MNT"
assert_match "^READY=1\|STATUS=serving $STORE at $MNT$" "$(head -n1 "$T/notify.out")" \
	"READY=1 comes with a STATUS naming store and mount point"
fusermount3 -u "$MNT" || fail "fusermount3 -u $MNT"
wait "$listener"
assert_match "STOPPING=1" "$(cat "$T/notify.out")" "STOPPING=1 once unmounted"
poll_until 30 pid_gone "$fgpid" || fail "enrpfs -f still runs after unmount"
wait "$fgpid"
assert_eq 0 "$?" "enrpfs -f exits 0 after the unmount"

# ---- logfile= ----------------------------------------------------------------------------------------
out=$("$ENRPFS" -o logfile=relative.log "$STORE" "$MNT" 2>&1)
assert_eq 2 "$?" "a relative logfile= is a usage error"
assert_match "^enrpfs: bad option 'logfile=relative.log': logfile needs an absolute path" "$out" \
	"... said: $(head -n1 <<<"$out")"
out=$("$ENRPFS" -o logfile="$T/no/such/dir/log" "$STORE" "$MNT" 2>&1)
assert_eq 1 "$?" "a logfile= in a missing directory is refused"
assert_match "^enrpfs: cannot open log file '$T/no/such/dir/log': No such file or directory" "$out" \
	"... said: $(head -n1 <<<"$out")"
assert_true "nothing was mounted by the refused starts" not_mounted "$MNT"

LOG=$T/enrpfs.log
out=$("$ENRPFS" -o logfile="$LOG" "$STORE" "$MNT" 2>&1)
assert_eq 0 "$?" "enrpfs -o logfile= mounts"
assert_eq "" "$out" "with a log file, no warning about lost messages"
poll_until 20 is_mounted "$MNT" || die "not mounted"
pid=$(daemon_pid)
ts='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}[+-][0-9]{2}:[0-9]{2}'
assert_match "^$ts enrpfs\\[$pid\\]: info: serving $STORE at $MNT$" "$(cat "$LOG")" \
	"the log file has the start, timestamped, with the daemon's pid"
mv "$LOG" "$LOG.1"
kill -HUP "$pid"
poll_until 5 test -e "$LOG" # reopened only at the next message
assert_true "SIGHUP with logfile= does not end the mount" is_mounted "$MNT"
assert_eq live "$(as "$ALICE" bash -c 'echo live > "$1" && cat "$1"' _ "$MNT/db1/f")" "the mount still serves after SIGHUP"
umount_fs
assert_match "^$ts enrpfs\\[$pid\\]: info: unmounted from $MNT; finishing and stopping$" \
	"$(cat "$LOG" 2>&1)" "after SIGHUP the next message went to a new file at the same path"
assert_eq 0 "$(grep -c unmounted "$LOG.1")" "... and not to the rotated one"

# ---- no syslog socket --------------------------------------------------------------------------------
out=$("$ENRPFS" "$STORE" "$MNT" 2>&1)
assert_eq 0 "$?" "enrpfs without logfile= mounts"
if [ -S /dev/log ]; then
	assert_eq "" "$out" "with a syslog socket, no warning"
else
	assert_match "^enrpfs: warning: no syslog socket \(/dev/log\) on this host: the daemon's messages will be lost" \
		"$out" "without /dev/log, enrpfs says that its messages would be lost"
	assert_match "^hint: mount with -o logfile=" "$out" "... and how to keep them"
fi
poll_until 20 is_mounted "$MNT" || die "not mounted"
umount_fs

# ---- bash completion ---------------------------------------------------------------------------------
# complete WORDS...: what the completion offers for the last word.
complete_words() {
	ENRP_STORE='' bash -c 'source "$1" && shift && COMP_WORDS=("$@") && COMP_CWORD=$(($# - 1)) &&
		_enrpctl && printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' \
		_ "$REPO/tools/enrpctl.bash-completion" "$ENRPCTL" "$@"
}
want=$(ctl_nostore --help | awk '/^Commands:$/ { on = 1; next } on && !NF { exit } on { print $1 }' | sort | tr '\n' ' ')
assert_eq "$want" "$(complete_words "")" "every command of enrpctl --help is completed"
assert_eq "eir " "$(complete_words ei)" "'ei' completes to eir"
assert_eq "--help create deescalate destroy escalate export import list resume retire schedule set show suspend " \
	"$(complete_words eir "")" "the verbs of eir"
assert_eq "--repair " "$(complete_words fsck --rep)" "fsck's --repair"
assert_eq "--version " "$(complete_words --vers)" "the global --version"
assert_eq "db1 web2 " "$(complete_words -S "$STORE" eir show "")" "EIR names for eir show, from the store"
assert_eq "web2 " "$(complete_words -S "$STORE" snapshot create w)" "EIR names for snapshot create"
assert_eq "db1 " "$(complete_words -S "$STORE" audit show --eir d)" "EIR names after --eir"
finish
