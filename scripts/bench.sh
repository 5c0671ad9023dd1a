#!/usr/bin/env bash
# Runs the AkkaVoice cluster benchmark: every scenario below against a fresh local cluster (started and
# stopped with scripts/cluster.sh), one after another, and writes one Markdown table and JSON.
#
#   scripts/bench.sh [--quick|--ramp|--idle] [--only NAME[,NAME...]] [--rooms N] [--duration S] [--section NAME] [--no-doc]
#
#   --quick      small loads, about 10 s per scenario (the whole run takes a couple of minutes)
#   default      the target load: 40 rooms x 25 members x 4 speakers x 50 fps (~190k deliveries/s), 20 s warm-up + 30 s each
#   --ramp       the highest sustained load: rooms of 25 x 4 speakers x 50 fps, from 20 rooms (96k deliveries/s)
#                up by 1.25x a step (15 s measured each) until p99 > 50 ms or loss > 0.1%; each row is the
#                highest step that passed. Scenarios single, spread3, affine3 unless --only says otherwise
#   --idle       memory per connection: 5,000 connections (625 rooms x 8 members), one speaker per room at
#                1 fps, 20 s; scenario single unless --only says otherwise
#   --only       run only the named scenarios
#   --rooms N    override the mode's number of rooms (e.g. 20 for half the target load)
#   --duration S override the mode's measured seconds
#   --section X  the docs/benchmarks.md section to write (default: the mode, quick or full)
#   --no-doc     do not rewrite any section of docs/benchmarks.md
#
# LOADGEN_NICE: the nice level of the load generator; -5 by default when run as root, so that on a small
# machine its sender thread keeps time against the nodes' many threads (the scheduler shares CPU by thread,
# not by process, and five nodes have many more threads). 0 gives every process the same weight. The level
# used is recorded with the results.
#
# Scenarios (all with the same load, so they compare):
#   single            1 node
#   spread3           3 nodes, interest routing, member i of room r on node (r + i) % 3
#   affine3           3 nodes, interest routing, every room on its home node
#   away3             3 nodes, interest routing, every room's members on one node that is not its home
#   viaroom3          3 nodes, via-room routing (the speaker's node sends to the room, which sends on), spread
#   broadcast3        3 nodes, broadcast routing, spread
#   pair5             5 nodes, interest routing, each room's members on 2 nodes (r % 5 and (r + 1) % 5)
#   pair5-broadcast   5 nodes, broadcast routing, same placement
#
# Every scenario also chats: the last member of each room (a listener) says a line every 2 s, so the table
# shows node text messages per said next to node messages per voice frame.
#
# Results: bench-results/<date>-<mode>/ (one JSON per scenario, summary.json, table.md; git-ignored) and
# the <!-- bench:<mode> --> section of docs/benchmarks.md. The nodes are stopped on exit, whatever happens.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
HTTP_BASE_PORT="${HTTP_BASE_PORT:-5000}"
export HTTP_BASE_PORT

MODE=full
ONLY=""
DOC=1
ROOMS_OVERRIDE=""
DURATION_OVERRIDE=""
SECTION=""
COMMAND_LINE="${LOADGEN_NICE:+LOADGEN_NICE=$LOADGEN_NICE }scripts/bench.sh${*:+ $*}"
if [ "$(id -u)" = 0 ]; then LOADGEN_NICE="${LOADGEN_NICE:--5}"; else LOADGEN_NICE="${LOADGEN_NICE:-0}"; fi
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) MODE=quick; shift ;;
        --ramp) MODE=ramp; shift ;;
        --idle) MODE=idle; shift ;;
        --only) ONLY="${2:?--only needs scenario names}"; shift 2 ;;
        --no-doc) DOC=0; shift ;;
        --rooms) ROOMS_OVERRIDE="${2:?--rooms needs a number}"; shift 2 ;;
        --duration) DURATION_OVERRIDE="${2:?--duration needs seconds}"; shift 2 ;;
        --section) SECTION="${2:?--section needs a name}"; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/{/^#/p}' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done

RAMP_ARGS=()
case "$MODE" in
    quick) ROOMS=10 MEMBERS=10 SPEAKERS=2 FPS=50 DURATION=6 WARMUP=2 DRAIN=1 ;;
    ramp)
        ROOMS=20 MEMBERS=25 SPEAKERS=4 FPS=50 DURATION=15 WARMUP=5 DRAIN=2
        ONLY="${ONLY:-single,spread3,affine3}" ;;
    idle)
        ROOMS=625 MEMBERS=8 SPEAKERS=1 FPS=1 DURATION=20 WARMUP=5 DRAIN=2
        ONLY="${ONLY:-single}" ;;
    # 20 s of warm-up: a freshly started node and load generator run unoptimised (tier-0 JIT) code for
    # their first tens of seconds under this load, and a relay runs for days; the window measures the latter.
    *) ROOMS=40 MEMBERS=25 SPEAKERS=4 FPS=50 DURATION=30 WARMUP=20 DRAIN=3 ;;
