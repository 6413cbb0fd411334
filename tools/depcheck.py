#!/usr/bin/python3
"""depcheck.py — `tools/deps.sh --check`: does tools/packages.txt bring in
everything the test suites, the crash harness, the fuzz targets and the
bench run?

A fresh Debian 12 machine has only Debian's base system (packages that are
Essential or of Priority "required") before tools/deps.sh installs the list
with --no-install-recommends.  So whatever a suite runs must come from one of
those, from a package of the list, or from what a package of the list
depends on (Depends and Pre-Depends only: recommends are not installed).
A package that is merely present on this machine, installed by hand or
pulled in by something else, does not count: that is how `borg mount` lost
its FUSE module on a fresh machine while CI passed on an old one.

What is checked (and nothing is changed):
  1. every package of the list is installed;
  2. every word of the suites' scripts (comments left out) that names a
     program in the suites' PATH: the package that owns it;
  3. every Python module the suites' .py files import (and the heredocs of
     the shell scripts): the package that owns its file;
  4. modules that a listed program loads at run time (RUNTIME_MODULES);
  5. that the README's two commands and .ci/run still install through
     tools/deps.sh, and that CI runs exactly the README's `make test`.

The scan of (2) reads every word, so an English word in a message that is
also a program name ("free", "top") is found too; such words are listed in
NOT_COMMANDS, each with where it occurs.  A program the suites really run
never goes there: its package goes into tools/packages.txt.

Exit status 0 when everything is covered, 1 otherwise (each gap is named,
with the file that needs it and the package to add), 2 on usage errors.
"""
import os
import re
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The PATH every suite exports (tests/integration/lib.sh, tests/*/run).
SUITE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PY = "/usr/bin/python3"

# Words of the scanned files that name a program but are not run as one.
NOT_COMMANDS = {
    "as": "lib.sh's helper as(): setpriv as another user",
    "column": "English (CSV columns in t7400's messages)",
    "dir": "a variable name",
    "duplicates": "English",
    "ex": "a variable name",
    "file": "English",
    "free": "English ('KiB free')",
    "init": "'enrpctl init'",
    "jdb": "journaltool.py: a variable naming the journal database",
    "kill": "bash's builtin (procps is listed for ps and pgrep anyway)",
    "last": "English",
    "less": "English",
    "link": "English (hard links)",
    "look": "English",
    "man": "'man -l' in messages",
    "more": "English",
    "node": "English",
    "open": "English; Python's open()",
    "opt": "a shell variable (for opt in ...)",
    "patch": "a file name (t9000, workload.py)",
    "pg_dump": "what gen.py's dumps look like (its docstring)",
    "red": "a colour word of gen.py",
    "relpath": "os.path.relpath",
    "rev": "an SQL column (integ9.py)",
    "script": "English",
    "size": "English",
    "sum": "Python's sum()",
    "tempfile": "Python's tempfile module",
    "time": "Python's time module",
    "top": "a Python variable",
    "users": "English",
    "w": "a Python variable",
    "who": "English",
    "write": "English; Python's write()",
    "zip": "Python's zip() (tests/bench/bench.py)",
}

# Modules that programs of the suites load at run time, invisible to a scan
# of our own files: (module, interpreter, what needs it).
RUNTIME_MODULES = [
    ("pyfuse3", "/usr/bin/python3", "borg mount (tests/bench/run, cold read via borg)"),
]

SCANNED_DIRS = ["tests", "tools"]
SCANNED_FILES = ["Makefile", ".ci/run"]


def scanned_files():
    out = []
    for d in SCANNED_DIRS:
        for root, dirs, files in os.walk(os.path.join(REPO, d)):
            dirs[:] = [x for x in dirs if x not in ("corpus", "regress")]
            for f in files:
                p = os.path.join(root, f)
                if (f.endswith((".sh", ".py")) or f == "run") and p != os.path.abspath(__file__):
                    out.append(p)
    out += [os.path.join(REPO, f) for f in SCANNED_FILES]
    return sorted(p for p in out if os.path.isfile(p))


def strip_comment(line):
    # A '#' that starts a word starts a comment (shell, make, Python); one
    # inside a word ("$#", "${#a[@]}") does not.
    m = re.search(r"(^|\s)#", line)
    return line[:m.start()] if m else line


def which(word):
    for d in SUITE_PATH.split(":"):
        p = os.path.join(d, word)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    return None


def owners(paths):
    """Package owning each path (or its /usr-merged twin), via one dpkg -S."""
    want = {}
    for p in paths:
        cands = [p]
        for a, b in (("/usr/bin/", "/bin/"), ("/usr/sbin/", "/sbin/"),
                     ("/usr/lib/", "/lib/")):
            if p.startswith(a):
                cands.append(b + p[len(a):])
            elif p.startswith(b):
                cands.append(a + p[len(b):])
        for c in cands:
            want.setdefault(c, p)
    r = subprocess.run(["dpkg-query", "-S"] + sorted(want), stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    found = {}
    for line in r.stdout.splitlines():
        if line.startswith("diversion by") or ": " not in line:
            continue
        pkgs, path = line.split(": ", 1)
        for path1 in path.split(", "):
            if path1 in want:
                for pkg in pkgs.split(", "):
                    found.setdefault(want[path1], set()).add(pkg.split(":")[0])
    return found


def listed_packages():
    with open(os.path.join(REPO, "tools", "packages.txt")) as f:
        return [l.strip() for l in f if l.strip() and not l.lstrip().startswith("#")]


def accepted_packages(listed):
    """The base system plus the Depends/Pre-Depends closure of LISTED."""
    q = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Essential} ${Priority} ${db:Status-Abbrev}\n"],
                       stdout=subprocess.PIPE, text=True, check=True).stdout
    base = set()
    installed = set()
    for line in q.splitlines():
        f = line.split()
        if len(f) < 4 or not f[3].startswith("ii"):
            continue
        installed.add(f[0])
        if f[1] == "yes" or f[2] == "required":
            base.add(f[0])
    r = subprocess.run(["apt-cache", "depends", "--recurse", "--installed", "--no-recommends",
                        "--no-suggests", "--no-conflicts", "--no-breaks", "--no-replaces",
                        "--no-enhances"] + [p for p in listed if p in installed],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    closure = {l.strip().split(":")[0] for l in r.stdout.splitlines()
               if l and not l.startswith(" ") and not l.startswith("<")}
    return installed, base, closure


def module_file(name, interp=PY):
    r = subprocess.run([interp, "-c",
                        "import importlib.util, sys\n"
                        "s = importlib.util.find_spec(sys.argv[1])\n"
                        "print(s.origin if s and s.origin else ('' if s is None else 'built-in'))",
                        name], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                       cwd="/")
    return r.stdout.strip() if r.returncode == 0 else ""


# The README's first code block holds a newcomer's two commands; CI runs the
# second one's parts, tools/deps.sh then `make test`.
README_COMMANDS = ["tools/deps.sh && make demo", "tools/deps.sh && make test"]
CI_COMMANDS = ["tools/deps.sh", "make test"]


def readme_and_ci():
    out = []
    with open(os.path.join(REPO, "README.md")) as f:
        m = re.search(r"```sh\n(.*?)```", f.read(), re.S)
    first = [l.strip() for l in (m.group(1) if m else "").splitlines()
             if l.strip() and not l.lstrip().startswith("#")]
    if first != README_COMMANDS:
        out.append("README.md: the first code block should be exactly %s, is %s"
                   % (README_COMMANDS, first))
    with open(os.path.join(REPO, ".ci", "run")) as f:
        ci = [l.strip() for l in f if l.strip() and not l.lstrip().startswith("#")]
    runs = [l for l in ci if not l.startswith(("set ", "cd ", "export "))]
    if runs != CI_COMMANDS:
        out.append(".ci/run: should run exactly %s, runs %s" % (CI_COMMANDS, runs))
    return out


def main():
    if len(sys.argv) > 1:
        print("usage: tools/deps.sh --check", file=sys.stderr)
        return 2
    problems = []
    listed = listed_packages()
    installed, base, closure = accepted_packages(listed)
    for p in listed:
        if p not in installed:
            problems.append("package '%s' of tools/packages.txt is not installed "
                            "(run tools/deps.sh)" % p)
    accepted = base | closure

    words = {}     # program word -> first file using it
    modules = {}   # python module -> first file importing it
    imp = re.compile(r"^\s*(?:import\s+([\w., ]+)|from\s+([\w.]+)\s+import\b)")
    for path in scanned_files():
        rel = os.path.relpath(path, REPO)
        with open(path, errors="replace") as f:
            for line in f:
                m = imp.match(line)
                if m:
                    for name in (m.group(1) or m.group(2)).split(","):
                        name = name.strip().split(" ")[0].split(".")[0]
                        if name:
                            modules.setdefault(name, rel)
                # "msync'ed", "doesn't": a contraction is one word, no command.
                for w in re.findall(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*(?:'[a-z]+\b)?",
                                    strip_comment(line)):
                    words.setdefault(w, rel)

    progs = {}
    for w, rel in sorted(words.items()):
        if w in NOT_COMMANDS:
            continue
        p = which(w)
        if p:
            progs[w] = (p, rel)
    paths = set()
    for p, _ in progs.values():
        paths.add(p)
        paths.add(os.path.realpath(p))
    own = owners(paths)
    for w, (p, rel) in sorted(progs.items()):
        pk = own.get(p, set()) | own.get(os.path.realpath(p), set())
        if not pk:
            problems.append("%s: '%s' is %s, which no Debian package installs" % (rel, w, p))
        elif not pk & accepted:
            problems.append("%s: '%s' is %s from package %s, which tools/packages.txt does not "
                            "bring in: add it" % (rel, w, p, "/".join(sorted(pk))))

    # Our own helpers (tests/integration/journaltool.py, ...), imported after
    # the test puts their directory on sys.path.
    ours = {os.path.basename(p)[:-3] for p in scanned_files() if p.endswith(".py")}
    checks = []
    for name, rel in sorted(modules.items()):
        if name not in ours:
            checks.append((name, PY, rel))
    for name, interp, why in RUNTIME_MODULES:
        checks.append((name, interp, why))
    for name, interp, rel in checks:
        origin = module_file(name, interp)
        if origin in ("built-in", "frozen"):
            continue
        if not origin:
            problems.append("%s: Python module '%s' cannot be imported by %s" % (rel, name, interp))
            continue
        if origin.startswith(REPO + os.sep):
            continue  # one of ours
        pk = owners([origin]).get(origin, set())
        if not pk:
            problems.append("%s: Python module '%s' is %s, which no Debian package installs"
                            % (rel, name, origin))
        elif not pk & accepted:
            problems.append("%s: Python module '%s' is %s from package %s, which "
                            "tools/packages.txt does not bring in: add it"
                            % (rel, name, origin, "/".join(sorted(pk))))

    problems += readme_and_ci()

    for p in problems:
        print("deps: " + p, file=sys.stderr)
    if problems:
        print("deps: %d problem(s)" % len(problems), file=sys.stderr)
        return 1
    print("deps: %d packages listed; %d programs and %d Python modules the suites use all "
          "come from them or from Debian's base system" % (len(listed), len(progs), len(checks)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
