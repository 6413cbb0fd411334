#!/bin/bash
# Installs the Debian packages enrp needs to build, run and test
# (tools/packages.txt).  Run as root.
set -euo pipefail
cd "$(dirname "$0")"
if [ "$(id -u)" -ne 0 ]; then
	echo "tools/deps.sh: must run as root (try: sudo tools/deps.sh)" >&2
	exit 1
fi
missing=()
while read -r pkg; do
	[ -n "$pkg" ] || continue
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
done < packages.txt
if [ ${#missing[@]} -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y --no-install-recommends "${missing[@]}"
fi
