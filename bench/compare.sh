#!/usr/bin/env bash
# Haven and Janus side by side on this machine, on loopback only, under the same loads.
#
# For each load it runs Haven, then Janus, then Haven, then Janus (BENCH_ROUNDS rounds of
# A B), each on a fresh server, with the same synthetic peers from haven-loadgen (real ICE,
# DTLS and SRTP; --target janus drives Janus's videoroom plugin). Janus 1.1 is installed
# from Debian if missing and configured like Haven (bench/lib/janus.sh). For each load it
# reports the server's CPU seconds per million forwarded packets (/proc/PID/stat over the
# measured window), its peak resident memory (VmHWM) per participant, the delivered packet
# ratio (frames received / frames sent × subscribers), and the one-way video delay (p50,
# p99), with Haven / Janus ratios and the floor (haven-floor: receive, SRTP-decrypt,
# SRTP-encrypt, send). Writes bench/results/latest.md and bench/results/latest.json.
#
#   bench/compare.sh                       all loads, 2 rounds, 20 s windows (about 15 min)
#   BENCH_DURATION=10s BENCH_ROUNDS=1 …    shorter
#   BENCH_CALLS="10 50"                    other numbers of one-to-one calls
#   BENCH_ROOMS="10 20"                    other all-video room sizes ("" for none)
#   BENCH_GROUP="30 4"                     a group of 30 with 4 sending video ("" for none)
#   BENCH_NO_BUILD=1                       use the release binaries already built
#   BENCH_SMOKE=1                          a few seconds of tiny loads (scripts/test;
#                                          windows of 3 s: str0m counts packets each second);
#                                          writes to target/bench-smoke, not bench/results
#   BENCH_PROFILE=debug                    use (and build) the debug binaries
#
# Needs Linux (/proc), root (for a private network namespace), curl, jq, ss, unshare, ip
# and apt-get (for Janus). Exits non-zero if Janus cannot be installed or started, or if a
# run produces no summary.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/lib/common.sh
source bench/lib/common.sh
# shellcheck source=bench/lib/haven.sh
source bench/lib/haven.sh
# shellcheck source=bench/lib/janus.sh
source bench/lib/janus.sh

smoke=${BENCH_SMOKE:-0}
if [[ $smoke == 1 ]]; then
	duration=${BENCH_DURATION:-3s}
	rounds=${BENCH_ROUNDS:-1}
	calls=${BENCH_CALLS:-2}
	room_sizes=${BENCH_ROOMS:-3}
	group=${BENCH_GROUP:-"4 1"}
	warmup=500ms
	out_dir=${BENCH_OUT:-target/bench-smoke}
	floor_seconds=0.5
else
	duration=${BENCH_DURATION:-20s}
	rounds=${BENCH_ROUNDS:-2}
	calls=${BENCH_CALLS:-"10 50 100"}
	room_sizes=${BENCH_ROOMS-"10 20"}
	group=${BENCH_GROUP-"30 4"}
	warmup=3s
	out_dir=${BENCH_OUT:-bench/results}
	floor_seconds=3
fi
video_kbps=${BENCH_VIDEO_KBPS:-1500}
audio_kbps=${BENCH_AUDIO_KBPS:-32}
profile=${BENCH_PROFILE:-release}
bin=${CARGO_TARGET_DIR:-target}/$profile
haven=$bin/haven
loadgen=$bin/haven-loadgen
floor=$bin/haven-floor

for tool in curl jq ss; do
	if ! command -v "$tool" >/dev/null; then
		echo "bench/compare.sh needs $tool (Debian: apt-get install $tool)" >&2
		exit 2
	fi
done
janus_install || exit 2

if [[ ${BENCH_NO_BUILD:-0} != 1 ]]; then
	echo "building the $profile binaries…" >&2
	build=(cargo build --quiet -p haven -p haven-loadgen)
	[[ $profile == release ]] && build+=(--release)
	"${build[@]}"
fi

# The runs happen in a private network namespace (see bench_netns): loopback only, and
# the address Janus needs for its media.
if [[ -z ${BENCH_IN_NETNS:-} ]]; then
	if ! command -v unshare >/dev/null || ! command -v ip >/dev/null; then
		echo "bench/compare.sh needs unshare and ip (Debian: util-linux, iproute2)" >&2
		exit 2
	fi
	BENCH_IN_NETNS=1 BENCH_NO_BUILD=1 exec unshare -n "$0" "$@"
fi
bench_netns || {
	echo "cannot set up the private network namespace (needs root, and veth support)" >&2
	exit 2
}
janus_media_ip=10.200.0.1

