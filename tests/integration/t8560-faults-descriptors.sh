#!/bin/bash
# t8560: the daemon's descriptors are bounded by what is open, not by how
# fast clients open and close.  A closed file's handle outlives its RELEASE
# by a grace period (fs/handle.c), but its spool file's descriptor must not:
# a file server opening thousands of files a second would otherwise keep
# tens of thousands of descriptors and hit the daemon's limit (EMFILE in
# the clients: the bench's file-server load failed so in CI, 20,000 here).
#
# The daemon runs with a limit of 256 descriptors (its soft limit raised to
# the hard one, as enrpfs does at start); a client then opens and
# closes thousands of files in a few seconds, in every way that takes a
# descriptor in the daemon: creates, rewrites of sealed files, appends,
# reads of spool files and of sealed ones, each with an fsync or a read.
# None may fail, and the daemon must still hold few descriptors at the end,
# also after readers killed in the middle of their reads.
. "$(dirname "$0")/lib.sh"
setup

LIMIT=256
mk_eir e --owner root
E=$MNT/e
# Started with a soft limit of half that: enrpfs raises it to the hard one.
out=$(prlimit --nofile=$((LIMIT / 2)):$LIMIT "$ENRPFS" "$STORE" "$MNT" 2>&1) ||
	die "enrpfs with $LIMIT descriptors: $out"
poll_until 20 is_mounted "$MNT" || die "$MNT not mounted"
poll_until 10 have_daemon || die "no daemon pid"
pid=$(daemon_pid)
limit=$(awk '/^Max open files/ { print $4 }' "/proc/$pid/limits")
assert_eq "$LIMIT" "$limit" "the daemon raised its soft limit to the hard one, $LIMIT descriptors"

# 200 files (fewer than the limit: a spool file each), sealed first, so the
# rounds below rewrite sealed files and read sealed ones too.
expect_ok "$PY" - "$E" <<'EOF'
import os, sys
root = sys.argv[1]
for i in range(200):
    with open(os.path.join(root, "f%03d" % i), "wb") as fh:
        fh.write(os.urandom(4096 + i))
EOF
expect_ok "$PY" "$REPO/tests/bench/bench.py" waitpending "$E" 120

results=$("$PY" - "$E" <<'EOF' 2>&1
import os, sys
root = sys.argv[1]
names = [os.path.join(root, "f%03d" % i) for i in range(200)]
done = {"create": 0, "rewrite": 0, "append": 0, "read": 0}
try:
    for rnd in range(6):
        for i, p in enumerate(names):
            fd = os.open(p, os.O_WRONLY | os.O_TRUNC)
            os.write(fd, b"r%d-%d\n" % (rnd, i))
            if i % 10 == 0:
                os.fsync(fd)
            os.close(fd)
            done["rewrite"] += 1
            fd = os.open(p, os.O_WRONLY | os.O_APPEND)
            os.write(fd, b"a\n")
            os.close(fd)
            done["append"] += 1
            with open(p, "rb") as fh:
                if fh.read() != b"r%d-%d\na\n" % (rnd, i):
                    raise RuntimeError("%s reads back other bytes" % p)
            done["read"] += 1
            q = os.path.join(root, "n%d-%03d" % (rnd, i))
            with open(q, "wb") as fh:
                fh.write(b"new")
            done["create"] += 1
    print("ok|%s" % " ".join("%d %s" % (v, k) for k, v in done.items()))
except Exception as e:
    print("fail|after %s: %s" % (done, e))
EOF
)
driver_results "$results"
assert_match '^ok[|]' "$results" "the client ran to its end"

# Readers killed in the middle of a read: the kernel abandons their READ
# requests and sends the RELEASE at once, which may be served before a
# READ already taken from /dev/fuse has taken its reference (handle.c).
# Both a spool file and a sealed file, 100 kills each.
head -c $((32 << 20)) /dev/urandom >"$T/big"
cp "$T/big" "$E/big-sealed"
expect_ok "$PY" "$REPO/tests/bench/bench.py" waitstate "$E/big-sealed" verified 120
cp "$T/big" "$E/big-spool"
for f in big-spool big-sealed; do
	for ((i = 0; i < 100; i++)); do
		dd if="$E/$f" of=/dev/null bs=1M iflag=direct status=none &
		sleep 0.0$((i % 5))
		kill -KILL $! 2>/dev/null
		wait $! 2>/dev/null
	done
done
assert_eq "$(sha "$T/big")" "$(sha "$E/big-sealed")" "the sealed file reads back whole after the killed readers"
assert_eq "$(sha "$T/big")" "$(sha "$E/big-spool")" "the spool file reads back whole after the killed readers"

# What a release ends, it ends once: two writers of one file, the first
# closed; past the first handle's grace period (2 s) and its reaping, the
# file must still count the second as its writer (not sealed under it),
# and everything both wrote must be there once it is closed and sealed.
results=$("$PY" - "$E/two-writers" <<'EOF' 2>&1
import os, sys, time
p = sys.argv[1]
def state():
    try:
        return os.getxattr(p, "enrp.state").decode()
    except OSError as e:
        return "error %s" % e
try:
    a = os.open(p, os.O_CREAT | os.O_WRONLY, 0o644)
    b = os.open(p, os.O_WRONLY)
    os.pwrite(a, b"A" * 4096, 0)
    os.close(a)
    os.pwrite(b, b"B" * 4096, 4096)
    time.sleep(4)
    s = state()
    print("%s|with the second writer open 4 s after the first closed, the file is '%s'"
          % ("fail" if s in ("pending", "verified") else "ok", s))
    os.pwrite(b, b"C" * 4096, 8192)
    os.close(b)
    print("ok|the writers closed")
except Exception as e:
    print("fail|two writers: %s" % e)
EOF
)
driver_results "$results"
assert_match 'ok[|]the writers closed' "$results" "the two writers ran to their end"
expect_ok "$PY" "$REPO/tests/bench/bench.py" waitstate "$E/two-writers" verified 60
assert_eq "$("$PY" -c 'import hashlib; print(hashlib.sha256(b"A" * 4096 + b"B" * 4096 + b"C" * 4096).hexdigest())')" \
	"$(sha "$E/two-writers")" "both writers' bytes are in the sealed file"

# The same for what a file's node counts: two handles on a file that is
# then unlinked; past the first one's reaping, the second still reads it.
results=$("$PY" - "$E/unlinked" <<'EOF' 2>&1
import os, sys, time
p = sys.argv[1]
try:
    with open(p, "wb") as fh:
        fh.write(b"still here\n")
    a = os.open(p, os.O_RDONLY)
    b = os.open(p, os.O_RDWR)
    os.unlink(p)
    os.close(a)
    time.sleep(3)
    os.pwrite(b, b"and written\n", 11)
    got = os.pread(b, 100, 0)
    os.close(b)
    print("%s|an unlinked file's second handle, 3 s after the first closed, reads %r"
          % ("ok" if got == b"still here\nand written\n" else "fail", got))
except Exception as e:
    print("fail|an unlinked file with two handles: %s" % e)
EOF
)
driver_results "$results"
assert_match "^ok[|]an unlinked" "$results" "the unlinked file's reader ran to its end"

n=$(ls "/proc/$pid/fd" | wc -l)
if [ "$n" -lt 100 ]; then
	pass "the daemon holds $n descriptors after 4,800 opens"
else
	fail "the daemon holds $n descriptors after 4,800 opens (limit $LIMIT)"
fi
assert_eq 1403 "$(ls "$E" | wc -l)" "every file is there"
assert_eq "r5-7
a" "$(cat "$E/f007")" "a rewritten file reads back its last bytes"

finish
