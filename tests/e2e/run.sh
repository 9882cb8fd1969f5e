#!/usr/bin/env bash
# Runs the browser tests alone: installs what they need (Debian's chromium, iproute2,
# iptables and coturn, the pinned npm packages), builds target/debug/haven, and runs
# Playwright inside a private network namespace. Arguments go to `playwright test`, e.g.
#
#   tests/e2e/run.sh                 everything
#   tests/e2e/run.sh -g keyboard     only tests whose title matches
#
# Ends with "N passed, N failed"; the JSON report, screenshots and server log are in
# target/e2e/ (HAVEN_E2E_SCREENSHOTS=1 adds a picture of every checked page in pages/).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=scripts/lib/deps.sh
source scripts/lib/deps.sh
# shellcheck source=scripts/lib/e2e.sh
source scripts/lib/e2e.sh

ensure_e2e_deps
cargo build -p haven
report=$(mktemp "${TMPDIR:-/tmp}/haven-e2e-report.XXXXXX")
trap 'rm -f "$report"' EXIT
status=0
HAVEN_E2E_REPORT=$report e2e_run "$@" || status=$?
read -r passed failed <<<"$(e2e_counts "$report")"
cp "$report" "$HAVEN_E2E_OUT/results.json" 2>/dev/null || true
if [[ $status -ne 0 && $failed -eq 0 ]]; then
	failed=1
fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
