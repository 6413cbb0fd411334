#!/bin/bash
# t3010: the command owners put in cron, exactly as they type it (DESIGN
# §3): `rsync -a dumps/ /mnt/enrp/EIR/` — into the EIR directory itself —
# exits 0, night after night, in every mode that accepts writes; so do -aHAX
# (with an ACL on the source directory), a push into an rsync daemon module
# whose path is the EIR, and rsync over ssh.  None of them widens who may
# enter the EIR, whatever mode bits the source directory has.
. "$(dirname "$0")/lib.sh"
setup

mk_eir rw --owner "$ALICE"
mk_eir wo --owner "$ALICE" --mode wo
mk_eir viad --owner "$ALICE"
mk_eir viassh --owner "$ALICE" --mode wo
mount_fs

dumps=$T/dumps
mkdir -p "$dumps/archive"
head -c 200000 /dev/urandom >"$dumps/dump-2026-12-01.sql.gz"
echo "small" >"$dumps/archive/readme.txt"
chown -R "$ALICE:" "$dumps"

# Night after night: a new dump arrives, the old ones stay.
NIGHT=0
nightly() {
	NIGHT=$((NIGHT + 1))
	head -c $((100000 + NIGHT)) /dev/urandom >"$dumps/dump-night-$NIGHT.sql.gz"
	chown "$ALICE:" "$dumps/dump-night-$NIGHT.sql.gz"
}

check_closed() {
	local d=$1 what=$2
	expect_fail EACCES as "$BOB" ls "$d"
	expect_fail EACCES as "$BOB" cat "$d/archive/readme.txt"
	assert_eq "$ALICE:$ALICE 700" "$(stat -c '%U:%G %a' "$d")" "$what: the EIR directory is still 0700"
}

for mode in 0777 0755 0700 2775; do
	chmod "$mode" "$dumps"
	for eir in rw wo; do
		nightly
		expect_ok as "$ALICE" rsync -a "$dumps/" "$MNT/$eir/"
		expect_ok as "$ALICE" rsync -a "$dumps/" "$MNT/$eir/"
		check_closed "$MNT/$eir" "rsync -a of a $mode source into $eir"
	done
done
# The same as root (a root cron job sends chown as well).
expect_ok rsync -a "$dumps/" "$MNT/rw/"
check_closed "$MNT/rw" "rsync -a by root"
# -aHAX with an ACL on the source directory: the ACL is not applied to the
# EIR directory, whose ACL is the registry's.
setfacl -m "u:$BOB:rwx" "$dumps"
expect_ok as "$ALICE" rsync -aHAX "$dumps/" "$MNT/rw/"
expect_ok as "$ALICE" rsync -aHAX "$dumps/" "$MNT/wo/"
check_closed "$MNT/rw" "rsync -aHAX with an ACL on the source"
setfacl -b "$dumps"
# What the nightly job sent is what is stored (checked in rw).
out=$(cd "$dumps" && find . -type f -print0 | xargs -0 sha256sum | sort)
got=$(cd "$MNT/rw" && as "$ALICE" find . -type f -print0 | as "$ALICE" xargs -0 sha256sum | sort)
assert_text_eq "$out" "$got" "rsync -a into the EIR root stored every file intact"

# ---- an rsync daemon module whose path is the EIR itself ---------------------
port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$T/rsyncd.conf" <<EOF
pid file = $T/rsyncd.pid
use chroot = no
[eir]
	path = $MNT/viad
	uid = $ALICE
	gid = $ALICE
	read only = false
EOF
rsync --daemon --no-detach --address=127.0.0.1 --port="$port" --config="$T/rsyncd.conf" \
	--log-file="$T/rsyncd.log" &
CLEANUP_PIDS+=("$!")
daemon_up() { grep -q '^eir' <<<"$(rsync "rsync://127.0.0.1:$port/")"; }
poll_until 20 daemon_up || die "rsync daemon did not come up on port $port"
chmod 0777 "$dumps"
expect_ok rsync -a "$dumps/" "rsync://127.0.0.1:$port/eir/"
nightly
expect_ok rsync -a "$dumps/" "rsync://127.0.0.1:$port/eir/"
check_closed "$MNT/viad" "rsync -a into a daemon module at the EIR"

# ---- over ssh, the way a remote host pushes ------------------------------------
S=$T/ssh
mkdir -p "$S/keys" /run/sshd
chmod 0755 /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$S/host" || die "ssh-keygen host"
ssh-keygen -q -t ed25519 -N '' -f "$S/id" || die "ssh-keygen client"
cp "$S/id.pub" "$S/keys/$ALICE"
chown "$ALICE:" "$S/keys/$ALICE"
chmod 0600 "$S/keys/$ALICE"
chmod 0755 "$S" "$S/keys"
sport=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$S/sshd_config" <<EOF
Port $sport
ListenAddress 127.0.0.1
HostKey $S/host
PidFile $S/sshd.pid
AuthorizedKeysFile $S/keys/%u
StrictModes no
# Test accounts have no password; with PAM, sshd lets them in by key.
UsePAM yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
EOF
/usr/sbin/sshd -t -f "$S/sshd_config" || die "sshd refuses the test configuration"
/usr/sbin/sshd -D -e -f "$S/sshd_config" 2>"$S/sshd.log" &
CLEANUP_PIDS+=("$!")
SSH="ssh -p $sport -i $S/id -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
ssh_up() { $SSH "$ALICE@127.0.0.1" true; }
poll_until 20 ssh_up || die "cannot log in over ssh: $(tail -5 "$S/sshd.log")"
expect_ok rsync -a -e "$SSH" "$dumps/" "$ALICE@127.0.0.1:$MNT/viassh/"
nightly
expect_ok rsync -a -e "$SSH" "$dumps/" "$ALICE@127.0.0.1:$MNT/viassh/"
expect_ok rsync -aHAX -e "$SSH" "$dumps/" "$ALICE@127.0.0.1:$MNT/viassh/"
check_closed "$MNT/viassh" "rsync -a over ssh into a wo EIR"
finish
