#!/usr/bin/env python3
"""Helpers for scripts/bench.sh: run one load scenario while sampling the nodes, and turn the
scenario results into a Markdown table and JSON.

  benchlib.py run --scenario NAME --http URL,URL --pids PID,PID --out FILE -- COMMAND...
  benchlib.py summarize --dir DIR --mode quick|full --command TEXT [--doc docs/benchmarks.md]

`run` snapshots every node (its /metrics counters, CPU seconds and RSS) while idle, when the load
generator prints its first 'measure' progress line, and when it prints its first 'drain' line (or
'closing connections'), so that server-side deltas cover the same window the load generator measures.
CPU comes from process_cpu_seconds_total when a node exports it, else from /proc/<pid>/stat.
"""
import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import threading
import time
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")
METRIC_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+([-+0-9.eEnaNInf]+)')


def scrape(url):
    """The node's metrics as {name{labels}: value}; empty when the node does not answer."""
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/metrics", timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        m = METRIC_LINE.match(line)
        if m:
            out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return out


def proc_cpu(pid):
    """utime + stime of a process in seconds, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        # After the command name: state is field 3, utime field 14, stime field 15 (1-based, see proc(5)).
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


def proc_rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def machine_cpu():
    """The machine's CPU time so far, in clock ticks: (total, stolen by the hypervisor)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        return {"total": sum(fields[:8]), "steal": fields[7] if len(fields) > 7 else 0}
    except (OSError, ValueError):
        return None


def snapshot(urls, pids, loadgen_pid=None):
    nodes = []
    for url, pid in zip(urls, pids):
        metrics = scrape(url)
        cpu = metrics.get("process_cpu_seconds_total")
        nodes.append({
            "url": url,
            "pid": pid,
            "cpu_seconds": cpu if cpu is not None else proc_cpu(pid),
            "cpu_source": "metrics" if cpu is not None else "proc",
            "rss_kb": proc_rss_kb(pid),
            "metrics": {k: v for k, v in metrics.items() if k.startswith("akkavoice_")},
        })
    snap = {"time": time.time(), "nodes": nodes, "machine_cpu": machine_cpu()}
    if loadgen_pid is not None:
        snap["loadgen"] = {"cpu_seconds": proc_cpu(loadgen_pid), "rss_kb": proc_rss_kb(loadgen_pid)}
    return snap


def cmd_run(args):
    urls = args.http.split(",")
    pids = [int(p) for p in args.pids.split(",")]
    command = args.command[1:] if args.command and args.command[0] == "--" else args.command
    result = {"scenario": args.scenario, "order": args.order, "routing": args.routing, "command": command,
              "idle": snapshot(urls, pids)}
    started = time.time()
    # A ramp measures several steps, each with its own drain: the window runs until the connections close.
    ramp = "--ramp" in command
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
    stdout_lines = []
    # stdout is small (the summary); stderr carries the progress lines we key the snapshots on.
    reader = threading.Thread(target=lambda: stdout_lines.extend(proc.stdout), daemon=True)
    reader.start()
    # The nodes' RSS every 15 s, so a long run shows whether memory levels off or keeps growing.
    result["rss_samples"] = []
    def sample():
        while proc.poll() is None:
            result["rss_samples"].append({"seconds": round(time.time() - started), "rss_kb": [proc_rss_kb(p) for p in pids]})
            time.sleep(15)
    threading.Thread(target=sample, daemon=True).start()
    for line in proc.stderr:
        sys.stderr.write(f"  {line}")
        if "window" not in result and " measure]" in line:
            result["window"] = snapshot(urls, pids, proc.pid)
        elif "window" in result and "window_end" not in result and (
                (" drain  ]" in line and not ramp) or line.startswith("closing connections")):
            result["window_end"] = snapshot(urls, pids, proc.pid)
    proc.wait()
    reader.join()
    result["final"] = snapshot(urls, pids)
    result["exit_code"] = proc.returncode
    result["wall_seconds"] = time.time() - started
    result["stdout"] = "".join(stdout_lines)
    if args.loadgen_json and os.path.exists(args.loadgen_json):
        with open(args.loadgen_json) as f:
            result["loadgen"] = json.load(f)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
    sys.stdout.write(result["stdout"])
    return 0


def delta(a, b, name):
    return sum(nb["metrics"].get(name, 0) - na["metrics"].get(name, 0) for na, nb in zip(a["nodes"], b["nodes"]))


