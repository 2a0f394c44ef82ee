#!/bin/sh
# One room over several media workers: the server with Sfu:Media:Workers=<workers> and every new subscriber on the
# least-loaded worker (SpreadRoomAboveImbalance=0, so the room's subscribers alternate between workers), the load tool
# beside it. Runs the load twice against the same server (the first run warms up its JIT) and prints the tool's figures
# for both, then each media thread's CPU time over the second run (from /proc/<pid>/task): how the forwarding splits. Run from the repository root after `dotnet build Sfu.sln -c Release`.
# Usage: tools/Sfu.MediaLoad/workers.sh <workers> <subscribers> [server cores, default 0-1] [tool cores, default 0-1]
set -eu
workers=$1
subscribers=$2
server_cores=${3:-0-1}
tool_cores=${4:-0-1}
. "$(dirname "$0")/../Shared/start-server.sh"
start_server "$server_cores" --Sfu:Media:BindAddress=127.0.0.1 --Sfu:Signaling:MaxPeersPerRoom=2000 \
  --Sfu:Media:Workers="$workers" --Sfu:Media:SpreadRoomAboveImbalance=0
# Each media thread's user + system time, in clock ticks.
media_threads() {
  for task in /proc/"$server"/task/*; do
    case "$(cat "$task/comm")" in sfu-media-*) echo "$(cat "$task/comm") $(awk '{print $14 + $15}' "$task/stat")" ;; esac
  done | sort
}
for round in warm-up measured; do
  before=$(media_threads)
  echo "== $round: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average: $(cut -d' ' -f1-3 /proc/loadavg), $workers worker(s) on cores $server_cores, tool on $tool_cores"
  taskset -c "$tool_cores" dotnet tools/Sfu.MediaLoad/bin/Release/net10.0/Sfu.MediaLoad.dll --url "$url" \
    --pid "$server" --subscribers "$subscribers" --seconds 15 --warmup 3 || true
  after=$(media_threads)
done
hz=$(getconf CLK_TCK)
echo "== media threads, CPU seconds over the measured run (its joins, warm-up and window):"
echo "$before" | while read -r name ticks; do
  now=$(echo "$after" | awk -v n="$name" '$1 == n {print $2}')
  echo "$name $(echo "$now $ticks $hz" | awk '{printf "%.2f", ($1 - $2) / $3}')"
done
