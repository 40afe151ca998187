#!/usr/bin/env bash
# Interoperability tests: independent OpenID Connect client libraries (node `openid-client`,
# Python Authlib, Rust `openidconnect`) against a Gatehouse that is already running.
#
#   GATEHOUSE_URL=http://127.0.0.1:8080 GATEHOUSE_ADMIN_PASSWORD=... bash tests/interop/run.sh
#
# Installs tests/interop/requirements.txt into the repository's .venv (created if missing),
# then runs `node --test --test-reporter=tap interop/` from tests/ (its "# pass N" / "# fail N"
# lines), `pytest -q tests/interop` (its "N passed" line) and target/debug/interop-openidconnect
# (tests/src/bin/interop-openidconnect.rs, built by `cargo build --workspace --bins` or here if
# missing; "# pass N" / "# fail N" lines like node's). Exits non-zero if any failed.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(git -C "$here" rev-parse --show-toplevel 2>/dev/null || (cd "$here/../.." && pwd))"
venv="$root/.venv"

: "${GATEHOUSE_URL:?set GATEHOUSE_URL to the running server, e.g. http://127.0.0.1:8080}"
: "${GATEHOUSE_ADMIN_PASSWORD:?set GATEHOUSE_ADMIN_PASSWORD to the administrator password of the server}"
export GATEHOUSE_URL GATEHOUSE_ADMIN_PASSWORD

if ! curl -fs -o /dev/null "$GATEHOUSE_URL/.well-known/openid-configuration"; then
  echo "interop: no Gatehouse answers at $GATEHOUSE_URL" >&2
  exit 1
fi

# Python requirements, reinstalled only when requirements.txt changes.
requirements="$here/requirements.txt"
marker="$venv/.interop-$(sha256sum "$requirements" | cut -c1-16)"
if [[ ! -f "$marker" ]]; then
  mkdir -p "$root/tests/.work"
  install_log="$root/tests/.work/interop-pip.log"
  if ! {
    [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  } >"$install_log" 2>&1; then
    cat "$install_log" >&2
    echo "interop: installing $requirements into $venv failed" >&2
    exit 1
  fi
  touch "$marker"
fi

# The npm packages normally come from `npm ci` in tests/ (scripts/test.sh); install them if not.
if [[ ! -d "$root/tests/node_modules/openid-client" ]]; then
  (cd "$root/tests" && npm ci --no-audit --no-fund --loglevel=error) || exit 1
fi

status=0

echo "== interop: node openid-client"
(cd "$root/tests" && node --test --test-reporter=tap interop/) || status=1

echo "== interop: Rust openidconnect"
rust_client="$root/target/debug/interop-openidconnect"
if [[ ! -x "$rust_client" ]]; then
  (cd "$root" && cargo build --quiet -p gatehouse-tests --bin interop-openidconnect) || status=1
fi
if [[ -x "$rust_client" ]]; then
  "$rust_client" || status=1
else
  echo "# fail 1"
fi

# Last, so that pytest's "N passed" line is the last such line scripts/test.sh reads.
echo "== interop: Python Authlib"
(cd "$root" && PYTHONDONTWRITEBYTECODE=1 "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/interop) || status=1

exit "$status"
