#!/usr/bin/env bash
# GET /api/v1/rooms at scale: a 3-node cluster on loopback (scripts/cluster.sh), ROOMS rooms (default 100,000)
# with one member each, then the first page's latency and full walks (ListingBench). Prints the figures.
#
#   flock -x /tmp/akkavoice-measure.lock scripts/listing-bench.sh [ROOMS]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOMS="${1:-100000}"
cd "$ROOT"
dotnet build -c Release src/AkkaVoice.Server -v q --nologo >/dev/null
dotnet build -c Release src/AkkaVoice.LoadTest -v q --nologo >/dev/null
trap 'scripts/cluster.sh stop >/dev/null 2>&1 || true' EXIT
scripts/cluster.sh start 3 --no-build
echo "commit $(git rev-parse --short HEAD), $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores"
dotnet src/AkkaVoice.LoadTest/bin/Release/net10.0/AkkaVoice.LoadTest.dll listing \
    --nodes http://127.0.0.1:5000,http://127.0.0.1:5001,http://127.0.0.1:5002 --rooms "$ROOMS"
for i in 0 1 2; do
    echo "node $i: $(curl -s http://127.0.0.1:500$i/metrics | grep -E '^(akkavoice_rooms_hosted|akkavoice_connections|process_working_set_bytes) ' | tr '\n' ' ')"
done
