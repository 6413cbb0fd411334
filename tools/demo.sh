#!/bin/bash
# make demo: a demo store with one EIR, mounted.  Run as root.
#   DEMO_DIR (default /tmp/enrp-demo) holds store/ and mnt/.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
DEMO_DIR=${DEMO_DIR:-/tmp/enrp-demo}
STORE=$DEMO_DIR/store
MNT=$DEMO_DIR/mnt
OWNER=${SUDO_USER:-$(id -un)}
ctl() { "$BUILD/enrpctl" -S "$STORE" "$@"; }

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: must run as root to mount with allow_other" >&2
	echo "hint: run 'make demo' as root (su -), or with sudo where it is installed" >&2
	exit 1
fi
if grep -q " $MNT fuse.enrpfs " /proc/mounts; then
	echo "demo: already mounted at $MNT (unmount with: fusermount3 -u $MNT)"
	exit 0
fi
mkdir -p "$DEMO_DIR" "$MNT"
chmod 755 "$DEMO_DIR"
if [ ! -d "$STORE" ]; then
	"$BUILD/enrpctl" init "$STORE"
	ctl eir create demo --owner "$OWNER" --class 2 --mode rw --quota 1G
fi
"$BUILD/enrpfs" "$STORE" "$MNT"
cat <<MSG

enrp demo store: $STORE
mounted at:      $MNT   (EIR 'demo', owner $OWNER, mode rw, quota 1G)

  cp /etc/os-release $MNT/demo/
  cat $MNT/demo/.enrp/status
  $BUILD/enrpctl -S $STORE eir set demo --mode wo
  cat $MNT/demo/os-release            # Permission denied: write-only
  $BUILD/enrpctl -S $STORE audit show
  fusermount3 -u $MNT                 # unmount
MSG
