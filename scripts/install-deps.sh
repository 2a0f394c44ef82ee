#!/usr/bin/env bash
# Installs the Debian packages the tests drive for real: libsrtp2 (reference SRTP, test-only),
# Chromium (end-to-end browser tests), aiortc (a WebRTC client nobody here wrote) and iproute2
# (network namespaces), redis-server (the cluster tests), janus (the media load tool's comparison server),
# coturn and nftables (TURN, and networks that block UDP),
# and node with npm (the browser SDK's tests). Skips what is already there; needs root (or sudo) only when installing.
set -euo pipefail
packages=(libsrtp2-1 libssl3 chromium python3-aiortc iproute2 redis-server janus coturn nftables)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
# node and npm run the browser SDK's tests (clients/browser); any installation of them will do.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
