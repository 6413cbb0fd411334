"""driver.py — what the integration tests' inline python drivers share.

A driver prints one line per check, "ok|description" or "fail|description",
which lib.sh's driver_results turns into test results.  lib.sh puts this
directory on PYTHONPATH, so a driver run as `"$PY" - ... <<'PYEOF'` can
`from driver import *`.
"""
import errno
import os
import subprocess
import time

__all__ = ["say", "err_of", "errname", "set_mode", "verified_sha"]


def say(ok, what):
    print("%s|%s" % ("ok" if ok else "fail", what), flush=True)


def err_of(fn, *args):
    """The errno FN(*ARGS) fails with, 0 if it succeeds."""
    try:
        fn(*args)
        return 0
    except OSError as e:
        return e.errno


def errname(e):
    return errno.errorcode.get(e, str(e)) if e else "0"


def set_mode(ctl, store, eir, mode):
    subprocess.run([ctl, "-S", store, "eir", "set", eir, "--mode", mode], check=True,
                   stdout=subprocess.DEVNULL)


def verified_sha(path, timeout=30):
    """enrp.sha256 of PATH once enrp.state says verified; None after TIMEOUT s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if os.getxattr(path, "enrp.state") == b"verified":
                return os.getxattr(path, "enrp.sha256").decode()
        except OSError:
            pass
        time.sleep(0.1)
    return None
