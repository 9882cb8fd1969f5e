#!/usr/bin/env bash
# Benchmarks Haven's media server (the SFU) on this machine, on loopback only.
#
# Builds the release binaries, creates a throwaway SQLite database with one organisation
# and one staff account per room (through `haven admin`), and for each scenario starts a
# fresh `haven serve` on free loopback ports, runs haven-loadgen against it for a bounded
# time, reads the server's CPU time (utime + stime, /proc/PID/stat) and peak memory
# (VmHWM, /proc/PID/status), and stops it. Prints a markdown table and writes it to
# bench/results/sfu-latest.md, with every scenario's JSON summary in
# bench/results/sfu-latest.jsonl.
#
#   bench/sfu.sh                          the default scenarios (about ten minutes)
#   BENCH_DURATION=10s bench/sfu.sh       a shorter measured window per scenario
#   BENCH_CALLS="10 50" bench/sfu.sh      other numbers of one-to-one calls
#   BENCH_ROOM_SIZE=0 bench/sfu.sh        skip the large-room scenarios
#   BENCH_NO_BUILD=1 bench/sfu.sh         use the release binaries already built
#
# Needs Linux (/proc), curl, jq and ss. The figures depend on everything else the machine
# runs meanwhile: each row says how busy the other processes kept the CPUs.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/lib/common.sh
source bench/lib/common.sh
# shellcheck source=bench/lib/haven.sh
source bench/lib/haven.sh

duration=${BENCH_DURATION:-30s}
calls=${BENCH_CALLS:-"10 50 100"}
room_size=${BENCH_ROOM_SIZE:-20}
video_kbps=${BENCH_VIDEO_KBPS:-1500}
audio_kbps=${BENCH_AUDIO_KBPS:-32}
out_dir=bench/results
haven=target/release/haven
loadgen=target/release/haven-loadgen

for tool in curl jq ss; do
	if ! command -v "$tool" >/dev/null; then
		echo "bench/sfu.sh needs $tool (Debian: apt-get install $tool)" >&2
		exit 2
	fi
done
if [[ ! -r /proc/self/stat ]]; then
	echo "bench/sfu.sh needs Linux's /proc" >&2
	exit 2
fi

if [[ ${BENCH_NO_BUILD:-0} != 1 ]]; then
	echo "building release binaries…" >&2
	cargo build --release --quiet -p haven -p haven-loadgen
fi

