#!/bin/sh
# How long a room takes to come back after its node is killed: a cluster of two nodes on loopback with one
# redis-server; for each repetition a fresh node-a starts, the tool joins a room through node-b (the room goes to
# node-a: both are idle and node-a sorts first), kills node-a with SIGKILL and prints when it is back in its room,
# on node-b. Run from the repository root after `dotnet build Sfu.sln -c Release`; needs redis-server
# (scripts/install-deps.sh). Usage: tools/Sfu.LoadTest/failover.sh [repetitions] [extra tool options...]
# LEASE_MS and HEARTBEAT_MS set the cluster's timing (default: the server's defaults, 5000 and 1000).
set -eu
reps="${1:-5}"
[ $# -gt 0 ] && shift
lease="${LEASE_MS:-5000}"
heartbeat="${HEARTBEAT_MS:-1000}"
cores="0-$(($(nproc) - 1))"
. "$(dirname "$0")/../Shared/start-server.sh"

redis_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >/dev/null &
servers="$servers $!"
for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done

node() {
  start_server "$cores" --Sfu:Media:BindAddress=127.0.0.1 --Sfu:Cluster:Redis=127.0.0.1:"$redis_port" --Sfu:Cluster:NodeId="$1" \
    --Sfu:Cluster:Secret=failover-measurement-secret-of-at-least-32-bytes \
    --Sfu:Cluster:LeaseMs="$lease" --Sfu:Cluster:HeartbeatMs="$heartbeat"
}
node node-b
survivor="ws://${url#http://}/ws"
echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average: $(cut -d' ' -f1-3 /proc/loadavg), lease $lease ms, heartbeat $heartbeat ms, survivor $survivor"
for i in $(seq "$reps"); do
  node node-a
  dotnet tools/Sfu.LoadTest/bin/Release/net10.0/Sfu.LoadTest.dll failover "$survivor" --kill-pid "$server" --room "failover-$i" "$@" || true
done
