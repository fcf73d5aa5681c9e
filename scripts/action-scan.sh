#!/usr/bin/env bash
# The scan step of action.yml. Inputs arrive as INPUT_* environment variables (never
# expanded into the script). Writes the step outputs and the job summary, and always
# exits 0: the gate is applied by the action's last step, after the uploads.
set -uo pipefail

cli="${COMPLIANCE_PIPELINE:-compliance-pipeline}"
workspace="${GITHUB_WORKSPACE:-$PWD}"
target="$workspace/${INPUT_PATH:-.}"
bundle="${RUNNER_TEMP:-/tmp}/${INPUT_BUNDLE_NAME:-compliance-evidence}"

args=(scan "$target" --output "$bundle" --threshold "${INPUT_THRESHOLD:-high}" --no-progress)
if [ -n "${INPUT_FRAMEWORKS:-}" ]; then
  args+=(--frameworks "$INPUT_FRAMEWORKS")
fi
if [ -n "${INPUT_BASELINE:-}" ]; then
  args+=(--baseline "$workspace/$INPUT_BASELINE")
fi
if [ -n "${INPUT_WAIVERS:-}" ]; then
  args+=(--waivers "$target/$INPUT_WAIVERS")
fi
# The operator's floors: the input's file (relative to the workspace), else the action's own.
if [ -n "${INPUT_POLICY:-}" ]; then
  args+=(--policy "$workspace/$INPUT_POLICY")
else
  args+=(--policy "${GITHUB_ACTION_PATH:-$(dirname "$0")/..}/policies/action-policy.toml")
fi
if [ -n "${INPUT_BRANCH:-}" ]; then
  args+=(--branch "$INPUT_BRANCH")
fi
if [ -n "${INPUT_DEFAULT_BRANCH:-}" ]; then
  args+=(--default-branch "$INPUT_DEFAULT_BRANCH")
fi
# A pull request: only its change (its base commit must be in the checkout; a shallow
# checkout fetches it). Without it the whole target is scanned, and the log says why.
if [ "${INPUT_DIFF_SCAN:-true}" = "true" ] && [ -n "${INPUT_BASE_SHA:-}" ]; then
  if ! git -C "$target" cat-file -e "${INPUT_BASE_SHA}^{commit}" 2>/dev/null; then
    git -C "$target" fetch --quiet --no-tags --depth=1 origin "$INPUT_BASE_SHA" 2>/dev/null || true
  fi
  if git -C "$target" cat-file -e "${INPUT_BASE_SHA}^{commit}" 2>/dev/null; then
    args+=(--changed-since "$INPUT_BASE_SHA")
  else
    echo "::warning::base commit $INPUT_BASE_SHA not available: scanning the whole repository"
  fi
fi
if [ "${INPUT_FAIL_ON_INCOMPLETE:-true}" = "false" ]; then
  args+=(--no-fail-on-incomplete)
fi

code=0
"$cli" "${args[@]}" || code=$?

{
  echo "exit-code=$code"
  if [ -f "$bundle/findings.json" ]; then
    echo "bundle-path=$bundle"
    python3 - "$bundle/findings.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1], encoding="utf-8"))
print("verdict=" + doc["verdict"])
print("counts=" + json.dumps(doc["summary"]["by_severity"], separators=(",", ":")))
PY
  else
    echo "verdict=incomplete"
    echo "counts={}"
  fi
} >> "${GITHUB_OUTPUT:-/dev/null}"

if [ -f "$bundle/summary.md" ] && [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  cat "$bundle/summary.md" >> "$GITHUB_STEP_SUMMARY"
fi
exit 0
