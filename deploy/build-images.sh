#!/usr/bin/env bash
# `npm run build:images`: builds the web and worker images with docker or podman, whichever is
# installed (CONTAINER_ENGINE chooses). Tags: irc-now/web:$TAG, irc-now/worker:$TAG (TAG: the
# short commit, or "dev"). Without an engine it says so and exits 1: `npm run build` makes the
# same bundles the images copy, and that is what the tests run.
set -euo pipefail
cd "$(dirname "$0")/.."
engine=${CONTAINER_ENGINE:-}
if [ -z "$engine" ]; then
  for candidate in docker podman; do
    if command -v "$candidate" >/dev/null 2>&1; then engine=$candidate; break; fi
  done
fi
if [ -z "$engine" ]; then
  echo "build:images: no container engine (docker or podman) on this machine; nothing built." >&2
  echo "Install one, or set CONTAINER_ENGINE. The bundles themselves: npm run build." >&2
  exit 1
fi
if ! "$engine" info >/dev/null 2>&1; then
  echo "build:images: $engine is installed but its daemon/service does not answer ($engine info failed); nothing built." >&2
  exit 1
fi
tag=${TAG:-$(git rev-parse --short HEAD 2>/dev/null || echo dev)}
for app in web worker; do
  echo "build:images: $engine build -f apps/$app/Dockerfile -t irc-now/$app:$tag ."
  "$engine" build -f "apps/$app/Dockerfile" -t "irc-now/$app:$tag" .
done
echo "build:images: irc-now/web:$tag and irc-now/worker:$tag"
