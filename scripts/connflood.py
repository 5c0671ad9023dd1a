#!/usr/bin/env python3
"""Connection flood from one client address against a node's /ws (the per-address limit, PROTOCOL.md section 11).

    scripts/connflood.py [--url http://127.0.0.1:5000] [--source 127.0.0.2] [--attempts 20000]
                         [--seconds 15] [--concurrency 200] [--wait-ready 60]

Sends --attempts WebSocket upgrade requests from --source (a loopback address: every 127.x.y.z is this
machine), paced evenly over --seconds with at most --concurrency in flight, and keeps every upgraded
connection open until the end. Prints one JSON line: the count of each answer (101, 503, ...), connection
errors, and the attempts per second reached. Loopback only; bounded in count and time.
"""
import argparse
import asyncio
import base64
import collections
import json
import os
import time
import urllib.parse
import urllib.request


async def attempt(host, port, source, path, held, counts):
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port, local_addr=(source, 0)), 10)
    except (OSError, asyncio.TimeoutError) as e:
        counts[f"connect-error:{type(e).__name__}"] += 1
        return
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                  f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Protocol: akkavoice.v1\r\n\r\n").encode())
    try:
        line = await asyncio.wait_for(reader.readline(), 10)
        status = line.split()[1].decode() if len(line.split()) > 1 else "closed"
    except (OSError, asyncio.TimeoutError) as e:
        status = f"read-error:{type(e).__name__}"
    counts[status] += 1
    if status == "101":
        held.append(writer)
    else:
        writer.close()


async def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default="http://127.0.0.1:5000")
    p.add_argument("--source", default="127.0.0.2")
    p.add_argument("--attempts", type=int, default=20000)
    p.add_argument("--seconds", type=float, default=15)
    p.add_argument("--concurrency", type=int, default=200)
    p.add_argument("--wait-ready", type=float, default=60)
    a = p.parse_args()
    u = urllib.parse.urlparse(a.url)
    host, port = u.hostname, u.port or 80
    if not (host.startswith("127.") or host == "localhost") or not a.source.startswith("127."):
        raise SystemExit("loopback addresses only")

    deadline = time.time() + a.wait_ready
    while True:
        try:
            if urllib.request.urlopen(f"{a.url}/readyz", timeout=2).status == 200:
                break
        except OSError:
            pass
        if time.time() > deadline:
            raise SystemExit(f"{a.url} not ready")
        await asyncio.sleep(0.2)

    counts, held = collections.Counter(), []
    gate = asyncio.Semaphore(a.concurrency)
    start = time.time()

    async def one(i):
        async with gate:
            await attempt(host, port, a.source, f"/ws?user=flood-{i}", held, counts)

    tasks = []
    for i in range(a.attempts):
        due = start + a.seconds * i / a.attempts
        if due > time.time():
            await asyncio.sleep(due - time.time())
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    elapsed = time.time() - start
    print(json.dumps({"attempts": a.attempts, "seconds": round(elapsed, 1), "per_second": round(a.attempts / elapsed),
                      "answers": dict(counts), "held_open": len(held)}), flush=True)
    for w in held:
        w.close()


if __name__ == "__main__":
    asyncio.run(main())