def figures(r):
    """The table row of one scenario result."""
    lg = r.get("loadgen") or {}
    step = lg.get("result") or (lg.get("steps") or [None])[-1] or {}
    a, b = r.get("window"), r.get("window_end")
    row = {
        "scenario": r["scenario"],
        "nodes": len(r["idle"]["nodes"]),
        "routing": r.get("routing"),
        "placement": lg.get("placement"),
        "connections": step.get("connections"),
        "delivered_per_s": step.get("delivered_per_second"),
        "expected_per_s": step.get("expected_per_second"),
        "loss": step.get("loss_ratio"),
        "duplicates": step.get("duplicates"),
        "order_violations": step.get("order_violations"),
        "latency_ms": step.get("latency_ms"),
        "exit_code": r.get("exit_code"),
    }
    if lg.get("ramp"):
        row["ramp_steps"] = [{"delivered_per_s": st.get("delivered_per_second"), "p99_ms": (st.get("latency_ms") or {}).get("p99"),
                              "loss": st.get("loss_ratio"), "passed": st.get("passed")} for st in lg.get("steps") or []]
    if a and b:
        frames = delta(a, b, "akkavoice_frames_received_total")
        delivered = delta(a, b, "akkavoice_frames_delivered_total")
        node_messages = delta(a, b, "akkavoice_node_messages_sent_total")
        text_messages = delta(a, b, "akkavoice_node_text_messages_sent_total")
        said = delta(a, b, "akkavoice_said_total")
        cpu = sum((nb["cpu_seconds"] or 0) - (na["cpu_seconds"] or 0) for na, nb in zip(a["nodes"], b["nodes"]))
        wall = b["time"] - a["time"]
        rss_kb = sum(n["rss_kb"] or 0 for n in b["nodes"])
        idle_rss_kb = sum(n["rss_kb"] or 0 for n in r["idle"]["nodes"])
        window_start_rss_kb = sum(n["rss_kb"] or 0 for n in a["nodes"])
        conns = step.get("connections") or 0
        dropped = {reason: delta(a, b, f'akkavoice_frames_dropped_total{{reason="{reason}"}}')
                   for reason in ("rate-limited", "slow-receiver", "not-joined")}
        lg_cpu = None
        if a.get("loadgen", {}).get("cpu_seconds") is not None and b.get("loadgen", {}).get("cpu_seconds") is not None:
            lg_cpu = b["loadgen"]["cpu_seconds"] - a["loadgen"]["cpu_seconds"]
        steal = None
        if a.get("machine_cpu") and b.get("machine_cpu") and b["machine_cpu"]["total"] > a["machine_cpu"]["total"]:
            steal = (b["machine_cpu"]["steal"] - a["machine_cpu"]["steal"]) / (b["machine_cpu"]["total"] - a["machine_cpu"]["total"])
        row.update({
            "cpu_steal": round(steal, 4) if steal is not None else None,
            "window_seconds": round(wall, 2),
            "server_frames_received": frames,
            "server_deliveries": delivered,
            "server_dropped": dropped,
            "node_messages_sent": node_messages,
            "node_messages_per_frame": round(node_messages / frames, 3) if frames else None,
            "said": said,
            "node_text_messages_sent": text_messages,
            "node_text_messages_per_said": round(text_messages / said, 3) if said else None,
            "node_cpu_seconds": round(cpu, 2),
            "node_cpu_cores": round(cpu / wall, 2) if wall > 0 else None,
            "node_cpu_s_per_m_deliveries": round(cpu / (delivered / 1e6), 2) if delivered else None,
            "node_cpu_per_node": [round((nb["cpu_seconds"] or 0) - (na["cpu_seconds"] or 0), 2) for na, nb in zip(a["nodes"], b["nodes"])],
            "node_rss_mb": round(rss_kb / 1024, 1),
            "node_rss_kb_per_connection": round(rss_kb / conns, 1) if conns else None,
            "node_rss_growth_kb_per_connection": round((rss_kb - idle_rss_kb) / conns, 1) if conns else None,
            "node_rss_window_growth_mb": round((rss_kb - window_start_rss_kb) / 1024, 1),
            "loadgen_cpu_seconds": round(lg_cpu, 2) if lg_cpu is not None else None,
            "loadgen_cpu_cores": round(lg_cpu / wall, 2) if lg_cpu is not None and wall > 0 else None,
        })
    return row


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def table(rows):
    head = ("| scenario | nodes | offered deliveries/s | delivered frames/s | loss | p50 ms | p99 ms | p99.9 ms | node msgs / voice frame "
            "| node text msgs / said | node CPU s / M deliveries | node CPU (cores) | load-gen CPU (cores) | CPU steal | node RSS KB / conn (growth) | RSS growth in window MB "
            "| dropped by server |")
    ramp = any(r.get("ramp_steps") for r in rows)
    if ramp:
        head += " ramp steps: deliveries/s, p99 ms |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        lat = r.get("latency_ms") or {}
        dropped = r.get("server_dropped") or {}
        drops = ", ".join(f"{k} {int(v)}" for k, v in dropped.items() if v) or "0"
        lines.append(
            f"| {r['scenario']} | {r['nodes']} | {fmt(r.get('expected_per_s'), ',.0f')} | {fmt(r.get('delivered_per_s'), ',.0f')} | {fmt(r.get('loss'), '.4%')} "
            f"| {fmt(lat.get('p50'), '.2f')} | {fmt(lat.get('p99'), '.2f')} | {fmt(lat.get('p999'), '.2f')} "
            f"| {fmt(r.get('node_messages_per_frame'), '.2f')} | {fmt(r.get('node_text_messages_per_said'), '.2f')} | {fmt(r.get('node_cpu_s_per_m_deliveries'), '.1f')} "
            f"| {fmt(r.get('node_cpu_cores'), '.2f')} | {fmt(r.get('loadgen_cpu_cores'), '.2f')} | {fmt(r.get('cpu_steal'), '.0%')} "
            f"| {fmt(r.get('node_rss_kb_per_connection'), ',.0f')} ({fmt(r.get('node_rss_growth_kb_per_connection'), ',.0f')}) "
            f"| {fmt(r.get('node_rss_window_growth_mb'), '.1f')} | {drops} |"
            + (" " + "; ".join(f"{fmt(st['delivered_per_s'], ',.0f')} {fmt(st['p99_ms'], '.0f')}{'' if st['passed'] else ' (failed)'}"
                             for st in r.get("ramp_steps") or []) + " |" if ramp else ""))
    return "\n".join(lines)


