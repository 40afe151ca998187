#!/usr/bin/env bash
# Schemathesis against the admin API's OpenAPI document, on a Gatehouse that is already
# running: generated requests (coverage, fuzzing and stateful phases, a fixed example budget)
# must never get a 5xx, and every answer must match its documented status, content type and
# schema.
#
#   GATEHOUSE_URL=http://127.0.0.1:8080 GATEHOUSE_ADMIN_PASSWORD=... bash tests/schema/run.sh
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/.venv"
version="4.32.5"
examples="${SCHEMATHESIS_EXAMPLES:-25}"

: "${GATEHOUSE_URL:?set GATEHOUSE_URL to the running server}"
: "${GATEHOUSE_ADMIN_PASSWORD:?set GATEHOUSE_ADMIN_PASSWORD to its administrator password}"

marker="$venv/.schemathesis-$version"
if [[ ! -f "$marker" ]]; then
  mkdir -p "$root/tests/.work"
  if ! {
    [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$version"
  } >"$root/tests/.work/schemathesis-pip.log" 2>&1; then
    cat "$root/tests/.work/schemathesis-pip.log" >&2
    echo "schema: installing schemathesis==$version into $venv failed" >&2
    exit 1
  fi
  touch "$marker"
fi

# A bearer token from the built-in admin client (cookie-authenticated writes need CSRF).
token=$(curl -fsS -X POST "$GATEHOUSE_URL/token" -d grant_type=password -d client_id=gatehouse-admin \
  -d username="${GATEHOUSE_ADMIN_USERNAME:-admin}" --data-urlencode password="$GATEHOUSE_ADMIN_PASSWORD" -d scope=admin |
  "$venv/bin/python" -c 'import sys, json; print(json.load(sys.stdin)["access_token"])') || {
  echo "schema: no admin token from $GATEHOUSE_URL/token" >&2
  exit 1
}

exec "$venv/bin/schemathesis" run "$GATEHOUSE_URL/admin/api/openapi.json" --url "$GATEHOUSE_URL" \
  -H "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance \
  --max-examples "$examples" --seed 1 --no-color
