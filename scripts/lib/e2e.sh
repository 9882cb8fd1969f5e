# shellcheck shell=bash
# The browser tests in tests/e2e: what they need on a fresh Debian machine, and how they
# run. Source scripts/lib/deps.sh first; call from the repository root.
#
#   ensure_e2e_deps            Debian's chromium, iproute2, iptables, coturn, sqlite3, and tests/e2e's
#                              npm packages (Playwright, axe-core, TypeScript)
#   e2e_typecheck              tsc --checkJs --noEmit over the call client, web/*.js
#   e2e_run [ARGS...]          Playwright (ARGS go to `playwright test`) in a private network
#                              namespace with only loopback up; the tests start
#                              $HAVEN_BIN (default target/debug/haven) themselves
#   e2e_counts [REPORT]        "PASSED FAILED" from a run's JSON report
#
# Playwright's own browser download cannot work on these machines: the npm packages are
# installed with PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 and the tests launch /usr/bin/chromium.

E2E_DIR=tests/e2e
# Where the run's report, screenshots, server log and failure artefacts go.
: "${HAVEN_E2E_OUT:=${CARGO_TARGET_DIR:-target}/e2e}"

ensure_chromium() {
	ensure_apt_package /usr/bin/chromium chromium
}

# `ip` brings loopback up inside the namespace; unshare comes with util-linux, which
# every Debian system has.
ensure_iproute2() {
	ensure_apt_package 'ip' iproute2 || return 1
	command -v unshare >/dev/null 2>&1 || ensure_apt_package unshare util-linux
}

# `npm ci` from the committed lock file, skipped while node_modules matches it.
ensure_e2e_node_modules() {
	if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
		echo "e2e: node and npm are needed (Node.js 20 or later)" >&2
		return 1
	fi
	local lock=$E2E_DIR/package-lock.json stamp=$E2E_DIR/node_modules/.haven-lock.sha256 sum
	sum=$(sha256sum "$lock" | cut -d' ' -f1) || return 1
	if [[ -f $stamp && $(<"$stamp") == "$sum" && -x $E2E_DIR/node_modules/.bin/playwright ]]; then
		return 0
	fi
	mkdir -p "$(dirname "$DEPS_LOG")"
	echo "installing tests/e2e npm packages (log: $DEPS_LOG)"
	if ! (cd "$E2E_DIR" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund) \
		>>"$DEPS_LOG" 2>&1 </dev/null; then
		echo "npm ci in $E2E_DIR failed, see $DEPS_LOG" >&2
		return 1
	fi
	echo "$sum" >"$stamp"
}

# The call tests block UDP, or one page's media path, inside the private namespace
# (live-call.spec.mjs, live-call-network.spec.mjs); `ss`, which cuts a page's signalling
# connection there, comes with iproute2.
ensure_iptables() {
	ensure_apt_package iptables iptables
}

# coturn's turnserver: live-call-relay.spec.mjs starts its own on loopback inside the
# namespace. Debian's package also enables a system-wide coturn service with its default
# configuration on port 3478 of every interface; when this function is what installed the
# package, that service is stopped and disabled again, since nobody asked for it.
ensure_coturn() {
	command -v turnserver >/dev/null 2>&1 && return 0
	ensure_apt_package turnserver coturn || return 1
	if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
		local sudo=()
		[[ $(id -u) -eq 0 ]] || sudo=(sudo)
		"${sudo[@]}" systemctl disable --now coturn.service >>"$DEPS_LOG" 2>&1 </dev/null ||
			echo "e2e: could not stop the coturn service the package started (see $DEPS_LOG)" >&2
	fi
	return 0
}

ensure_e2e_deps() {
	local ok=0
	ensure_chromium || ok=1
	ensure_iproute2 || ok=1
	ensure_iptables || ok=1
	ensure_coturn || ok=1
	# A test ages a link in the server's database, as a day passing would.
	ensure_apt_package sqlite3 sqlite3 || ok=1
	# Under the run lock (see e2e_run): never replace node_modules under a running test.
	mkdir -p "$HAVEN_E2E_OUT"
	(
		flock -w 600 9 || exit 1
		ensure_e2e_node_modules
	) 9>"$HAVEN_E2E_OUT/.lock" || ok=1
	return "$ok"
}

# The browser call client's JSDoc types (tests/e2e/tsconfig.web.json: strict, lib dom),
# with the TypeScript pinned in tests/e2e/package.json.
e2e_typecheck() {
	"$E2E_DIR/node_modules/.bin/tsc" -p "$E2E_DIR/tsconfig.web.json"
}

# Runs are one at a time per checkout (a lock in $HAVEN_E2E_OUT): two browsers at once
# would share two cores and the output folder. The JSON report goes to $HAVEN_E2E_REPORT
# (default $HAVEN_E2E_OUT/results.json); callers that count set their own file, so that a
# run started right after this one cannot replace the report before it is read.
e2e_run() {
	local bin=${HAVEN_BIN:-${CARGO_TARGET_DIR:-target}/debug/haven}
	local report=${HAVEN_E2E_REPORT:-$HAVEN_E2E_OUT/results.json}
	mkdir -p "$HAVEN_E2E_OUT"
	local unshare=(unshare -n)
	# Without root, a user namespace grants the right to make the network namespace.
	[[ $(id -u) -eq 0 ]] || unshare=(unshare -r -n)
	(
		if ! flock -w 600 9; then
			echo "e2e: another browser test run has held $HAVEN_E2E_OUT/.lock for 10 minutes" >&2
			exit 1
		fi
		# A stale report must never be counted for this run.
		rm -f "$report"
		# shellcheck disable=SC2016 # expanded by the inner bash
		HAVEN_BIN=$(realpath "$bin") HAVEN_E2E_OUT=$(realpath "$HAVEN_E2E_OUT") \
			HAVEN_E2E_REPORT=$(realpath "$report") \
			"${unshare[@]}" bash -c 'ip link set lo up && cd "$1" && shift && exec ./node_modules/.bin/playwright test "$@"' \
			e2e "$E2E_DIR" "$@"
	) 9>"$HAVEN_E2E_OUT/.lock"
}

# e2e_counts [REPORT]: "PASSED FAILED" from a run's JSON report. Tests that did not run
# (the rest of the journey after a failed step) count as failed: none is skipped on
# purpose. A report with errors outside any test (the server did not start) or no report
# at all counts as one failure.
e2e_counts() {
	local report=${1:-${HAVEN_E2E_REPORT:-$HAVEN_E2E_OUT/results.json}}
	if [[ ! -s $report ]]; then
		echo "0 1"
		return
	fi
	# shellcheck disable=SC2016 # JavaScript, not shell
	node -e '
		const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
		const s = r.stats || {};
		let failed = (s.unexpected || 0) + (s.flaky || 0) + (s.skipped || 0);
		if ((r.errors || []).length && failed === 0) failed = 1;
		console.log(`${s.expected || 0} ${failed}`);
	' "$report" 2>/dev/null || echo "0 1"
}