work=$(mktemp -d)
cleanup() {
	haven_stop
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Staff accounts: as many as the most rooms any scenario opens.
max_rooms=1
for n in $calls; do ((n > max_rooms)) && max_rooms=$n; done
haven_prepare "$work" "$max_rooms"

scenarios=()
for n in $calls; do
	scenarios+=("$n one-to-one calls|--rooms $n --participants 2")
done
if ((room_size > 0)); then
	# Browser-sized SDP first (str0m's default codecs and header extensions), then SDP cut
	# down to what the server needs, which fits its size limits in larger rooms.
	room="--rooms 1 --participants $room_size --simulcast"
	scenarios+=("room of $room_size, simulcast, top layer to all|$room")
	scenarios+=("room of $room_size, simulcast, top layer to all, minimal SDP|$room --minimal-sdp")
	scenarios+=("room of $room_size, simulcast, 320x180 tiles, minimal SDP|$room --minimal-sdp --view 320x180")
fi

mkdir -p "$out_dir"
jsonl=$out_dir/sfu-latest.jsonl
: >"$jsonl"
rows=()
notes=()
# Bounds each run: set-up, joins and warm-up take well under five minutes.
seconds=$(awk -v d="$duration" 'BEGIN { n = d + 0; if (d ~ /ms$/) n /= 1000; else if (d ~ /m$/) n *= 60; print int(n) + 300 }')
for scenario in "${scenarios[@]}"; do
	name=${scenario%%|*}
	read -r -a flags <<<"${scenario#*|}"
	echo "== $name" >&2
	haven_start "$work"
	server_pid=$haven_pid
	load_before=$(cut -d' ' -f1 /proc/loadavg)
	cpu_before=$(proc_cpu "$server_pid")
	status=0
	timeout "$seconds" "$loadgen" --server "$haven_base" --staff "$haven_staff" --server-pid "$server_pid" \
		--duration "$duration" --video-kbps "$video_kbps" --audio-kbps "$audio_kbps" --json \
		"${flags[@]}" >"$work/result.json" 2>"$work/loadgen.log" || status=$?
	cpu_after=$(proc_cpu "$server_pid")
	hwm=$(proc_kib "$server_pid" VmHWM)
	haven_stop
	if [[ ! -s $work/result.json ]]; then
		echo "haven-loadgen produced no summary (exit status $status):" >&2
		cat "$work/loadgen.log" >&2
		rows+=("| $name | no summary (exit status $status) | | | | | | | | | | | | | | |")
		continue
	fi
	jq -c --arg name "$name" --arg status "$status" --arg hwm "$hwm" \
		--arg cpu "$(awk -v a="$cpu_before" -v b="$cpu_after" 'BEGIN { print b - a }')" \
		--arg load "$load_before" \
		'{name: $name, exit_status: ($status | tonumber), server_run_cpu_s: ($cpu | tonumber),
		  server_vmhwm_kib: ($hwm | tonumber), loadavg_before: ($load | tonumber)} + .' \
		"$work/result.json" >>"$jsonl"
	rows+=("$(jq -r --arg name "$name" --arg hwm "$hwm" '
		def f(d): if . == null then "–" else (. * pow(10; d) | round) / pow(10; d) | tostring end;
		. as $r |
		"| \($name) | \($r.connected)/\($r.participants) | \($r.forwarded.packets_per_s | f(0)) | \($r.forwarded.mbit_per_s | f(1))"
		+ " | \($r.audio.loss_pct | f(3))% | \($r.video.loss_pct | f(3))% | \($r.worst_direction_loss_pct | f(2))%"
		+ " | \($r.video.delay_ms.p50 | f(1)) / \($r.video.delay_ms.p99 | f(1))"
		+ " | \($r.server.cores | f(2)) | \($r.server.calls_per_core | f(0))"
		+ " | \(($hwm | tonumber) / 1024 | f(1)) | \($r.server.mib_per_participant | f(2))"
		+ " | \($r.loadgen.cores | f(2)) | \($r.machine.other_cores | f(2))"
		+ " | \($r.server.udp_drops) / \($r.loadgen.udp_drops)"
		+ " | \($r.server.max_backlog_kib | f(0)) / \($r.loadgen.max_backlog_kib | f(0)) |"' "$work/result.json")")
	problems=$(jq -r '(.failures + .dropped + .signal_errors) | to_entries[] | "\(.value)× \(.key)"' "$work/result.json")
	if [[ -n $problems ]]; then
		while IFS= read -r line; do echo "  $line" >&2; done <<<"$problems"
		notes+=("- $name: $(echo "$problems" | paste -sd '|' | sed 's/|/, /g')")
	fi
done

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit (with uncommitted changes)"
cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
{
	echo "# Haven SFU benchmark"
	echo
	echo "$(date -u +%Y-%m-%dT%H:%MZ), commit $commit; $(nproc) CPUs (${cpu_model:-unknown}), Linux $(uname -r)."
	echo "Window $duration per scenario; audio $audio_kbps kbit/s, video $video_kbps kbit/s at 30 fps per publisher;"
	echo "server and load generator on the same machine, on loopback."
	echo
	echo "| scenario | connected | forwarded pkt/s | forwarded Mbit/s | audio loss | video loss | worst direction | video delay p50 / p99 ms | server cores | calls per core | server peak MiB | server MiB per participant | loadgen cores | other processes' cores | UDP drops server / loadgen | max socket backlog KiB server / loadgen |"
	echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
	printf '%s\n' "${rows[@]}"
	if ((${#notes[@]} > 0)); then
		echo
		echo "Participants that failed or dropped, and errors the server sent:"
		echo
		printf '%s\n' "${notes[@]}"
	fi
} | tee "$out_dir/sfu-latest.md"
