#!/usr/bin/env bash
# The chaos harness: a local cluster of --nodes nodes (3 by default; scripts/cluster.sh) under voice load
# from healing clients spread round-robin over the nodes (the load generator's chaos probe), and one fault
# after another:
#
#   kill9          kill -9 of node 1; started again after --observe seconds
#   kill9-coordinator  kill -9 of the oldest node (it runs the shard coordinators); started again likewise
#   kill9-restart  kill -9 of node 1 and at once the same node again on the same ports
#   kill9-two      kill -9 of node 1, and of node 2 as soon as node 1 is removed (needs --nodes 5; run by
#                  default with it); both started again after --observe seconds
#   sigterm        SIGTERM of node 2 (a graceful leave); started again once it exited
#   sigstop-short  SIGSTOP of node 0 (the oldest: shard coordinators) for --stop-short seconds, then SIGCONT
#   sigstop-long   the same for --stop-long seconds, past the resolver's decision: the node is downed and,
#                  once it runs again, shuts itself down; started again
#   partition      node 2's Akka traffic dropped by nftables rules for --partition-seconds (HTTP stays open):
#                  the minority side downs itself and exits; the rules are removed and it is started again
#   rolling        SIGTERM and restart of every node in turn, --rounds times
#
# Before each fault the clients that an earlier fault moved go back to the node they started on. Per fault:
# reconnects of the clients, recovery (each silence over 200 ms of one speaker at one receiver,
# from the last frame before to the first frame after: p50/p99/max, split into the rooms homed on the
# fault's node and the others), the longest silence per receiver/speaker pair, pairs never recovered
# (silent at the report, --settle seconds after the fault), frames to a wrong room, duplicates, and rooms
# that ran on two nodes at once (from the nodes' "Room X started/stopped on" log lines, pauses excluded; the
# frozen-node guard's "downing itself" line ends every room of its node, which from then on answers nothing).
# Per kill -9, the seconds from the kill to each step of the recovery, from the nodes' logs; per other
# fault, the members removed and downed and the shard handoffs started.
#
#   scripts/chaos.sh [--faults kill9,sigterm,...] [--nodes 3] [--rooms 15] [--members 10] [--speakers 2] [--rounds 5] ...
#   scripts/chaos.sh --help     every option
#
# Needs Linux, root (nftables rules, and node 2 runs as uid 65534 so its packets can be told apart on
# loopback), bash, python3, and nft (installed with apt-get when missing). Results: one Markdown table on
# stdout and bench-results/<date>-chaos/{summary.json,table.md}. HTTP_BASE_PORT / AKKA_BASE_PORT move the
# cluster as in scripts/cluster.sh. The nodes, the probe and the firewall rules are removed on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

for arg in "$@"; do
    if [ "$arg" = "--help" ] || [ "$arg" = "-h" ]; then
        sed -n '2,35p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
        echo
        exec python3 "$ROOT/scripts/chaos.py" --help
    fi
done

[ "$(id -u)" = 0 ] || { echo "chaos.sh needs root (nftables rules, and a node run as another user)" >&2; exit 2; }
if ! command -v nft >/dev/null; then
    echo "installing nftables" >&2
    (apt-get update -qq && apt-get install -y -qq nftables) >/dev/null
fi
command -v setpriv >/dev/null || { echo "setpriv (util-linux) is missing" >&2; exit 2; }

echo "building the server and the load generator (Release)" >&2
mkdir -p run
for project in src/AkkaVoice.Server src/AkkaVoice.LoadTest; do
    dotnet build -c Release "$project" -v quiet -nologo >run/chaos-build.log 2>&1 || { tail -30 run/chaos-build.log >&2; exit 1; }
done

cleanup() {
    nft delete table inet akkavoice_chaos 2>/dev/null || true
    scripts/cluster.sh stop >/dev/null 2>&1 || true
}
trap cleanup EXIT
python3 "$ROOT/scripts/chaos.py" "$@"
