# shellcheck shell=bash
# Helpers shared by the benchmark scripts: free loopback ports, /proc readings and
# stopping a server.

# A port free for both TCP and UDP on loopback (Haven's media port takes both).
free_port() {
	local port
	for _ in $(seq 100); do
		port=$((20000 + RANDOM % 20000))
		if [[ -z $(ss -Htuan "( sport = :$port )") ]]; then
			echo "$port"
			return
		fi
	done
	echo "no free port found" >&2
	return 2
}

proc_cpu() { # utime + stime of a process, in seconds
	awk -v tck="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) / tck }' "/proc/$1/stat"
}

proc_kib() { # a VmXXX: line of /proc/PID/status, in KiB
	awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status"
}

# stop_pid PID: asks a process to stop, waits up to five seconds, then kills it.
stop_pid() {
	local pid=$1
	if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
}

# bench_netns: makes this process's (fresh, `unshare -n`) network namespace usable: the
# loopback interface up, and a pair of virtual interfaces with the private addresses
# 10.200.0.1 and 10.200.0.2, for servers that will not use a loopback interface. Nothing
# in the namespace can reach, or be reached from, any other network.
bench_netns() {
	ip link set lo up &&
		ip link add bench-a type veth peer name bench-b &&
		ip addr add 10.200.0.1/24 dev bench-a &&
		ip addr add 10.200.0.2/24 dev bench-b &&
		ip link set bench-a up &&
		ip link set bench-b up
}