esac
ROOMS="${ROOMS_OVERRIDE:-$ROOMS}"
DURATION="${DURATION_OVERRIDE:-$DURATION}"
SECTION="${SECTION:-$MODE}"
TARGET_PER_S=$((ROOMS * SPEAKERS * FPS * (MEMBERS - 1)))
LOAD="$ROOMS rooms x $MEMBERS members x $SPEAKERS speakers x $FPS fps, 100 B payload, ${WARMUP} s warm-up + ${DURATION} s measured = $TARGET_PER_S deliveries/s offered; load generator nice $LOADGEN_NICE"
if [ "$MODE" = ramp ]; then
    RAMP_ARGS=(--ramp --ramp-factor 1.25 --step-seconds "$DURATION" --max-steps 8 --max-p99-ms 50 --max-loss 0.001)
    LOAD="ramp from $ROOMS rooms ($TARGET_PER_S deliveries/s) x 1.25 a step, up to 8 steps, each ${WARMUP} s warm-up + ${DURATION} s measured, until p99 > 50 ms or loss > 0.1%; rooms of $MEMBERS members x $SPEAKERS speakers x $FPS fps, 100 B payload; load generator nice $LOADGEN_NICE"
fi

# name nodes routing placement; scenarios that share a cluster (nodes and routing) are adjacent and reuse it.
SCENARIOS=(
    "single 1 interest spread"
    "spread3 3 interest spread"
    "affine3 3 interest affine"
    "away3 3 interest away"
    "viaroom3 3 via-room spread"
    "broadcast3 3 broadcast spread"
    "pair5 5 interest pair"
    "pair5-broadcast 5 broadcast pair"
)

cleanup() {
    "$ROOT/scripts/cluster.sh" stop >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

STARTED=$SECONDS
OUT="$ROOT/bench-results/$(date -u +%Y%m%dT%H%M%SZ)-$SECTION"
mkdir -p "$OUT/loadgen"

LOADGEN="$ROOT/src/AkkaVoice.LoadTest/bin/Release/net10.0/AkkaVoice.LoadTest.dll"
SERVER="$ROOT/src/AkkaVoice.Server/bin/Release/net10.0/AkkaVoice.Server.dll"
# An incremental dotnet build still takes tens of seconds on a busy 2-core machine: skip it when no
# source, project or HOCON file is newer than both binaries.
stale() {
    [ -f "$1" ] || return 0
    [ -n "$(find "$ROOT/src" "$ROOT/hocon" "$ROOT/Directory.Build.props" "$ROOT/Directory.Packages.props" \
        \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' -o -name '*.conf' \) -not -path '*/obj/*' -not -path '*/bin/*' \
        -newer "$1" -print -quit)" ]
}
if stale "$SERVER" || stale "$LOADGEN"; then
    echo "building (Release)" >&2
    dotnet build -c Release src/AkkaVoice.Server -v quiet -nologo >"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log" >&2; exit 1; }
    dotnet build -c Release src/AkkaVoice.LoadTest -v quiet -nologo >>"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log" >&2; exit 1; }
else
    echo "binaries are up to date; not building" >&2
fi

current=""
order=0
for scenario in "${SCENARIOS[@]}"; do
    read -r name nodes routing placement <<<"$scenario"
    if [ -n "$ONLY" ] && [[ ",$ONLY," != *",$name,"* ]]; then continue; fi
    order=$((order + 1))
    if [ "$current" != "$nodes/$routing" ]; then
        "$ROOT/scripts/cluster.sh" stop
        "$ROOT/scripts/cluster.sh" start "$nodes" --routing "$routing" --no-build
        current="$nodes/$routing"
    else
        # The previous scenario's connections are closing; let the nodes settle.
        sleep 2
    fi
    urls="" pids=""
    for ((i = 0; i < nodes; i++)); do
        urls="${urls:+$urls,}http://127.0.0.1:$((HTTP_BASE_PORT + i))"
        pids="${pids:+$pids,}$(cat "$ROOT/run/node-$i.pid")"
    done
    echo "== $name: $nodes node(s), $routing routing, $placement placement ($((SECONDS - STARTED)) s elapsed)" >&2
    python3 "$ROOT/scripts/benchlib.py" run --scenario "$name" --order "$order" --routing "$routing" \
        --http "$urls" --pids "$pids" --out "$OUT/$name.json" --loadgen-json "$OUT/loadgen/$name.json" -- \
        nice -n "$LOADGEN_NICE" dotnet "$LOADGEN" --nodes "$urls" --placement "$placement" --rooms "$ROOMS" --members "$MEMBERS" \
        --speakers "$SPEAKERS" --fps "$FPS" --duration "$DURATION" --warmup "$WARMUP" --drain "$DRAIN" \
        --say-interval "${SAY_INTERVAL:-2}" --label "$name" --user-prefix "b$order$name" --json "$OUT/loadgen/$name.json" "${RAMP_ARGS[@]}" \
        || echo "scenario $name: the load generator reported a failure (see $OUT/$name.json)" >&2
done
"$ROOT/scripts/cluster.sh" stop

doc_args=()
[ "$DOC" = 1 ] && doc_args=(--doc "$ROOT/docs/benchmarks.md")
python3 "$ROOT/scripts/benchlib.py" summarize --dir "$OUT" --mode "$SECTION" --command "$COMMAND_LINE" --load "$LOAD" "${doc_args[@]}"
echo "results in $OUT ($((SECONDS - STARTED)) s in all)" >&2
