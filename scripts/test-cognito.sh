#!/usr/bin/env bash
# Tests of the Amazon Cognito integration:
#   1. the CloudFormation template (cargo test of idp::cognito, which also writes it out)
#      linted with cfn-lint from the venv (requirements.txt): no errors or warnings; and
#      scanned with checkov (requirements-checkov.txt): no failed check (the checks that do
#      not apply to synchronous Cognito triggers are skipped in the template, each with why);
#   2. the trigger handlers' unit tests (node's test runner, fake issuer, AWS event shapes);
#   3. end to end: the real worker, the template from its admin API deployed in ministack,
#      the example app in headless Chromium.
# Expects scripts/setup.sh and scripts/build.sh to have run (scripts/test does both).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

[[ -x $VENV/bin/cfn-lint ]] || die "cfn-lint is not in $VENV: run scripts/setup.sh"
[[ -x $CHECKOV_VENV/bin/checkov ]] || die "checkov is not in $CHECKOV_VENV: run scripts/setup.sh"
[[ -f $ROOT/edge-worker/build/index.js ]] || die "the worker is not built: run scripts/build.sh"

log "Cognito stack template: generate and cfn-lint"
template=$(mktemp --suffix=.yaml)
trap 'rm -f "$template"' EXIT
BIOPASS_COGNITO_TEMPLATE=$template cargo test -q -p biopass-idp cognito::
"$VENV/bin/cfn-lint" --non-zero-exit-code warning -- "$template"
echo "cfn-lint: no findings ($(wc -c <"$template") bytes, CreateStack takes at most 51200)"
# Offline: no download of Prisma Cloud's guidelines (there is no internet here, nor in CI).
BC_SKIP_MAPPING=TRUE "$CHECKOV_VENV/bin/checkov" --quiet --compact --framework cloudformation --skip-download -f "$template"

log "Cognito triggers: unit tests"
node --test cognito/test/

log "Cognito end to end: worker, ministack, example app in headless Chromium"
node --test tests/cognito/