def machine():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_gib = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem_gib = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    load = os.getloadavg()
    return {"nproc": os.cpu_count(), "model": model, "memory_gib": round(mem_gib, 1) if mem_gib else None,
            "kernel": platform.release(), "loadavg_at_end": [round(x, 2) for x in load]}


def cmd_summarize(args):
    rows = []
    for name in sorted(os.listdir(args.dir)):
        if not name.endswith(".json") or name in ("summary.json",):
            continue
        with open(os.path.join(args.dir, name)) as f:
            r = json.load(f)
        if "scenario" in r:
            rows.append((r.get("order", 0), figures(r)))
    rows = [r for _, r in sorted(rows, key=lambda x: x[0])]
    m = machine()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    summary = {"mode": args.mode, "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "commit": commit, "command": args.command, "load": args.load, "machine": m, "scenarios": rows}
    with open(os.path.join(args.dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    md = [
        f"<!-- bench:{args.mode} -->",
        f"### `{args.mode}` run, {summary['date']} (commit {commit})",
        "",
        f"Command: `{args.command}`  ",
        f"Load per scenario: {args.load}  ",
        f"Machine: {m['nproc']} cores, {m['model']}, {m['memory_gib']} GiB RAM, Linux {m['kernel']}; "
        f"load average at the end {m['loadavg_at_end'][0]} (other work shares these cores, and the load generator runs on them too).",
        "",
        table(rows),
        "",
        "Columns: offered deliveries/s is what the speakers actually sent in the window times the listeners of each room "
        "(it falls short of the load above when the load generator cannot keep its schedule); delivered frames/s, loss and latency "
        "are what the receiving clients measured in the window (warm-up excluded). Node messages per voice frame = Σ Δ`akkavoice_node_messages_sent_total` / "
        "Σ Δ`akkavoice_frames_received_total` over all nodes. Node CPU s / M deliveries = Σ Δ CPU seconds of the node processes "
        "/ (Σ Δ`akkavoice_frames_delivered_total` / 10^6). node CPU (cores) and load-gen CPU (cores) are CPU seconds per wall second "
        "in the window. CPU steal is the share of the machine's CPU time the hypervisor gave to other guests in the window: the cores are virtual, and when neighbours are busy the nodes run on less than two cores (latencies rise with it). RSS is the nodes' summed VmRSS at the end of the window divided by connections; in brackets the growth "
        "over the idle nodes' RSS per connection; RSS growth in window is the nodes' summed VmRSS at its end minus at its start "
        "(the figure a soak run watches). In a ramp run each row is the highest step that passed (p99 <= 50 ms, loss <= 0.1%), "
        "the CPU figures cover all its steps, and the last column lists every step.",
        f"<!-- /bench:{args.mode} -->",
    ]
    text = "\n".join(md)
    with open(os.path.join(args.dir, "table.md"), "w") as f:
        f.write(text + "\n")
    if args.doc:
        doc = open(args.doc).read() if os.path.exists(args.doc) else "# Benchmarks\n"
        pattern = re.compile(rf"<!-- bench:{args.mode} -->.*?<!-- /bench:{args.mode} -->", re.S)
        doc = pattern.sub(lambda _: text, doc) if pattern.search(doc) else doc.rstrip("\n") + "\n\n" + text + "\n"
        with open(args.doc, "w") as f:
            f.write(doc)
    print(text)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--scenario", required=True)
    r.add_argument("--http", required=True)
    r.add_argument("--pids", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--loadgen-json")
    r.add_argument("--routing")
    r.add_argument("--order", type=int, default=0)
    r.add_argument("command", nargs=argparse.REMAINDER)
    s = sub.add_parser("summarize")
    s.add_argument("--dir", required=True)
    s.add_argument("--mode", required=True)
    s.add_argument("--command", required=True)
    s.add_argument("--load", required=True)
    s.add_argument("--doc")
    a = p.parse_args()
    return cmd_run(a) if a.cmd == "run" else cmd_summarize(a)


if __name__ == "__main__":
    sys.exit(main())
