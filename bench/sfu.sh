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
server_pid=
stop_server() {
	if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
		kill -TERM "$server_pid" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "$server_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	server_pid=
}
cleanup() {
	stop_server
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

db="sqlite://$work/haven.db?mode=rwc"

# A port free for both TCP and UDP on loopback (the media port takes both).
free_port() {
	local port
	for _ in $(seq 100); do
		port=$((20000 + RANDOM % 40000))
		if [[ -z $(ss -Htuan "( sport = :$port )") ]]; then
			echo "$port"
			return
		fi
	done
	echo "no free port found" >&2
	exit 2
}

# Staff accounts: as many as the most rooms any scenario opens.
max_rooms=1
for n in $calls; do ((n > max_rooms)) && max_rooms=$n; done
echo "creating an organisation and $max_rooms staff accounts…" >&2
"$haven" admin org create --name "Load Test" --database-url "$db" >/dev/null
password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
staff=$work/staff.tsv
: >"$staff"
chmod 600 "$staff"
for i in $(seq "$max_rooms"); do
	echo "$password" | "$haven" admin user add --org "Load Test" --email "load$i@example.org" \
		--name "Load Tester" --role clinician --password-stdin --database-url "$db" >/dev/null
	printf 'load%s@example.org\t%s\n' "$i" "$password" >>"$staff"
done

# Starts Haven on free loopback ports; sets server_pid and base.
start_server() {
	local http media
	http=$(free_port)
	media=$(free_port)
	HAVEN_LOG=warn "$haven" serve --database-url "$db" --listen "127.0.0.1:$http" \
		--media-port "$media" >"$work/server.log" 2>&1 &
	server_pid=$!
	base="http://127.0.0.1:$http"
	for _ in $(seq 100); do
		if curl -fs -o /dev/null "$base/signin"; then
			return
		fi
		if ! kill -0 "$server_pid" 2>/dev/null; then
			echo "haven serve stopped:" >&2
			cat "$work/server.log" >&2
			exit 1
		fi
		sleep 0.1
	done
	echo "haven serve did not answer within 10 seconds" >&2
	exit 1
}

proc_cpu() { # utime + stime of a process, in seconds
	awk -v tck="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) / tck }' "/proc/$1/stat"
}
proc_kib() { # a VmXXX: line of /proc/PID/status, in KiB
	awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status"
}

# Complete every account's first sign-in (authenticator enrolment, new password) once, so
# that each scenario's sign-ins cost the server the same: a password and a code.
echo "completing first sign-ins…" >&2
start_server
if ! "$loadgen" --server "$base" --staff "$staff" --rooms "$max_rooms" --sign-in-only 2>"$work/signin.log"; then
	cat "$work/signin.log" >&2
	exit 1
fi
stop_server

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
	start_server
	load_before=$(cut -d' ' -f1 /proc/loadavg)
	cpu_before=$(proc_cpu "$server_pid")
	status=0
	timeout "$seconds" "$loadgen" --server "$base" --staff "$staff" --server-pid "$server_pid" \
		--duration "$duration" --video-kbps "$video_kbps" --audio-kbps "$audio_kbps" --json \
		"${flags[@]}" >"$work/result.json" 2>"$work/loadgen.log" || status=$?
	cpu_after=$(proc_cpu "$server_pid")
	hwm=$(proc_kib "$server_pid" VmHWM)
	stop_server
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
