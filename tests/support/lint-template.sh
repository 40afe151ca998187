#!/usr/bin/env bash
# Lints the SAM template, offline: cfn-lint, `sam validate --lint`, and cfn-lint again on the
# template as SAM transforms it (that is where a circular dependency between the generated
# resources shows). Installs pinned cfn-lint and aws-sam-cli into the repo venv (.venv) when
# missing. Exits non-zero on any error or warning.
#
#   bash tests/support/lint-template.sh
set -euo pipefail

CFN_LINT_VERSION="1.58.0"
SAM_CLI_VERSION="1.170.0"

root="$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)"
venv="$root/.venv"
template="$root/infra/template.yaml"
work="$root/tests/.work"
mkdir -p "$work"

# The marker records the pinned versions, so changing them reinstalls.
marker="$venv/.lint-cfn-$CFN_LINT_VERSION-sam-$SAM_CLI_VERSION"
if [[ ! -f "$marker" || ! -x "$venv/bin/sam" || ! -x "$venv/bin/cfn-lint" ]]; then
    [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
    started=$(date +%s)
    if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        "cfn-lint==$CFN_LINT_VERSION" "aws-sam-cli==$SAM_CLI_VERSION" >"$work/lint-install.log" 2>&1; then
        cat "$work/lint-install.log" >&2
        echo "lint-template.sh: installing cfn-lint and aws-sam-cli into $venv failed" >&2
        exit 1
    fi
    echo "installed cfn-lint $CFN_LINT_VERSION and aws-sam-cli $SAM_CLI_VERSION in $(($(date +%s) - started)) s"
    touch "$marker"
fi

# No network and no real account: a region, dummy credentials, and no telemetry.
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=lint AWS_SECRET_ACCESS_KEY=lint
unset AWS_PROFILE AWS_SESSION_TOKEN
export SAM_CLI_TELEMETRY=0

status=0
echo "-- cfn-lint $template"
"$venv/bin/cfn-lint" "$template" || status=1

echo "-- sam validate --lint"
"$venv/bin/sam" validate --lint --template "$template" || status=1

echo "-- cfn-lint of the transformed template"
transformed="$work/template.transformed.json"
rm -f "$transformed"
"$venv/bin/python" - "$template" "$transformed" <<'PY' || status=1
import json
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicies:
    """The template names no managed policies, so nothing needs looking up in IAM."""

    def load(self):
        return {}


source, target = sys.argv[1], sys.argv[2]
with open(source) as f:
    template = yaml_parse(f.read())
# `sam build` replaces each local CodeUri with the built artifact's S3 location.
for name, resource in template["Resources"].items():
    if resource["Type"] == "AWS::Serverless::Function":
        resource["Properties"]["CodeUri"] = f"s3://gatehouse-lint-artifacts/{name}.zip"
with open(target, "w") as f:
    json.dump(transform(template, {}, NoManagedPolicies()), f, indent=1)
PY
if [[ -f "$transformed" ]]; then
    "$venv/bin/cfn-lint" "$transformed" || status=1
fi

if [[ $status -eq 0 ]]; then
    echo "template lint: clean"
else
    echo "template lint: FAILED" >&2
fi
exit $status
