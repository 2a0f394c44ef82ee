#!/bin/sh
# Our server and Janus under the same load, one after the other, side by side: our server pinned to core 0, Janus
# (started by the tool) pinned to core 0 too, the load tool on core 1. Both servers and the clients use one
# non-loopback address (Janus gathers no loopback candidates).
# Run from the repository root after `dotnet build Sfu.sln -c Release`.
# Usage: tools/Sfu.MediaLoad/compare.sh [address] [extra tool options...]
set -eu
address="${1:-$(ip -4 -o addr show scope global up | awk '{split($4, a, "/"); print a[1]; exit}')}"
[ $# -gt 0 ] && shift
log=$(mktemp)
taskset -c 0 dotnet Sfu.Server/bin/Release/net10.0/Sfu.Server.dll --urls=http://127.0.0.1:0 \
  --Sfu:Media:Port=0 --Sfu:Media:BindAddress="$address" \
  --Sfu:Signaling:JoinsPerSecondPerIp=100000 --Sfu:Signaling:JoinBurstPerIp=100000 --Sfu:Signaling:MaxSocketsPerIp=100000 \
  --Sfu:Signaling:MaxPeersPerRoom=2000 --Serilog:MinimumLevel:Default=Warning \
  --Serilog:MinimumLevel:Override:Microsoft.Hosting.Lifetime=Information >"$log" 2>&1 &
server=$!
trap 'kill $server; rm -f "$log"' EXIT
url=""
for _ in $(seq 100); do
  url=$(grep -o 'Now listening on: http://[0-9.:]*' "$log" | head -1 | sed 's/Now listening on: //') && [ -n "$url" ] && break
  sleep 0.2
done
[ -n "$url" ] || { cat "$log"; exit 1; }
echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average: $(cut -d' ' -f1-3 /proc/loadavg), our server $url (pid $server), address $address"
taskset -c 1 dotnet tools/Sfu.MediaLoad/bin/Release/net10.0/Sfu.MediaLoad.dll compare --url "$url" --pid $server \
  --address "$address" --janus-cpu 0 "$@"
