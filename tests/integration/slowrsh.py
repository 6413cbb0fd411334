#!/usr/bin/python3
# slowrsh HOST CMD...: a remote shell for tests of interrupted transfers: runs
# CMD here and feeds its stdin at about 1 MB/s, a slow link.  It ends when CMD
# does (rsync waits for its remote shell to exit before it does).
import os, signal, subprocess, sys, threading, time
signal.signal(signal.SIGINT, signal.SIG_DFL)  # cut like a link: no traceback
p = subprocess.Popen(sys.argv[2:], stdin=subprocess.PIPE)
def feed():
    try:
        while True:
            b = os.read(0, 65536)
            if not b:
                break
            p.stdin.write(b)
            p.stdin.flush()
            time.sleep(len(b) / 1e6)
        p.stdin.close()
    except (BrokenPipeError, OSError):
        pass
threading.Thread(target=feed, daemon=True).start()
sys.exit(p.wait())
