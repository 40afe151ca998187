#!/usr/bin/env bash
# A local SMTP server (aiosmtpd: STARTTLS, then AUTH) whose messages land as files, for the
# mail tests. Like moto.sh:
#
#   eval "$(tests/support/smtp.sh start)"   # installs aiosmtpd if needed, starts it, prints exports
#   tests/support/smtp.sh stop
#
# Exports GATEHOUSE_TEST_SMTP_URL (with the account), GATEHOUSE_TEST_SMTP_CA (the throwaway
# authority that signed the sink's certificate, which Gatehouse is told to trust) and GATEHOUSE_TEST_MAILDIR.
set -euo pipefail

AIOSMTPD_VERSION="1.4.6"
USER_NAME="gatehouse"
PASSWORD="smtp-test-password"

root="$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)"
venv="$root/.venv"
dir="$root/tests/.work/smtp"
pid_file="$dir/pid"
port_file="$dir/port"

die() {
    echo "smtp.sh: $*" >&2
    exit 1
}

ensure_venv() {
    local marker="$venv/.aiosmtpd-$AIOSMTPD_VERSION"
    [[ -f "$marker" ]] && return 0
    mkdir -p "$dir"
    {
        [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "aiosmtpd==$AIOSMTPD_VERSION"
    } >"$dir/install.log" 2>&1 || { cat "$dir/install.log" >&2; die "installing aiosmtpd failed"; }
    touch "$marker"
}

running_pid() {
    [[ -f "$pid_file" ]] || return 1
    local pid
    pid="$(cat "$pid_file")"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -q "smtp_sink.py" || return 1
    echo "$pid"
}

exports() {
    echo "export GATEHOUSE_TEST_SMTP_URL='smtp://$USER_NAME:$PASSWORD@127.0.0.1:$(cat "$port_file")?tls=required'"
    echo "export GATEHOUSE_TEST_SMTP_CA='$dir/ca.pem'"
    echo "export GATEHOUSE_TEST_MAILDIR='$dir/mail'"
}

start() {
    if running_pid >/dev/null; then
        exports
        return 0
    fi
    ensure_venv
    mkdir -p "$dir/mail"
    if [[ ! -f "$dir/cert.pem" ]]; then
        # A throwaway certificate authority and a server certificate it signs (TLS clients
        # refuse a CA certificate used as the server's own).
        {
            openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=Gatehouse test CA" \
                -keyout "$dir/ca-key.pem" -out "$dir/ca.pem" &&
            openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$dir/key.pem" -out "$dir/server.csr" &&
            printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' >"$dir/server.ext" &&
            openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca-key.pem" -CAcreateserial \
                -days 30 -extfile "$dir/server.ext" -out "$dir/cert.pem"
        } >"$dir/openssl.log" 2>&1 || { cat "$dir/openssl.log" >&2; die "openssl could not make the sink's certificates"; }
    fi
    local port
    port="$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    "$venv/bin/python" "$root/tests/support/smtp_sink.py" "$port" "$dir/mail" "$dir/cert.pem" "$dir/key.pem" \
        "$USER_NAME" "$PASSWORD" >"$dir/log" 2>&1 &
    echo $! >"$pid_file"
    echo "$port" >"$port_file"
    for _ in $(seq 1 100); do
        grep -q '^READY' "$dir/log" 2>/dev/null && { exports; return 0; }
        sleep 0.1
    done
    cat "$dir/log" >&2
    die "the SMTP sink did not start"
}

stop() {
    local pid
    if pid="$(running_pid)"; then
        kill "$pid" 2>/dev/null || true
    fi
    rm -f "$pid_file" "$port_file"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) die "usage: $0 start|stop" ;;
esac
