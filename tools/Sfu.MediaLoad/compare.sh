#!/bin/sh
# Our server and Janus under the same load, one after the other, side by side: our server pinned to core 0, Janus
# (started by the tool) pinned to core 0 too, the load tool on core 1. Both servers and the clients use one
# non-loopback address (Janus gathers no loopback candidates).
# Run from the repository root after `dotnet build Sfu.sln -c Release`.
# Usage: tools/Sfu.MediaLoad/compare.sh [address] [extra tool options...]
set -eu
address="${1:-$(ip -4 -o addr show scope global up | awk '{split($4, a, "/"); print a[1]; exit}')}"
[ $# -gt 0 ] && shift
. "$(dirname "$0")/../Shared/start-server.sh"
start_server 0 --Sfu:Media:BindAddress="$address" --Sfu:Signaling:MaxPeersPerRoom=2000
echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average: $(cut -d' ' -f1-3 /proc/loadavg), our server $url (pid $server), address $address"
taskset -c 1 dotnet tools/Sfu.MediaLoad/bin/Release/net10.0/Sfu.MediaLoad.dll compare --url "$url" --pid $server \
  --address "$address" --janus-cpu 0 "$@"
