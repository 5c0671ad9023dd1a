#!/usr/bin/env python3
"""The chaos harness behind scripts/chaos.sh: faults injected into a local 3-node cluster under voice load.

It drives scripts/cluster.sh (the nodes) and the chaos probe of the load generator (healing clients that
time every receiver/speaker pair; `AkkaVoice.LoadTest chaos --help`), injects one fault at a time, and per
fault asks the probe for its figures and reads the nodes' logs for two incarnations of a room running at
once. Results: one JSON and one Markdown table in the output directory, the table also on stdout.
"""
import argparse
import datetime
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN = os.path.join(ROOT, "run")
CLUSTER = os.path.join(ROOT, "scripts", "cluster.sh")
LOADGEN = os.path.join(ROOT, "src", "AkkaVoice.LoadTest", "bin", "Release", "net10.0", "AkkaVoice.LoadTest.dll")
NFT_TABLE = "akkavoice_chaos"
# The node that a partition cuts off runs as this user, so that firewall rules can tell its packets apart
# on loopback (every node shares 127.0.0.1).
PARTITION_UID = 65534
FAULTS = ["kill9", "kill9-coordinator", "kill9-restart", "kill9-two", "sigterm", "sigstop-short", "sigstop-long", "partition", "rolling"]
# The faults that run on the default cluster; kill9-two needs --nodes 5 (two of five, one after the other).
DEFAULT_FAULTS = [f for f in FAULTS if f != "kill9-two"]


