#!/usr/bin/env bash
# Voice with webhooks going nowhere: the scripts/bench.sh spread3 scenario (3 nodes) under membership churn
# (scripts/churn.mjs), alternately with no webhook URL and with a URL whose receiver accepts connections and
# never answers, ROUNDS rounds of each in one run. Prints voice loss and p99 per round and mode, and the
# nodes' webhook counters at the end of each silent round.
#
#   scripts/webhook-bench.sh [--rounds 2] [--rooms 20] [--duration 30] [--churn-rate 50] [--silent-first]
#
# --silent-first runs each round's silent run before its run without webhooks (a machine that slows or
# speeds up over the run then favours the other mode).
#
# Results: bench-results/<date>-webhooks-<mode>-<round>/ as scripts/bench.sh writes them.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
ROUNDS=2 ROOMS=20 DURATION=30 RATE=50 WARMUP=20 MODES="off silent"
# The ports scripts/cluster.sh gives nodes 0-2.
BASE="${HTTP_BASE_PORT:-5000}"
NODE_URLS="http://127.0.0.1:$BASE,http://127.0.0.1:$((BASE + 1)),http://127.0.0.1:$((BASE + 2))"
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) ROUNDS="$2"; shift 2 ;;
        --rooms) ROOMS="$2"; shift 2 ;;
        --duration) DURATION="$2"; shift 2 ;;
        --churn-rate) RATE="$2"; shift 2 ;;
        --silent-first) MODES="silent off"; shift ;;
        -h|--help) sed -n '2,/^set -euo/{/^#/p}' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
[ -d clients/js/node_modules ] || npm ci --prefix clients/js --no-audit --no-fund >/dev/null

# The silent receiver: accepts, reads, never answers; counts the requests it swallowed.
SINK_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
python3 - "$SINK_PORT" >"$ROOT/run/silent-receiver.log" 2>&1 <<'PY' &
import asyncio, sys
count = 0
async def swallow(reader, writer):
    global count
    while data := await reader.read(65536):
        count += data.count(b"POST ")
async def report():
    while True:
        await asyncio.sleep(5)
        print(f"requests swallowed: {count}", flush=True)
async def main():
    server = await asyncio.start_server(swallow, "127.0.0.1", int(sys.argv[1]), backlog=4096)
    asyncio.create_task(report())
    async with server:
        await server.serve_forever()
asyncio.run(main())
PY
SINK_PID=$!
trap 'kill $SINK_PID 2>/dev/null || true' EXIT

RESULTS=()
for ((round = 1; round <= ROUNDS; round++)); do
    for mode in $MODES; do
        args=""
        [ "$mode" = silent ] && args="--webhook-url http://127.0.0.1:$SINK_PORT/hook --webhook-secret webhook-bench-secret-of-32-bytes-or-more"
        section="webhooks-$mode-$round"
        # Churn from the moment the third node is ready until the measured window ends.
        (
            for ((t = 0; t < 240; t++)); do curl -sf -o /dev/null "http://127.0.0.1:$((BASE + 2))/readyz" && break; sleep 0.5; done
            node scripts/churn.mjs --urls "$NODE_URLS" \
                --connections 100 --rooms 20 --rate "$RATE" --seconds $((WARMUP + DURATION)) >"$ROOT/run/churn-$section.json"
            for i in 0 1 2; do curl -s "http://127.0.0.1:$((BASE + i))/metrics" | grep -E '^akkavoice_webhook' | sed "s/^/node-$i /"; done >"$ROOT/run/webhooks-$section.txt"
        ) &
        churn=$!
        NODE_ARGS="$args" scripts/bench.sh --only spread3 --rooms "$ROOMS" --duration "$DURATION" --no-doc --section "$section" >/dev/null 2>"$ROOT/run/bench-$section.log" || true
        wait "$churn" || true
        dir="$(ls -d "$ROOT"/bench-results/*-"$section" | tail -1)"
        RESULTS+=("$mode $round $dir")
    done
done

echo "| round | webhooks | loss | p50 ms | p99 ms | node CPU (cores) | churn joins / leaves / errors | webhook events (delivered / retried / dropped, all nodes) |"
echo "|---|---|---|---|---|---|---|---|"
for r in "${RESULTS[@]}"; do
    read -r mode round dir <<<"$r"
    section="webhooks-$mode-$round"
    ROOT="$ROOT" python3 - "$dir/spread3.json" "$ROOT/run/churn-$section.json" "$ROOT/run/webhooks-$section.txt" "$mode" "$round" <<'PY'
import json, sys, re, os
sys.path.insert(0, os.path.join(os.environ["ROOT"], "scripts"))
from benchlib import figures
row = figures(json.load(open(sys.argv[1])))
churn = json.load(open(sys.argv[2])) if os.path.getsize(sys.argv[2]) else {}
outcomes = {}
for line in open(sys.argv[3]):
    m = re.match(r'node-\d+ akkavoice_webhooks_total\{[^}]*outcome="(\w+)"[^}]*\} (\S+)', line)
    if m: outcomes[m[1]] = outcomes.get(m[1], 0) + float(m[2])
lat = row.get("latency_ms") or {}
hooks = "-" if sys.argv[4] == "off" else " / ".join(str(int(outcomes.get(k, 0))) for k in ("delivered", "retried", "dropped"))
print(f"| {sys.argv[5]} | {sys.argv[4]} | {row['loss']:.4%} | {lat.get('p50', 0):.2f} | {lat.get('p99', 0):.2f} | {row.get('node_cpu_cores')} "
      f"| {churn.get('joins')} / {churn.get('leaves')} / {churn.get('errors')} | {hooks} |")
PY
done
