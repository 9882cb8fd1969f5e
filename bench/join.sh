#!/usr/bin/env bash
# How fast people join, in the browser: Debian's Chromium runs tests/e2e/join-speed.bench.mjs
# (through tests/e2e's own runner, inside a private network namespace with only loopback)
# over BENCH_JOIN_RUNS consultations and stamps, inside the pages:
#   - pre-call check ready: the link's page and the check page loading, plus from pressing
#     "Start the check" until the camera preview shows a frame and the check's verdict says
#     "Connected over …" (the patient's typing of name and date of birth aside);
#   - admit to first frame: from the clinician pressing the final "Admit" until the first
#     video frame from the other side is presented, on the patient's page and on the
#     clinician's call page (requestVideoFrameCallback).
# Prints every sample and the medians; writes bench/results/join-latest.md and
# join-latest.json (commit, date, machine). Figures only: nothing here passes or fails on
# a time.
#
#   bench/join.sh                   5 runs, release build
#   BENCH_JOIN_RUNS=9 …             more runs
#   BENCH_PROFILE=debug             use (and build) the debug binary
#   BENCH_NO_BUILD=1                use the binary already built
#   BENCH_OUT=DIR                   write the results there instead of bench/results
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/deps.sh
source scripts/lib/deps.sh
# shellcheck source=scripts/lib/e2e.sh
source scripts/lib/e2e.sh

runs=${BENCH_JOIN_RUNS:-5}
profile=${BENCH_PROFILE:-release}
out_dir=${BENCH_OUT:-bench/results}
haven=${CARGO_TARGET_DIR:-target}/$profile/haven

if ! [[ $runs =~ ^[1-9][0-9]*$ ]]; then
	echo "BENCH_JOIN_RUNS must be a whole number of runs, 1 or more (not '$runs')" >&2
	exit 2
fi
ensure_e2e_deps
if [[ ${BENCH_NO_BUILD:-0} != 1 ]]; then
	echo "building the $profile binary…" >&2
	build=(cargo build --quiet -p haven)
	[[ $profile == release ]] && build+=(--release)
	"${build[@]}"
fi

mkdir -p "$out_dir"
samples=$(realpath "$out_dir")/.join-samples.json
rm -f "$samples"
HAVEN_BIN=$haven BENCH_JOIN_RUNS=$runs BENCH_JOIN_SAMPLES=$samples e2e_run -c bench.config.mjs
if [[ ! -s $samples ]]; then
	echo "the benchmark produced no samples; see ${HAVEN_E2E_OUT}" >&2
	exit 1
fi

# shellcheck disable=SC2016 # JavaScript, not shell
node -e '
	const fs = require("fs");
	const [file, dir, commit, machine, profile] = process.argv.slice(1);
	const { samples, errors } = JSON.parse(fs.readFileSync(file, "utf8"));
	const median = (xs) => {
		const s = xs.filter((x) => typeof x === "number").sort((a, b) => a - b);
		if (!s.length) return null;
		const m = Math.floor(s.length / 2);
		return s.length % 2 ? s[m] : Math.round(((s[m - 1] + s[m]) / 2) * 10) / 10;
	};
	const rows = [
		["precallReadyMs", "pre-call check ready (pages loading + start to ready)"],
		["linkPageMs", "  the page of the link loading"],
		["checkPageMs", "  the check page loading"],
		["startToPreviewMs", "  start to camera preview"],
		["startToVerdictMs", "  start to the verdict “Connected over …”"],
		["admitToPatientStageMs", "admit to the patient page told it is admitted"],
		["admitToPatientReceivedMs", "admit to first frame received, patient"],
		["admitToPatientFrameMs", "admit to first frame shown, patient"],
		["admitToClinicianReceivedMs", "admit to first frame received, clinician"],
		["admitToClinicianFrameMs", "admit to first frame shown, clinician"],
	];
	const medians = Object.fromEntries(rows.map(([k]) => [k, median(samples.map((s) => s[k]))]));
	const date = new Date().toISOString();
	const result = { date, commit, machine, profile, runs: samples.length, medians, samples, pageErrors: errors };
	fs.writeFileSync(`${dir}/join-latest.json`, JSON.stringify(result, null, 2) + "\n");
	const md = [
		"# Join speed",
		"",
		`${date}, commit ${commit}, ${profile} build, ${samples.length} runs, on ${machine}; Debian Chromium on loopback (bench/join.sh).`,
		"",
		"| ms | median | samples |",
		"|---|---:|---|",
		...rows.map(([k, label]) => `| ${label} | ${medians[k] ?? "–"} | ${samples.map((s) => s[k] ?? "–").join(", ")} |`),
		"",
	].join("\n");
	fs.writeFileSync(`${dir}/join-latest.md`, md);
	process.stdout.write(md);
	if (errors.length) console.error(`page errors during the runs:\n${errors.join("\n")}`);
' "$samples" "$out_dir" "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!bench/results' || echo '+changes')" \
	"$(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)" "$profile"
rm -f "$samples"
