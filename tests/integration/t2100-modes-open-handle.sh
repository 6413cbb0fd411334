#!/bin/bash
# t2100: a mode change is in force for the next operation after enrpctl
# returns (DESIGN §2, §4): also on descriptors opened before the change, and
# for data the kernel holds in its page cache or has mapped with mmap.
. "$(dirname "$0")/lib.sh"
setup

mk_eir e --owner "$ALICE"
mount_fs
E=$MNT/e

# Shell level: a descriptor opened for writing in rw, then ro.
set_mode e rw
exec 3>"$E/shell-w"
echo before >&3 || fail "write before the mode change"
set_mode e ro
err=$( { echo after >&3; } 2>&1)
rc=$?
exec 3>&-
if [ "$rc" -ne 0 ] && [[ $err == *"$(errmsg EROFS)"* ]]; then
	pass "write on fd 3 (opened in rw) fails with EROFS after eir set --mode ro"
else
	fail "write on fd 3 after the switch to ro: rc=$rc stderr='$err', expected EROFS"
fi
set_mode e rw
assert_eq before "$(cat "$E/shell-w")" "the refused write did not land"

# Shell level: read, then wo: a fresh cat fails.
echo "cached content" >"$E/shell-r"
assert_eq "cached content" "$(cat "$E/shell-r")" "read in rw (now in the page cache)"
set_mode e wo
expect_fail EACCES cat "$E/shell-r"
expect_fail EACCES as "$ALICE" cat "$E/shell-r"
set_mode e rw
assert_eq "cached content" "$(cat "$E/shell-r")" "readable again in rw"

