#!/usr/bin/env bash
# A local moto server (fake DynamoDB and Secrets Manager) for the AWS backend's tests.
#
#   eval "$(tests/support/moto.sh start)"   # installs moto if needed, starts it, prints exports
#   cargo test -p gatehouse --test aws_store
#   tests/support/moto.sh stop
#
# `start` is idempotent: while the server it started still answers, it prints the same exports.
set -euo pipefail

MOTO_VERSION="5.2.5"

root="$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)"
venv="$root/.venv"
state_dir="$root/tests/.work"
pid_file="$state_dir/moto.pid"
port_file="$state_dir/moto.port"
log_file="$state_dir/moto.log"

die() {
    echo "moto.sh: $*" >&2
    exit 1
}

ensure_venv() {
    # The marker records the pinned version, so changing MOTO_VERSION reinstalls.
    local marker="$venv/.moto-$MOTO_VERSION"
    [[ -f "$marker" && -x "$venv/bin/moto_server" ]] && return 0
    mkdir -p "$state_dir"
    local install_log="$state_dir/moto-install.log"
    if ! {
        [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            "moto[server]==$MOTO_VERSION"
    } >"$install_log" 2>&1; then
        cat "$install_log" >&2
        die "installing moto[server]==$MOTO_VERSION into $venv failed"
    fi
    touch "$marker"
}

# True when the server on $1 answers HTTP at all.
answers() {
    "$venv/bin/python" - "$1" <<'PY' >/dev/null 2>&1
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/moto-api/", timeout=1)
except urllib.error.HTTPError:
    pass  # any HTTP answer means it is up
PY
}

# The recorded PID, if that process is still our moto server (not a reused PID).
running_pid() {
    [[ -f "$pid_file" ]] || return 1
    local pid
    pid="$(cat "$pid_file")"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -q "moto_serial.py" || return 1
    echo "$pid"
}

free_port() {
    "$venv/bin/python" -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

print_exports() {
    echo "export GATEHOUSE_TEST_AWS_ENDPOINT=http://127.0.0.1:$1"
    echo "export AWS_ACCESS_KEY_ID=testing"
    echo "export AWS_SECRET_ACCESS_KEY=testing"
    echo "export AWS_REGION=us-east-1"
}

start() {
    ensure_venv
    if running_pid >/dev/null && [[ -f "$port_file" ]] && answers "$(cat "$port_file")"; then
        print_exports "$(cat "$port_file")"
        return 0
    fi
    stop
    mkdir -p "$state_dir"
    local port
    port="$(free_port)"
    # setsid: the server outlives this script and the shell that eval'd it. moto_serial.py is
    # moto_server answering one request at a time (why: see that file).
    setsid "$venv/bin/python" "$root/tests/support/moto_serial.py" 127.0.0.1 "$port" >"$log_file" 2>&1 </dev/null &
    local pid=$!
    echo "$pid" >"$pid_file"
    echo "$port" >"$port_file"
    for _ in $(seq 1 100); do
        if answers "$port"; then
            print_exports "$port"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    cat "$log_file" >&2
    stop
    die "moto_server did not answer on 127.0.0.1:$port"
}

stop() {
    local pid
    if pid="$(running_pid)"; then
        kill "$pid"
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
    fi
    rm -f "$pid_file" "$port_file"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
*) die "usage: $0 start|stop" ;;
esac
