#!/bin/sh
# Steps the subscriber count up against a server pinned to core 0, with the load tool on core 1.
# Run from the repository root after `dotnet build Sfu.sln -c Release`. Usage: tools/Sfu.MediaLoad/step.sh [N...]
set -eu
steps="${*:-10 25 50 100 150 200}"
. "$(dirname "$0")/../Shared/start-server.sh"
start_server 0 --Sfu:Media:BindAddress=127.0.0.1 --Sfu:Signaling:MaxPeersPerRoom=1000
echo "== our server $url (pid $server)"
for n in $steps; do
  echo "== N=$n, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  taskset -c 1 dotnet tools/Sfu.MediaLoad/bin/Release/net10.0/Sfu.MediaLoad.dll --url "$url" \
    --pid $server --subscribers "$n" --seconds 15 --warmup 3 || true
  sleep 3
done
