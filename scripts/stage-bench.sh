#!/usr/bin/env bash
# Runs the stage-room benchmark (PROTOCOL section 8's targets) against a fresh local 3-node cluster:
# one stage room of --members members spread over the nodes with two speakers on seats, the listeners'
# own frames, seat changes timed at every member, listener churn, then a room of --big members.
#
#   scripts/stage-bench.sh [--quick] [any AkkaVoice.LoadTest stage option, e.g. --members 1000 --big 10000]
#
#   --quick   200 members, 10 s of voice, 5 seat changes, 5 s of churn (20 a second), a room of 1,000
#
# Prints the figures and writes them as JSON to bench-results/<time>-stage/stage.json. The nodes' RSS comes
# from /proc, so the cluster runs on this machine (scripts/cluster.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HTTP_BASE_PORT="${HTTP_BASE_PORT:-5000}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

args=()
for a in "$@"; do
    if [ "$a" = --quick ]; then
        args+=(--members 200 --duration 10 --warmup 3 --seat-changes 5 --churn 20 --churn-seconds 5 --big 1000)
    else
        args+=("$a")
    fi
done

OUT="$ROOT/bench-results/$(date -u +%Y%m%dT%H%M%SZ)-stage"
mkdir -p "$OUT"
echo "building (Release)" >&2
dotnet build -c Release "$ROOT/src/AkkaVoice.Server" -v quiet -nologo >"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log" >&2; exit 1; }
dotnet build -c Release "$ROOT/src/AkkaVoice.LoadTest" -v quiet -nologo >>"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log" >&2; exit 1; }

trap '"$ROOT/scripts/cluster.sh" stop >/dev/null 2>&1 || true' EXIT
"$ROOT/scripts/cluster.sh" start 3 --no-build
urls="" pids=""
for i in 0 1 2; do
    urls="${urls:+$urls,}http://127.0.0.1:$((HTTP_BASE_PORT + i))"
    pids="${pids:+$pids,}$(cat "$ROOT/run/node-$i.pid")"
done
dotnet "$ROOT/src/AkkaVoice.LoadTest/bin/Release/net10.0/AkkaVoice.LoadTest.dll" stage --nodes "$urls" --pids "$pids" \
    --json "$OUT/stage.json" "${args[@]}"
echo "results in $OUT" >&2