def log(msg):
    print(f"[chaos {datetime.datetime.now():%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


class Cluster:
    def __init__(self, args):
        self.args = args
        self.size = args.nodes
        self.http = [args.http_base_port + i for i in range(self.size)]
        self.akka = [args.akka_base_port + i for i in range(self.size)]
        self.env = dict(os.environ, HTTP_BASE_PORT=str(args.http_base_port), AKKA_BASE_PORT=str(args.akka_base_port))
        self.env[f"NODE_WRAP_{args.partition_node}"] = f"setpriv --reuid={PARTITION_UID} --regid={PARTITION_UID} --clear-groups"
        # Per node: [start, end] of each process life, and [start, end] of each pause (wall clock).
        self.lives = {i: [] for i in range(self.size)}
        self.pauses = {i: [] for i in range(self.size)}

    def address(self, i):
        scheme = "akka.ssl.tcp" if os.environ.get("CLUSTER_TLS_CERT") else "akka.tcp"
        return f"{scheme}://akkavoice@127.0.0.1:{self.akka[i]}"

    def pid(self, i):
        with open(os.path.join(RUN, f"node-{i}.pid")) as f:
            return int(f.read().strip())

    def alive(self, i):
        try:
            os.kill(self.pid(i), 0)
            return True
        except (OSError, FileNotFoundError, ValueError):
            return False

    def start(self):
        subprocess.run([CLUSTER, "start", str(self.size), "--no-build"], env=self.env, check=True)
        now = time.time()
        for i in range(self.size):
            self.lives[i].append([now, None])

    def start_node(self, i):
        t = time.time()
        subprocess.run([CLUSTER, "start-node", str(i)], env=self.env, check=True)
        self.lives[i].append([t, None])

    def ended(self, i, t=None):
        if self.lives[i] and self.lives[i][-1][1] is None:
            self.lives[i][-1][1] = t or time.time()

    def signal(self, i, sig):
        os.kill(self.pid(i), sig)

    def wait_exit(self, i, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not self.alive(i):
                self.ended(i)
                return True
            time.sleep(0.1)
        return False

    def stop(self):
        subprocess.run([CLUSTER, "stop"], env=self.env, check=False)
        for i in range(self.size):
            self.ended(i)

    def log_path(self, i):
        return os.path.join(RUN, f"node-{i}.log")

    def oldest(self):
        """The running node that has been up longest: the cluster's oldest member, which holds the shard coordinators."""
        running = [i for i in range(self.size) if self.alive(i)]
        return min(running, key=lambda i: self.lives[i][-1][0])


class Probe:
    def __init__(self, args, cluster):
        nodes = ",".join(f"http://127.0.0.1:{p}" for p in cluster.http)
        cmd = ["dotnet", LOADGEN, "chaos", "--nodes", nodes, "--rooms", str(args.rooms), "--members", str(args.members),
               "--speakers", str(args.speakers), "--ping-after", str(args.ping_after), "--silence-timeout", str(args.silence_timeout)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.lines = []
        self.cv = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            line = line.strip()
            if not line:
                continue
            try:
                msg = json.loads(line)
            except json.JSONDecodeError:
                log(f"probe: {line}")
                continue
            with self.cv:
                self.lines.append(msg)
                self.cv.notify_all()

    def expect(self, event, timeout):
        deadline = time.time() + timeout
        with self.cv:
            while True:
                for i, m in enumerate(self.lines):
                    if m.get("event") == event:
                        return self.lines.pop(i)
                left = deadline - time.time()
                if left <= 0 or self.proc.poll() is not None:
                    raise RuntimeError(f"the probe sent no '{event}' (exit code {self.proc.poll()})")
                self.cv.wait(left)

    def send(self, command):
        try:
            self.proc.stdin.write(command + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise RuntimeError(f"the probe has exited (code {self.proc.wait()})") from None

    def close(self):
        if self.proc.poll() is None:
            try:
                self.send("quit")
                self.proc.wait(timeout=30)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.proc.kill()


def nft(script):
    subprocess.run(["nft", "-f", "-"], input=script, text=True, check=True)


def partition_on(cluster, i):
    """Cuts node i's Akka traffic off from the others: connections to its port, and connections it opens
    (packets of its user to the other nodes' ports mark their connection, and every packet of a marked
    connection is dropped, both ways). HTTP stays open, so clients still reach the cut-off node."""
    others = ", ".join(str(p) for j, p in enumerate(cluster.akka) if j != i)
    nft(f"""
table inet {NFT_TABLE} {{
  chain output {{
    type filter hook output priority 0; policy accept;
    tcp dport {cluster.akka[i]} drop
    tcp sport {cluster.akka[i]} drop
    meta skuid {PARTITION_UID} tcp dport {{ {others} }} ct mark set 0x2a
    ct mark 0x2a drop
  }}
  chain input {{
    type filter hook input priority 0; policy accept;
    ct mark 0x2a drop
  }}
}}
""")


def partition_off():
    subprocess.run(["nft", "delete", "table", "inet", NFT_TABLE], check=False, stderr=subprocess.DEVNULL)


LINE = re.compile(r"^\[(\d\d):(\d\d):(\d\d)\.(\d{3}) \w+\] Room (\S+) (started|stopped) on (\S+)")
# The frozen-node guard's line: from it on, the node's rooms answer nothing (NodeFence), whatever still runs.
FENCED = re.compile(r"^\[(\d\d):(\d\d):(\d\d)\.(\d{3}) \w+\] Node \S+ (?:was frozen for|was quarantined by).*downing itself")


def incarnations(cluster, prefix_day, t0, t1):
    """Rooms that ran on two nodes at once (neither node paused) inside [t0, t1], from the nodes' logs (a
    room runs from its "started" line to its "stopped" line, or to its node's frozen-node guard line):
    returns (rooms with an overlap, longest overlap in seconds)."""
    spans = {}  # room -> list of (node, start, end)

    def at(match):
        # The log line's clock time (its first four groups) on the run's day.
        hh, mm, ss, ms = (int(g) for g in match.groups()[:4])
        return prefix_day + hh * 3600 + mm * 60 + ss + ms / 1000

    for i in range(cluster.size):
        try:
            text = open(cluster.log_path(i), errors="replace").read().splitlines()
        except FileNotFoundError:
            continue
        open_rooms = {}
        lives = cluster.lives[i]

        def end_of_life(start):
            # A room without a stop line ran until its process ended (a kill) or runs still.
            end = next((e for s, e in lives if s - 1 <= start and (e is None or start <= e)), None)
            return end or time.time()

        for line in text:
            f = FENCED.match(line)
            if f:
                t = at(f)
                for room, start in open_rooms.items():
                    spans.setdefault(room, []).append((i, start, t))
                open_rooms.clear()
                continue
            m = LINE.match(line)
            if not m:
                continue
            room, what, t = m.group(5), m.group(6), at(m)
            if what == "started":
                if room in open_rooms:
                    spans.setdefault(room, []).append((i, open_rooms[room], min(t, end_of_life(open_rooms[room]))))
                open_rooms[room] = t
            elif room in open_rooms:
                spans.setdefault(room, []).append((i, open_rooms.pop(room), t))
        for room, start in open_rooms.items():
            spans.setdefault(room, []).append((i, start, end_of_life(start)))

    def live_parts(node, s, e):
        parts = [(s, e)]
        for ps, pe in cluster.pauses[node]:
            pe = pe or time.time()
            parts = [p for a, b in parts for p in ((a, min(b, ps)), (max(a, pe), b)) if p[1] > p[0]]
        return [(max(a, t0), min(b, t1)) for a, b in parts if min(b, t1) > max(a, t0)]

    rooms, longest = 0, 0.0
    for room, ss in spans.items():
        worst = 0.0
        for x in range(len(ss)):
            for y in range(x + 1, len(ss)):
                if ss[x][0] == ss[y][0]:
                    continue
                for a0, a1 in live_parts(*ss[x]):
                    for b0, b1 in live_parts(*ss[y]):
                        worst = max(worst, min(a1, b1) - max(a0, b0))
        if worst > 0.05:
            rooms += 1
            longest = max(longest, worst)
    return rooms, round(longest, 3)


def kill(cluster, i, seen):
    """kill -9 of node i, noting the kill's wall time (for the per-step breakdown)."""
    t = time.time()
    cluster.signal(i, signal.SIGKILL)
    cluster.ended(i, t)
    seen.setdefault("_kills", []).append((i, t))
    # Gone from the process table, so that it can be started again at once.
    if not cluster.wait_exit(i, 10):
        raise RuntimeError(f"node {i} still runs 10 s after kill -9")


def wait_log(cluster, i, text, timeout):
    """Waits until node i's log holds text; returns whether it did."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if text in open(cluster.log_path(i), errors="replace").read():
                return True
        except FileNotFoundError:
            pass
        time.sleep(0.1)
    return False


STAMP = r"^\[(\d\d):(\d\d):(\d\d)\.(\d{3}) \w+\] "


def log_lines(cluster, day, t0, t1):
    """Every node's log lines stamped inside [t0, t1]: (time, node, text), in time order."""
    stamp = re.compile(STAMP)
    out = []
    for i in range(cluster.size):
        try:
            lines = open(cluster.log_path(i), errors="replace").read().splitlines()
        except FileNotFoundError:
            continue
        for line in lines:
            m = stamp.match(line)
            if not m:
                continue
            hh, mm, ss, ms = (int(g) for g in m.groups())
            t = day + hh * 3600 + mm * 60 + ss + ms / 1000
            if t0 <= t <= t1:
                out.append((t, i, line[m.end():]))
    out.sort()
    return out


def window_counts(lines):
    """What a fault did to the cluster: members removed and members downed (distinct, as any node saw them),
    and shard handoffs started (each logged once, on the coordinator's node)."""
    def distinct(pattern):
        return len({m.group(1) for _, _, l in lines for m in [re.search(pattern, l)] if m})
    return {
        "removed": distinct(r"^Member (\S+) removed \(was"),
        "downed": distinct(r"Marking (?:unreachable )?node \[(\S+)\] as \[Down\]"),
        "handoffs": sum(1 for _, _, l in lines if re.match(r"Shard \S+ handoff started", l)),
    }


def breakdown(cluster, lines, kills, heard_again):
    """The steps from each kill -9 to its rooms being heard again, from the nodes' logs (seconds after the
    kill, first seen on any survivor): the port refused, the node downed, removed, the shard coordinator
    running again (kill of its node), the first and last of its shards allocated anew, the last of its
    rooms started, and the clients hearing again (the probe's worst recovery in the fault's rooms)."""
    steps = []
    for i, tk in kills:
        addr = cluster.address(i)
        after = [(t - tk, n, l) for t, n, l in lines if t >= tk and n != i]

        def first(pattern):
            return next((round(dt, 2) for dt, _, l in after if re.search(pattern, l)), None)

        removed = first(rf"Member {re.escape(addr)} removed")
        # The shards the dead node held are allocated anew once it is removed, before it is started again.
        allocs = [dt for dt, _, l in after if removed is not None and dt >= removed - 0.05 and re.match(r"Shard \S+ allocated to", l)]
        rooms = [dt for dt, _, l in after if removed is not None and dt >= removed - 0.05 and re.match(r"Room \S+ started on", l)]
        steps.append({
            "node": i,
            "port_refused": first(rf"Remoting port of {re.escape(addr)} refused"),
            "downed": first(rf"Member {re.escape(addr)} is dead|SBR took decision \S+ and is downing \[{re.escape(addr)}"),
            "unreachable": first(rf"Member {re.escape(addr)} is unreachable"),
            "removed": removed,
            "coordinator": first(r"Singleton manager started singleton actor \[\S*roomCoordinator"),
            "first_allocated": round(min(allocs), 2) if allocs else None,
            "last_allocated": round(max(a for a in allocs if a <= (removed or 0) + 10), 2) if allocs else None,
            "last_room_started": round(max(r for r in rooms if r <= (removed or 0) + 10), 2) if rooms else None,
            "heard_again": heard_again,
        })
    return steps


def run_fault(name, cluster, probe, args):
    """Injects one fault and returns what the harness itself saw (exit codes, restarts)."""
    seen = {}
    if name in ("kill9", "kill9-coordinator"):
        # kill9: node 1 (not the oldest); kill9-coordinator: the oldest node, which holds the shard coordinators.
        i = cluster.oldest() if name == "kill9-coordinator" else 1
        seen["node"] = i
        probe_mark(probe, name, cluster.address(i))
        kill(cluster, i, seen)
        time.sleep(args.observe)
        cluster.start_node(i)
    elif name == "kill9-restart":
        # kill -9 and at once the same node again on the same ports: the new incarnation replaces the old.
        i = 1
        probe_mark(probe, name, cluster.address(i))
        kill(cluster, i, seen)
        cluster.start_node(i)
        seen["restarted_ready_s"] = round(time.time() - seen["_kills"][0][1], 2)
        time.sleep(args.observe)
    elif name == "kill9-two":
        # Two nodes of five, one after the other: the second as soon as the first is removed.
        if cluster.size < 5:
            raise RuntimeError("kill9-two needs --nodes 5")
        a, b = 1, 2
        probe_mark(probe, name, f"{cluster.address(a)},{cluster.address(b)}")
        kill(cluster, a, seen)
        seen["first_removed"] = wait_log(cluster, 0, f"Member {cluster.address(a)} removed", 30)
        kill(cluster, b, seen)
        time.sleep(args.observe)
        cluster.start_node(a)
        cluster.start_node(b)
    elif name == "sigterm":
        i = 2
        probe_mark(probe, name, cluster.address(i))
        cluster.signal(i, signal.SIGTERM)
        seen["exited"] = cluster.wait_exit(i, 60)
        seen["exit_code_note"] = "SIGTERM: graceful leave, exit 0 expected"
        time.sleep(1)
        cluster.start_node(i)
    elif name in ("sigstop-short", "sigstop-long"):
        i = 0
        pause = args.stop_short if name == "sigstop-short" else args.stop_long
        probe_mark(probe, name, cluster.address(i))
        t = time.time()
        cluster.signal(i, signal.SIGSTOP)
        time.sleep(pause)
        cluster.signal(i, signal.SIGCONT)
        cluster.pauses[i].append([t, time.time()])
        seen["paused_s"] = pause
        # A node paused past the resolver's decision is downed and shuts itself down once it runs again.
        seen["exited_after_resume"] = cluster.wait_exit(i, 20 if name == "sigstop-long" else 8)
        if seen["exited_after_resume"]:
            cluster.start_node(i)
    elif name == "partition":
        i = args.partition_node
        probe_mark(probe, name, cluster.address(i))
        partition_on(cluster, i)
        try:
            seen["minority_exited"] = cluster.wait_exit(i, args.partition_seconds)
            left = args.partition_seconds - (time.time() - probe_marked_at[0])
            if left > 0:
                time.sleep(left)
        finally:
            partition_off()
        if not cluster.alive(i):
            cluster.ended(i)
            cluster.start_node(i)
            seen["healed_node_rejoined"] = True
    elif name == "rolling":
        probe_mark(probe, name, None)
        for r in range(args.rounds):
            for i in range(cluster.size):
                if not cluster.alive(i):
                    # An earlier fault left this node down (the resolver downed it after its restart): bring it back first.
                    log(f"node {i} is not running; starting it before its round")
                    cluster.ended(i)
                    cluster.start_node(i)
                    time.sleep(args.rolling_pause)
                cluster.signal(i, signal.SIGTERM)
                if not cluster.wait_exit(i, 60):
                    raise RuntimeError(f"node {i} did not exit within 60 s of SIGTERM")
                cluster.start_node(i)
                time.sleep(args.rolling_pause)
        seen["rounds"] = args.rounds
    else:
        raise ValueError(name)
    time.sleep(args.settle)
    return seen


probe_marked_at = [0.0]


def probe_mark(probe, name, target):
    probe.send(f"mark {name} {target or ''}".strip())
    probe.expect("marked", 30)
    probe_marked_at[0] = time.time()
    log(f"fault {name}" + (f" on {target}" if target else ""))


def fmt(v, unit=""):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.2f}{unit}"
    return f"{v}{unit}"


def table(rows):
    head = ("| fault | reconnects | recovery p50 / p99 / max (s) | rooms on the fault's node: n, p99 / max (s) | other rooms p99 / max (s) "
            "| longest silence per pair p50 / p99 / max (s) | pairs never recovered | wrong room | duplicates | two incarnations (rooms, longest s) | notes |")
    lines = [head, "|" + "---|" * 11]
    for r in rows:
        rec, tgt, oth, lon = r["recovery"], r["recovery_target_rooms"], r["recovery_other_rooms"], r["longest_silence_per_pair"]
        notes = ", ".join(f"{k} {v}" for k, v in r.get("harness", {}).items() if k != "exit_code_note")
        lines.append(f"| {r['fault']} | {r['reconnects']} | {fmt(rec['p50'])} / {fmt(rec['p99'])} / {fmt(rec['max'])} "
                     f"| {r['target_rooms']}: {fmt(tgt['p99'])} / {fmt(tgt['max'])} | {fmt(oth['p99'])} / {fmt(oth['max'])} "
                     f"| {fmt(lon['p50'])} / {fmt(lon['p99'])} / {fmt(lon['max'])} | {r['pairs_never_recovered']} of {r['pairs']} "
                     f"| {r['wrong_room']} | {r['duplicates']} | {r['incarnation_overlaps']}, {fmt(r['incarnation_overlap_max_s'])} | {notes} |")
    return "\n".join(lines)


def steps_table(rows):
    """Per kill -9: seconds from the kill to each step (see breakdown)."""
    cols = ["port_refused", "downed", "removed", "coordinator", "first_allocated", "last_allocated", "last_room_started", "heard_again"]
    head = "| fault | node | " + " | ".join(c.replace("_", " ") for c in cols) + " |"
    lines = [head, "|" + "---|" * (len(cols) + 2)]
    for r in rows:
        for st in r.get("steps", []):
            lines.append(f"| {r['fault']} | {st['node']} | " + " | ".join(fmt(st[c]) for c in cols) + " |")
    return "\n".join(lines) if len(lines) > 2 else ""


def main():
    p = argparse.ArgumentParser(prog="scripts/chaos.sh", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--faults", default=None, help=f"comma-separated faults to run, in order (default: {','.join(DEFAULT_FAULTS)}, and kill9-two with --nodes 5 or more; known: {','.join(FAULTS)})")
    p.add_argument("--nodes", type=int, default=3, help="nodes in the cluster (default 3; kill9-two needs 5)")
    p.add_argument("--rooms", type=int, default=15, help="rooms (default 15)")
    p.add_argument("--members", type=int, default=10, help="members per room (default 10)")
    p.add_argument("--speakers", type=int, default=2, help="speakers per room (default 2)")
    p.add_argument("--rounds", type=int, default=5, help="rounds of the rolling restart (default 5)")
    p.add_argument("--rolling-pause", type=float, default=2.0, help="seconds between two nodes of a rolling restart, after the restarted one is ready (default 2)")
    p.add_argument("--stop-short", type=float, default=3.0, help="seconds of the short SIGSTOP, within the failure detector's pause (default 3)")
    p.add_argument("--stop-long", type=float, default=25.0, help="seconds of the long SIGSTOP, past the resolver's decision (default 25)")
    p.add_argument("--partition-seconds", type=float, default=20.0, help="seconds the partition lasts (default 20)")
    p.add_argument("--partition-node", type=int, default=2, help="the node the partition cuts off (default 2); it runs as uid 65534")
    p.add_argument("--observe", type=float, default=15.0, help="seconds to watch after a kill -9 before starting the node again (default 15)")
    p.add_argument("--settle", type=float, default=8.0, help="seconds after each fault before its report (default 8)")
    p.add_argument("--ping-after", type=float, default=1.0, help="healing clients ping after this many quiet seconds (default 1)")
    p.add_argument("--silence-timeout", type=float, default=2.0, help="and move on when nothing comes back this long after (default 2)")
    p.add_argument("--http-base-port", type=int, default=int(os.environ.get("HTTP_BASE_PORT", "5000")))
    p.add_argument("--akka-base-port", type=int, default=int(os.environ.get("AKKA_BASE_PORT", "4053")))
    p.add_argument("--out", default=None, help="output directory (default bench-results/<date>-chaos)")
    args = p.parse_args()
    faults = [f for f in args.faults.split(",") if f] if args.faults else DEFAULT_FAULTS + (["kill9-two"] if args.nodes >= 5 else [])
    for f in faults:
        if f not in FAULTS:
            p.error(f"unknown fault '{f}'; known: {', '.join(FAULTS)}")
    if args.nodes < 3 or not 0 <= args.partition_node < args.nodes:
        p.error("--nodes must be at least 3 and --partition-node one of them")
    if "kill9-two" in faults and args.nodes < 5:
        p.error("kill9-two needs --nodes 5")

    out = args.out or os.path.join(ROOT, "bench-results", f"{datetime.datetime.now():%Y%m%d-%H%M%S}-chaos")
    os.makedirs(out, exist_ok=True)
    day = datetime.datetime.combine(datetime.date.today(), datetime.time()).timestamp()
    cluster = Cluster(args)
    probe = None
    rows = []
    partition_off()
    try:
        cluster.start()
        probe = Probe(args, cluster)
        ready = probe.expect("ready", 180)
        log(f"probe ready: {ready['rooms']} rooms x {ready['members']} members, {ready['speakers']} speakers each, {ready['pairs']} pairs")
        time.sleep(5)
        for name in faults:
            # Each fault finds the clients where they started, a third on every node.
            probe.send("spread")
            spread = probe.expect("spread", 90)
            if spread["moved"]:
                log(f"moved {spread['moved']} clients back to the node they started on")
                time.sleep(3)
            t0 = time.time()
            seen = run_fault(name, cluster, probe, args)
            probe.send("report")
            row = probe.expect("report", 60)
            t1 = time.time()
            row["incarnation_overlaps"], row["incarnation_overlap_max_s"] = incarnations(cluster, day, t0, t1)
            lines = log_lines(cluster, day, t0, t1)
            kills = seen.pop("_kills", [])
            if kills:
                row["steps"] = breakdown(cluster, lines, kills, row["recovery_target_rooms"]["max"])
            else:
                seen.update(window_counts(lines))
            row["harness"] = seen
            rows.append(row)
            log(f"{name}: reconnects {row['reconnects']}, recovery p99 {row['recovery']['p99']} s, never recovered {row['pairs_never_recovered']}")
    finally:
        partition_off()
        if probe:
            probe.close()
        cluster.stop()
    md = table(rows)
    steps = steps_table(rows)
    if steps:
        md += "\n\nSeconds from each kill -9 to each step (first seen on a survivor's log; heard again: the probe's worst recovery in the dead node's rooms):\n\n" + steps
    config = {k: v for k, v in vars(args).items() if k != "out"}
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump({"started": datetime.datetime.fromtimestamp(day).date().isoformat(), "config": config, "faults": rows}, f, indent=2)
    with open(os.path.join(out, "table.md"), "w") as f:
        f.write(md + "\n")
    print(md)
    log(f"results in {out}")


if __name__ == "__main__":
    main()