# Descriptor level, with python for precise control.  Each line printed is
# "ok|description" or "fail|description".
results=$("$PY" - "$ENRPCTL" "$STORE" "$E" <<'EOF' 2>&1
import errno, mmap, os, signal, subprocess, sys, time

ctl, store, eir_dir = sys.argv[1:4]

def say(ok, what):
    print(("ok|" if ok else "fail|") + what, flush=True)

def mode(m):
    subprocess.run([ctl, "-S", store, "eir", "set", "e", "--mode", m], check=True)

def expect_errno(want, what, fn, *args):
    try:
        fn(*args)
    except OSError as e:
        say(e.errno == want, "%s -> %s (expected %s)" % (what, errno.errorcode.get(e.errno, e.errno),
                                                        errno.errorcode[want]))
        return
    say(False, "%s succeeded, expected %s" % (what, errno.errorcode[want]))

def expect_ok(what, fn, *args):
    try:
        r = fn(*args)
    except OSError as e:
        say(False, "%s failed: %s" % (what, os.strerror(e.errno)))
        return None
    say(True, what)
    return r

data = os.urandom(65536)
p_w = os.path.join(eir_dir, "py-w")
p_r = os.path.join(eir_dir, "py-r")
p_rw = os.path.join(eir_dir, "py-rw")
p_m = os.path.join(eir_dir, "py-mmap")

# 1. write handle opened in rw; switch to ro.
mode("rw")
fd = os.open(p_w, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
expect_ok("pwrite in rw", os.pwrite, fd, b"before\n", 0)
mode("ro")
expect_errno(errno.EROFS, "pwrite on a handle opened in rw, after --mode ro", os.pwrite, fd, b"after\n", 7)
expect_errno(errno.EROFS, "ftruncate on that handle after --mode ro", os.ftruncate, fd, 0)
expect_errno(errno.EROFS, "fchmod on that handle after --mode ro", os.fchmod, fd, 0o600)
try:
    os.close(fd)
except OSError:
    pass
mode("rw")
with open(p_w, "rb") as f:
    got = f.read()
say(got == b"before\n", "only the write made in rw landed (file has %r)" % got[:40])

# 2. read handle, content in the page cache; switch to wo and back.
with open(p_r, "wb") as f:
    f.write(data)
fd = os.open(p_r, os.O_RDONLY)
say(expect_ok("pread in rw", os.pread, fd, 65536, 0) == data, "pread in rw returns the data")
os.pread(fd, 65536, 0)  # surely cached now
mode("wo")
expect_errno(errno.EACCES, "pread of cached data on a handle opened in rw, after --mode wo",
             os.pread, fd, 65536, 0)
expect_errno(errno.EACCES, "pread at another offset after --mode wo", os.pread, fd, 100, 30000)
expect_errno(errno.EACCES, "fresh open O_RDONLY after --mode wo", os.open, p_r, os.O_RDONLY)
expect_errno(errno.EACCES, "fresh open O_RDWR after --mode wo", os.open, p_r, os.O_RDWR)
st = expect_ok("fstat is inspection, allowed in wo", os.fstat, fd)
mode("rw")
say(expect_ok("pread on the same handle back in rw", os.pread, fd, 65536, 0) == data,
    "the same handle reads the data again in rw")
os.close(fd)

# 3. O_RDWR handle through rw -> ro -> wo -> rw.
with open(p_rw, "wb") as f:
    f.write(b"0123456789")
# Once sealed, the writing session of that first handle is surely over (the
# kernel sends its release after close returns): what follows rewrites
# bytes nobody writes any more.
for _ in range(600):
    try:
        if os.getxattr(p_rw, "enrp.state") == b"verified":
            break
    except OSError:
        pass
    time.sleep(0.1)
fd = os.open(p_rw, os.O_RDWR)
mode("ro")
say(expect_ok("pread on an O_RDWR handle in ro", os.pread, fd, 10, 0) == b"0123456789",
    "O_RDWR handle reads in ro")
expect_errno(errno.EROFS, "pwrite on an O_RDWR handle in ro", os.pwrite, fd, b"X", 0)
mode("wo")
expect_errno(errno.EACCES, "pread on an O_RDWR handle in wo", os.pread, fd, 10, 0)
# A handle opened before the switch is page-cached: in wo it may not write
# at all (its cached pages would come back to its reads).  A new handle may
# append, but not rewrite bytes it did not write (a checksum of the mix would
# tell what they were).
expect_errno(errno.EACCES, "pwrite over existing bytes on an O_RDWR handle in wo",
             os.pwrite, fd, b"W", 1)
expect_errno(errno.EACCES, "pwrite appending on an O_RDWR handle opened before wo",
             os.pwrite, fd, b"W", 10)
fd2 = os.open(p_rw, os.O_WRONLY)
expect_errno(errno.EACCES, "pwrite over existing bytes on a new O_WRONLY handle in wo",
             os.pwrite, fd2, b"W", 1)
expect_ok("pwrite appending on a new O_WRONLY handle in wo", os.pwrite, fd2, b"W", 10)
try:
    os.fsync(fd2)
    say(True, "fsync in wo")
except OSError as e:
    say(False, "fsync in wo: %s" % os.strerror(e.errno))
os.close(fd2)
mode("rw")
say(expect_ok("pread back in rw", os.pread, fd, 11, 0) == b"0123456789W",
    "the append made in wo is there, the refused writes are not")
os.close(fd)

# 4. mmap: pages mapped in rw must not stay readable after --mode wo.
with open(p_m, "wb") as f:
    f.write(data)
child = subprocess.Popen([sys.executable, "-c", r'''
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
m = mmap.mmap(fd, 65536, prot=mmap.PROT_READ)
s = sum(m[0:65536:512])
print("mapped", flush=True)
sys.stdin.readline()
s = sum(m[0:65536:512])
print("read-after-switch", flush=True)
''', p_m], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
line = child.stdout.readline().strip()
say(line == "mapped", "child mapped and read the file in rw (%r)" % line)
mode("wo")
child.stdin.write("go\n")
child.stdin.flush()
rest = child.stdout.read()
rc = child.wait()
say(rc == -signal.SIGBUS,
    "touching mmap'd pages after --mode wo kills with SIGBUS (rc=%d, output %r)" % (rc, rest.strip()))
mode("rw")
with open(p_m, "rb") as f:
    say(f.read() == data, "mapped file intact and readable back in rw")
EOF
)
rc=$?
driver_results "$results"
[ "$rc" -eq 0 ] || fail "python driver exited $rc"

# .enrp/status is not served stale from the page cache after a change.
set_mode e rw
assert_eq rw "$(status_field e mode)" ".enrp/status says rw"
exec 4<"$E/.enrp/status"
head -c 10 <&4 >/dev/null
set_mode e ro
assert_eq ro "$(status_field e mode)" ".enrp/status says ro right after eir set --mode ro"
set_mode e wo
assert_eq wo "$(status_field e mode)" ".enrp/status says wo (readable in wo) right after the change"
exec 4<&-
expect_ok ctl eir suspend e --reason "status staleness"
assert_eq suspended "$(status_field e state)" ".enrp/status says suspended right after eir suspend"
expect_ok ctl eir resume e
assert_eq normal "$(status_field e state)" ".enrp/status says normal right after eir resume"

# Attributes are not served stale either: a chmod refused after ro.
set_mode e rw
expect_ok touch "$E/attr"
stat "$E/attr" >/dev/null
set_mode e ro
expect_fail EROFS chmod 600 "$E/attr"
expect_fail EROFS touch "$E/attr"
expect_fail EROFS rm "$E/attr"
set_mode e rw
expect_ok rm "$E/attr"

finish
