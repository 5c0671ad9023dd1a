#!/usr/bin/env bash
# A local AkkaVoice cluster on loopback, in one command.
#
#   scripts/cluster.sh start N [--routing interest|via-room|broadcast] [--no-build]
#   scripts/cluster.sh start-node I     (start node I again, after it stopped, into the running cluster)
#   scripts/cluster.sh stop
#   scripts/cluster.sh status
#
# Node i listens for HTTP/WebSockets on 127.0.0.1:(5000+i) and for Akka.Remote on 127.0.0.1:(4053+i),
# and is named node-i (--node-name); node 0 forms the cluster, the others join it, and a node started
# again joins through the others. Logs go to run/node-i.log (appended to), pids to run/node-i.pid
# (run/ is git-ignored). `start` returns once every node answers /readyz with 200. `stop` sends
# SIGTERM to every node (a graceful leave) and waits for them to exit, killing any that is still
# there after STOP_TIMEOUT seconds.
#
# Environment: HTTP_BASE_PORT (5000), AKKA_BASE_PORT (4053), READY_TIMEOUT (90), STOP_TIMEOUT (45),
# NODE_ENV_<i>="VAR=value ..." extra environment for node i (for example DOTNET_gcServer=1),
# NODE_WRAP_<i>="command ..." a command that runs node i (for example "setpriv --reuid=65534 --regid=65534
# --clear-groups" to run it as another user, which scripts/chaos.sh needs to cut it off with firewall rules),
# NODE_ARGS="--flag value ..." extra flags for every node,
# CLUSTER_TLS_CERT=DIR mutual TLS on remoting: every node presents DIR/cluster.p12 with the password in
# DIR/cluster.password (as scripts/make-cluster-cert.sh DIR writes them; made there when missing).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN_DIR="$ROOT/run"
SERVER_DLL="$ROOT/src/AkkaVoice.Server/bin/Release/net10.0/AkkaVoice.Server.dll"
HTTP_BASE_PORT="${HTTP_BASE_PORT:-5000}"
AKKA_BASE_PORT="${AKKA_BASE_PORT:-4053}"
READY_TIMEOUT="${READY_TIMEOUT:-90}"
STOP_TIMEOUT="${STOP_TIMEOUT:-45}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

usage() {
    sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit 2
}

pid_files() {
    # Sorted by node number, so node 0 comes first.
    find "$RUN_DIR" -maxdepth 1 -name 'node-*.pid' 2>/dev/null | sort -t- -k2 -n
}

alive() {
    kill -0 "$1" 2>/dev/null
}

node_of() {
    local f
    f="$(basename "$1" .pid)"
    echo "${f#node-}"
}

ready() {
    local code
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$1/readyz" || true)"
    [ "$code" = "200" ]
}

port_busy() {
    ss -ltnH "sport = :$1" 2>/dev/null | grep -q .
}

cmd_start() {
    local count="${1:-}"
    shift || true
    local routing="interest" build=1
    while [ $# -gt 0 ]; do
        case "$1" in
            --routing) routing="${2:?--routing needs a value}"; shift 2 ;;
            --no-build) build=0; shift ;;
            *) echo "unknown option $1" >&2; usage ;;
        esac
    done
    case "$count" in ''|*[!0-9]*) echo "start needs a node count" >&2; usage ;; esac
    [ "$count" -ge 1 ] || { echo "node count must be at least 1" >&2; exit 2; }

    mkdir -p "$RUN_DIR"
    local f
    for f in $(pid_files); do
        if alive "$(cat "$f")"; then
            echo "a cluster is already running (node $(node_of "$f"), pid $(cat "$f")); run '$0 stop' first" >&2
            exit 1
        fi
        rm -f "$f"
    done

    local i
    for ((i = 0; i < count; i++)); do
        for port in $((HTTP_BASE_PORT + i)) $((AKKA_BASE_PORT + i)); do
            if port_busy "$port"; then
                echo "port $port is already in use; set HTTP_BASE_PORT / AKKA_BASE_PORT to move the cluster" >&2
                exit 1
            fi
        done
    done

    if [ "$build" = 1 ]; then
        echo "building the server (Release)" >&2
        dotnet build -c Release "$ROOT/src/AkkaVoice.Server" -v quiet -nologo >"$RUN_DIR/build.log" 2>&1 \
            || { tail -30 "$RUN_DIR/build.log" >&2; exit 1; }
    fi
    [ -f "$SERVER_DLL" ] || { echo "$SERVER_DLL is missing; build first" >&2; exit 1; }

    for ((i = 0; i < count; i++)); do rm -f "$RUN_DIR/node-$i.log"; done
    echo "$count" >"$RUN_DIR/cluster.size"
    echo "$routing" >"$RUN_DIR/cluster.routing"
    for ((i = 0; i < count; i++)); do
        local seeds=""
        [ "$i" -gt 0 ] && seeds="akka.tcp://akkavoice@127.0.0.1:$AKKA_BASE_PORT"
        launch "$i" "$routing" "$seeds"
        # Node 0 must have formed the cluster before the others ask to join it: a joiner that finds no
        # seed waits 10 s before its next attempt, which is slower than starting them one after the other.
        if [ "$i" = 0 ]; then wait_ready 0; fi
    done
    for ((i = 1; i < count; i++)); do wait_ready "$i"; done
    echo "cluster of $count node(s) ready" >&2
}

