#!/usr/bin/env bash
# Relying-party end-to-end tests: Gatehouse signing people in through a real OpenID provider
# (node `oidc-provider`, configured like Entra ID and like Okta by upstream/provider.mjs),
# against a Gatehouse that is already running. Starts nothing itself: the tests start the
# providers on free loopback ports and stop them at the end.
#
#   GATEHOUSE_URL=http://127.0.0.1:8080 GATEHOUSE_ADMIN_PASSWORD=... bash tests/upstream/run.sh
#
# Runs `node --test --test-concurrency=1 --test-reporter=tap upstream/` from tests/ (one file at
# a time: every file changes the server's OIDC settings) (its "# pass N" / "# fail N"
# lines). The tests change the server's OIDC settings and leave OIDC Disabled.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tests_dir="$(cd "$here/.." && pwd)"

: "${GATEHOUSE_URL:?set GATEHOUSE_URL to the running server, e.g. http://127.0.0.1:8080}"
: "${GATEHOUSE_ADMIN_PASSWORD:?set GATEHOUSE_ADMIN_PASSWORD to the administrator password of the server}"
export GATEHOUSE_URL GATEHOUSE_ADMIN_PASSWORD

if ! curl -fs -o /dev/null "$GATEHOUSE_URL/.well-known/openid-configuration"; then
  echo "upstream: no Gatehouse answers at $GATEHOUSE_URL" >&2
  exit 1
fi

# The npm packages normally come from `npm ci` in tests/; install them if not.
if [[ ! -d "$tests_dir/node_modules/oidc-provider" ]]; then
  (cd "$tests_dir" && npm ci --no-audit --no-fund --loglevel=error) || exit 1
fi

cd "$tests_dir" && exec node --test --test-concurrency=1 --test-reporter=tap upstream/