work=$(mktemp -d)
cleanup() {
	haven_stop
	janus_stop
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

scenarios=()
max_rooms=1
for n in $calls; do
	scenarios+=("$n one-to-one calls|--rooms $n --participants 2")
	((n > max_rooms)) && max_rooms=$n
done
for n in $room_sizes; do
	scenarios+=("room of $n, all video|--rooms 1 --participants $n")
done
if [[ -n $group ]]; then
	read -r size senders <<<"$group"
	scenarios+=("group of $size, $senders with video|--rooms 1 --participants $size --video-publishers $senders")
fi

haven_prepare "$work" "$max_rooms"

echo "measuring the floor…" >&2
floor_json=$("$floor" --seconds "$floor_seconds" --json)

# One run: a fresh server of the given target, the load, and the server's figures.
# Appends one JSON line to $work/runs.jsonl.
run_one() {
	local target=$1 name=$2 round=$3 pid status=0 cpu_before cpu_after hwm
	shift 3
	local flags=("$@") server_flags=()
	if [[ $target == haven ]]; then
		haven_start "$work" || return 1
		pid=$haven_pid
		server_flags=(--server "$haven_base" --staff "$haven_staff")
	else
		janus_start "$work/janus" || return 1
		pid=$janus_pid
		server_flags=(--target janus --janus-url "$janus_url" --bind "$janus_media_ip")
	fi
	cpu_before=$(proc_cpu "$pid")
	timeout "$run_seconds" "$loadgen" "${server_flags[@]}" --server-pid "$pid" \
		--duration "$duration" --warmup "$warmup" --video-kbps "$video_kbps" \
		--audio-kbps "$audio_kbps" --minimal-sdp --json "${flags[@]}" \
		>"$work/result.json" 2>"$work/loadgen.log" || status=$?
	cpu_after=$(proc_cpu "$pid")
	hwm=$(proc_kib "$pid" VmHWM)
	haven_stop
	janus_stop
	if [[ ! -s $work/result.json ]]; then
		echo "haven-loadgen produced no summary against $target (exit status $status):" >&2
		tail -n 30 "$work/loadgen.log" >&2
		return 1
	fi
	jq -c --arg target "$target" --arg name "$name" --argjson round "$round" \
		--argjson status "$status" --argjson hwm "$hwm" \
		--argjson run_cpu "$(awk -v a="$cpu_before" -v b="$cpu_after" 'BEGIN { print b - a }')" \
		--argjson load "$(cut -d' ' -f1 /proc/loadavg)" '
		(.forwarded.packets_per_s * .window_s) as $pkts
		| (.audio.expected + .video.expected) as $exp
		| {target: $target, scenario: $name, round: $round, exit_status: $status,
		   participants, connected, failures, dropped,
		   forwarded_packets: $pkts,
		   cpu_s_per_mpkt: (if $pkts > 0 and .server != null then .server.cpu_s / $pkts * 1e6 else null end),
		   server_cores: .server.cores,
		   peak_mib_per_participant: ($hwm / 1024 / .participants),
		   delivered: (if $exp > 0 then (.audio.received + .video.received) / $exp else null end),
		   video_delay_ms: .video.delay_ms, audio_delay_ms: .audio.delay_ms,
		   server_run_cpu_s: $run_cpu, server_vmhwm_kib: $hwm,
		   loadgen_cores: .loadgen.cores, other_cores: .machine.other_cores,
		   loadavg_before: $load, udp_drops: {server: .server.udp_drops, loadgen: .loadgen.udp_drops}}' \
		"$work/result.json" >>"$work/runs.jsonl"
}

run_seconds=$(awk -v d="$duration" 'BEGIN { n = d + 0; if (d ~ /ms$/) n /= 1000; else if (d ~ /m$/) n *= 60; print int(n) + 120 }')
: >"$work/runs.jsonl"
failed=0
for scenario in "${scenarios[@]}"; do
	name=${scenario%%|*}
	read -r -a flags <<<"${scenario#*|}"
	for round in $(seq "$rounds"); do
		for target in haven janus; do
			echo "== $name: $target, round $round" >&2
			run_one "$target" "$name" "$round" "${flags[@]}" || failed=$((failed + 1))
		done
	done
done

mkdir -p "$out_dir"
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit (with uncommitted changes)"
cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
# `janus --version` exits non-zero after printing its version.
janus_version=$(janus --version 2>/dev/null | sed -n 1p) || true
conditions="$(date -u +%Y-%m-%dT%H:%MZ), commit $commit; $(nproc) CPUs (${cpu_model:-unknown}), Linux $(uname -r); ${janus_version:-Janus}; window $duration, $rounds round(s) of Haven then Janus per load; audio $audio_kbps kbit/s, video $video_kbps kbit/s at 30 fps per sender; servers and load generator share the machine, on loopback"

# Medians over rounds per load and target, and Haven / Janus ratios.
jq -s --arg conditions "$conditions" --argjson floor "$floor_json" '
	def median: sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
		else (.[length / 2 - 1] + .[length / 2]) / 2 end;
	def med(f): [.[] | f | select(. != null)] | median;
	def ratio(a; b): if a == null or b == null or b == 0 then null else a / b end;
	{conditions: $conditions, floor: ($floor + {cpu_s_per_mpkt: ($floor.call_mix_ns_per_packet / 1000)}),
	 runs: .,
	 loads: (. as $runs
		| reduce (.[].scenario) as $s ([]; if any(.[]; . == $s) then . else . + [$s] end)
		| map(. as $name | $runs | map(select(.scenario == $name))
		| (map(select(.target == "haven"))) as $h | (map(select(.target == "janus"))) as $j
		| [$h, $j] | map({
			runs: length, connected: med(.connected), participants: med(.participants),
			cpu_s_per_mpkt: med(.cpu_s_per_mpkt), peak_mib_per_participant: med(.peak_mib_per_participant),
			delivered: med(.delivered), video_delay_p50_ms: med(.video_delay_ms.p50),
			video_delay_p99_ms: med(.video_delay_ms.p99), server_cores: med(.server_cores)}) as [$hs, $js]
		| {load: $name, haven: $hs, janus: $js,
		   ratio: {cpu: ratio($hs.cpu_s_per_mpkt; $js.cpu_s_per_mpkt),
		           memory: ratio($hs.peak_mib_per_participant; $js.peak_mib_per_participant),
		           delivered: ratio($hs.delivered; $js.delivered),
		           video_delay_p99: ratio($hs.video_delay_p99_ms; $js.video_delay_p99_ms)},
		   haven_cpu_vs_floor: ratio($hs.cpu_s_per_mpkt; $floor.call_mix_ns_per_packet / 1000)}))}
' "$work/runs.jsonl" >"$out_dir/latest.json"

jq -r '
	def f(d): if . == null then "–" else (. * pow(10; d) | round) / pow(10; d) | tostring end;
	"# Haven and Janus side by side",
	"",
	.conditions + ".",
	"",
	"Floor (haven-floor: receive, SRTP AES-128-GCM decrypt and encrypt, send; \(.floor.syscalls)): \(.floor.call_mix_ns_per_packet | f(0)) ns per packet in a call mix (\(.floor.audio_ns_per_packet | f(0)) audio, \(.floor.video_ns_per_packet | f(0)) video), \(.floor.cpu_s_per_mpkt | f(2)) CPU s per million packets.",
	"",
	"| load | connected H / J | CPU s per M packets H / J (ratio) | H × floor | peak MiB per participant H / J (ratio) | delivered H / J | video delay p50 ms H / J | video delay p99 ms H / J |",
	"| --- | --- | --- | --- | --- | --- | --- | --- |",
	(.loads[] |
		"| \(.load) | \(.haven.connected | f(0))/\(.haven.participants | f(0)) / \(.janus.connected | f(0))/\(.janus.participants | f(0))"
		+ " | \(.haven.cpu_s_per_mpkt | f(1)) / \(.janus.cpu_s_per_mpkt | f(1)) (\(.ratio.cpu | f(2)))"
		+ " | \(.haven_cpu_vs_floor | f(1))"
		+ " | \(.haven.peak_mib_per_participant | f(2)) / \(.janus.peak_mib_per_participant | f(2)) (\(.ratio.memory | f(2)))"
		+ " | \(.haven.delivered | . as $d | if $d == null then null else $d * 100 end | f(2))% / \(.janus.delivered | . as $d | if $d == null then null else $d * 100 end | f(2))%"
		+ " | \(.haven.video_delay_p50_ms | f(1)) / \(.janus.video_delay_p50_ms | f(1))"
		+ " | \(.haven.video_delay_p99_ms | f(1)) / \(.janus.video_delay_p99_ms | f(1)) |"),
	"",
	"H: Haven, J: Janus; medians over rounds; ratios are Haven / Janus (CPU and memory: lower is better; delivered: higher is better). Produced by `bench/compare.sh`."
' "$out_dir/latest.json" | tee "$out_dir/latest.md"

if ((failed > 0)); then
	echo "$failed run(s) produced no summary" >&2
	exit 1
fi
