#!/bin/bash
# t8570: the daemon's request threads (enrpfs(8), -o max_threads): by default
# two per core, 4 to 10; -o max_threads=N wins.  Eight clients write and
# fsync at once, so libfuse starts every thread it may; the threads named
# "enrpfs" (the request threads and the main one) never exceed the bound.
. "$(dirname "$0")/lib.sh"
setup

mk_eir e --owner root
E=$MNT/e
cores=$(nproc)
want=$((2 * cores < 4 ? 4 : 2 * cores > 10 ? 10 : 2 * cores))

# peak_threads: the most "enrpfs" threads seen while 8 clients work.
peak_threads() {
	local pid peak=0 n i
	pid=$(daemon_pid)
	"$PY" - "$E" <<'EOF' &
import os, sys, time
root = sys.argv[1]
def client(k):
    end = time.monotonic() + 3
    p = os.path.join(root, "c%d" % k)
    data = bytes([k]) * 65536
    fd = os.open(p, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
    while time.monotonic() < end:
        # An fsync waits in the daemon for a commit: 8 at once take 8
        # threads if it may start them.
        os.pwrite(fd, data, 0)
        os.fsync(fd)
        os.stat(root)
    os.close(fd)
kids = []
for k in range(8):
    pid = os.fork()
    if pid == 0:
        client(k)
        os._exit(0)
    kids.append(pid)
for pid in kids:
    os.waitpid(pid, 0)
EOF
	local load=$!
	for ((i = 0; i < 25; i++)); do
		sleep 0.1
		n=$(ps -L -o comm= -p "$pid" | grep -c '^enrpfs$')
		[ "$n" -gt "$peak" ] && peak=$n
	done
	wait "$load"
	echo "$peak"
}

mount_fs
peak=$(peak_threads)
if [ "$peak" -ge 2 ] && [ "$peak" -le $((want + 1)) ]; then
	pass "default: at most $want request threads on $cores cores (peak $peak threads with the main one)"
else
	fail "default: peak of $peak enrpfs threads on $cores cores, expected 2 to $((want + 1))"
fi
umount_fs

mount_fs -o max_threads=2
peak=$(peak_threads)
if [ "$peak" -ge 2 ] && [ "$peak" -le 3 ]; then
	pass "-o max_threads=2: peak $peak threads with the main one"
else
	fail "-o max_threads=2: peak of $peak enrpfs threads, expected 2 to 3"
fi
for k in 0 7; do
	assert_eq 65536 "$(stat -c %s "$E/c$k")" "client $k's file is whole"
done

finish
