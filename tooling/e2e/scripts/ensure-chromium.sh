#!/usr/bin/env bash
# Browser tests drive Debian's Chromium through playwright-core (no browser download).
# On a fresh Debian machine running as root, install it; otherwise explain how.
set -euo pipefail
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  # apt is quiet here (its progress would drown the test output), so say what is going on.
  started=$(date +%s)
  echo "Browser tests: Chromium is missing; installing Debian's chromium package once (apt-get, about a minute)..."
  export DEBIAN_FRONTEND=noninteractive
  echo "  apt-get update"
  apt-get update -qq
  echo "  apt-get install chromium"
  apt-get install -y -qq chromium >/dev/null
  if [ -x "$CHROMIUM" ]; then
    echo "  Chromium installed in $(( $(date +%s) - started )) s: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
    exit 0
  fi
fi
cat >&2 <<MSG
Browser tests need Chromium at $CHROMIUM and it is not there.
Install it, then run the tests again:
  sudo apt-get update && sudo apt-get install -y chromium        (Debian/Ubuntu)
or point CHROMIUM_PATH at an existing Chromium/Chrome binary.
MSG
exit 1
