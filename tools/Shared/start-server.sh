# Sourced by the tools' scripts (tools/Sfu.MediaLoad/step.sh, compare.sh, tools/Sfu.LoadTest/failover.sh): starts
# our server on ports the kernel picks (HTTP on 127.0.0.1:0, media on port 0), so that two runs, or a server left
# over from an earlier one, never collide. Run from the repository root after `dotnet build Sfu.sln -c Release`.
# Usage: start_server <cores for taskset> [--Setting=value ...]
# Sets $server (its pid) and $url (its HTTP address, read back from its "Now listening on" line); every server
# started this way is killed when the script exits.
servers=""
server_logs=""
trap 'kill $servers 2>/dev/null; rm -f $server_logs' EXIT
start_server() {
  cores=$1
  shift
  log=$(mktemp)
  server_logs="$server_logs $log"
  taskset -c "$cores" dotnet Sfu.Server/bin/Release/net10.0/Sfu.Server.dll --urls=http://127.0.0.1:0 --Sfu:Media:Port=0 \
    --Sfu:Signaling:JoinsPerSecondPerIp=100000 --Sfu:Signaling:JoinBurstPerIp=100000 --Sfu:Signaling:MaxSocketsPerIp=100000 \
    --Serilog:MinimumLevel:Default=Warning --Serilog:MinimumLevel:Override:Microsoft.Hosting.Lifetime=Information "$@" >"$log" 2>&1 &
  server=$!
  servers="$servers $server"
  url=""
  for _ in $(seq 100); do
    url=$(grep -o 'Now listening on: http://[0-9.:]*' "$log" | head -1 | sed 's/Now listening on: //') && [ -n "$url" ] && break
    sleep 0.2
  done
  [ -n "$url" ] || { cat "$log"; exit 1; }
}