# launch I ROUTING SEEDS: starts node I in the background (log appended, pid recorded).
launch() {
    local i="$1" routing="$2" seeds="$3"
    local args=(--http-port $((HTTP_BASE_PORT + i)) --akka-port $((AKKA_BASE_PORT + i)) --routing "$routing" --node-name "node-$i")
    [ -n "$seeds" ] && args+=(--seeds "$seeds")
    if [ -n "${CLUSTER_TLS_CERT:-}" ]; then
        [ -f "$CLUSTER_TLS_CERT/cluster.p12" ] || "$ROOT/scripts/make-cluster-cert.sh" "$CLUSTER_TLS_CERT" >&2
        args+=(--tls-cert "$CLUSTER_TLS_CERT/cluster.p12" --tls-cert-password-file "$CLUSTER_TLS_CERT/cluster.password")
    fi
    # shellcheck disable=SC2206 # NODE_ARGS is a list of words
    [ -n "${NODE_ARGS:-}" ] && args+=($NODE_ARGS)
    local extra_var="NODE_ENV_$i" wrap_var="NODE_WRAP_$i"
    # shellcheck disable=SC2086 # word splitting of VAR=value pairs and of the wrapper command is intended
    (cd "$ROOT" && exec env ${!extra_var:-} ${!wrap_var:-} dotnet "$SERVER_DLL" "${args[@]}" </dev/null >>"$RUN_DIR/node-$i.log" 2>&1) &
    echo $! >"$RUN_DIR/node-$i.pid"
    echo "node $i: pid $!, http://127.0.0.1:$((HTTP_BASE_PORT + i)), akka port $((AKKA_BASE_PORT + i)), routing $routing" >&2
}

# Starts node I again into the running cluster: its seeds are every other node, so it joins them even
# when it is node 0.
cmd_start_node() {
    local i="${1:-}"
    case "$i" in ''|*[!0-9]*) echo "start-node needs a node number" >&2; usage ;; esac
    [ -f "$RUN_DIR/cluster.size" ] || { echo "no cluster was started (run/cluster.size is missing)" >&2; exit 1; }
    local count routing
    count="$(cat "$RUN_DIR/cluster.size")"
    routing="$(cat "$RUN_DIR/cluster.routing")"
    [ "$i" -lt "$count" ] || { echo "node $i is not one of the cluster's $count nodes" >&2; exit 1; }
    if [ -f "$RUN_DIR/node-$i.pid" ] && alive "$(cat "$RUN_DIR/node-$i.pid")"; then
        echo "node $i is running (pid $(cat "$RUN_DIR/node-$i.pid"))" >&2
        exit 1
    fi
    local seeds="" j
    for ((j = 0; j < count; j++)); do
        [ "$j" = "$i" ] && continue
        seeds="${seeds:+$seeds,}akka.tcp://akkavoice@127.0.0.1:$((AKKA_BASE_PORT + j))"
    done
    # A port held by the previous process (a frozen one, or one still shutting down) fails the start at once.
    local deadline=$((SECONDS + STOP_TIMEOUT))
    while port_busy $((HTTP_BASE_PORT + i)) || port_busy $((AKKA_BASE_PORT + i)); do
        [ "$SECONDS" -ge "$deadline" ] && { echo "node $i's ports are still in use" >&2; exit 1; }
        sleep 0.2
    done
    launch "$i" "$routing" "$seeds"
    wait_ready "$i"
}

wait_ready() {
    local i="$1" port=$((HTTP_BASE_PORT + $1)) pid deadline
    pid="$(cat "$RUN_DIR/node-$i.pid")"
    deadline=$((SECONDS + READY_TIMEOUT))
    until ready "$port"; do
        if ! alive "$pid"; then
            echo "node $i (pid $pid) exited before it was ready; last lines of run/node-$i.log:" >&2
            tail -20 "$RUN_DIR/node-$i.log" >&2
            cmd_stop
            exit 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "node $i not ready after ${READY_TIMEOUT}s; see run/node-$i.log" >&2
            cmd_stop
            exit 1
        fi
        sleep 0.5
    done
}

cmd_stop() {
    local f pid pids=()
    for f in $(pid_files); do
        pid="$(cat "$f")"
        if alive "$pid"; then
            kill -TERM "$pid" 2>/dev/null || true
            pids+=("$pid")
        else
            rm -f "$f"
        fi
    done
    local deadline=$((SECONDS + STOP_TIMEOUT))
    for pid in "${pids[@]}"; do
        while alive "$pid"; do
            if [ "$SECONDS" -ge "$deadline" ]; then
                echo "pid $pid still running after ${STOP_TIMEOUT}s; killing it" >&2
                kill -KILL "$pid" 2>/dev/null || true
                break
            fi
            sleep 0.2
        done
    done
    for f in $(pid_files); do rm -f "$f"; done
    rm -f "$RUN_DIR/cluster.size" "$RUN_DIR/cluster.routing"
    [ "${#pids[@]}" -gt 0 ] && echo "stopped ${#pids[@]} node(s)" >&2
    return 0
}

cmd_status() {
    local f pid i any=0
    for f in $(pid_files); do
        any=1
        i="$(node_of "$f")"
        pid="$(cat "$f")"
        if ! alive "$pid"; then
            echo "node $i: pid $pid not running"
        elif ready $((HTTP_BASE_PORT + i)); then
            echo "node $i: pid $pid ready on http://127.0.0.1:$((HTTP_BASE_PORT + i))"
        else
            echo "node $i: pid $pid running, not ready"
        fi
    done
    [ "$any" = 1 ] || echo "no nodes"
}

case "${1:-}" in
    start) shift; cmd_start "$@" ;;
    start-node) shift; cmd_start_node "$@" ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *) usage ;;
esac
