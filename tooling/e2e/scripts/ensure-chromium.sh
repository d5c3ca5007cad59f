#!/usr/bin/env bash
# Browser tests drive Debian's Chromium through playwright-core (no browser download).
# On a fresh Debian machine running as root, install it; otherwise explain how.
set -euo pipefail
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Chromium is missing: installing Debian's chromium package (one time)..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
  [ -x "$CHROMIUM" ] && exit 0
fi
cat >&2 <<MSG
Browser tests need Chromium at $CHROMIUM and it is not there.
Install it, then run the tests again:
  sudo apt-get update && sudo apt-get install -y chromium        (Debian/Ubuntu)
or point CHROMIUM_PATH at an existing Chromium/Chrome binary.
MSG
exit 1
