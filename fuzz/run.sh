#!/usr/bin/env bash
# Coverage-guided fuzzing of one target with AFL++ and SharpFuzz, until a number of executions.
#   fuzz/run.sh <target> [executions]      targets: stun rtp rtcp sdp dtls srtp signaling twcc ice-tcp sctp turn; executions default 1000000
# Installs what it needs when missing (Debian's afl++, the SharpFuzz.CommandLine dotnet tool), publishes
# fuzz/Sfu.Fuzz, instruments Sfu.Media.dll, Sfu.Signaling.dll and Sfu.Client.dll in the published copy, runs afl-fuzz on
# fuzz/corpus/<target>/ and prints executions, exec/s, paths, crashes and hangs. Findings go to fuzz/out/<target>/
# (not committed); reproduce one with: dotnet fuzz/out/bin/Sfu.Fuzz.dll <target> < fuzz/out/<target>/default/crashes/<file>
set -euo pipefail

target=${1:?usage: fuzz/run.sh <target> [executions]}
executions=${2:-1000000}
root=$(cd "$(dirname "$0")/.." && pwd)
corpus=$root/fuzz/corpus/$target
out=$root/fuzz/out
[[ -d $corpus ]] || { echo "no corpus for target '$target' in fuzz/corpus/" >&2; exit 2; }

sudo_if_needed() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
if ! command -v afl-fuzz >/dev/null; then
  sudo_if_needed apt-get update -q
  sudo_if_needed apt-get install -y -q afl++
fi
export PATH="$PATH:$HOME/.dotnet/tools"
if ! command -v sharpfuzz >/dev/null; then
  dotnet tool install --global SharpFuzz.CommandLine --version 2.3.0
fi

# A fresh publish every time: an assembly can be instrumented only once.
rm -rf "$out/bin"
dotnet publish "$root/fuzz/Sfu.Fuzz/Sfu.Fuzz.csproj" -c Release -o "$out/bin" -v quiet -nologo
for assembly in Sfu.Media.dll Sfu.Signaling.dll Sfu.Client.dll; do
  sharpfuzz "$out/bin/$assembly"
done

rm -rf "$out/$target"
# dotnet itself carries no AFL instrumentation (SharpFuzz reports coverage), crashes are exceptions rather than
# core dumps, and the machine is shared: no CPU binding, no frequency check.
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1
export AFL_FORKSRV_INIT_TMOUT=60000
if ! afl-fuzz -i "$corpus" -o "$out/$target" -E "$executions" -m none -t 5000 -- dotnet "$out/bin/Sfu.Fuzz.dll" "$target" > "$out/$target.log"; then
  tail -n 30 "$out/$target.log" >&2
  exit 1
fi

stats=$out/$target/default/fuzzer_stats
field() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
echo "target $target: executions $(field execs_done), exec/s $(field execs_per_sec), paths $(field corpus_count), crashes $(field saved_crashes), hangs $(field saved_hangs), seconds $(field run_time)"
