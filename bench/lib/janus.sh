# shellcheck shell=bash
# Janus (the C media server Haven is compared with) for the benchmarks: installed from
# Debian if missing, configured in a throwaway folder to match Haven's media settings,
# started on loopback and stopped. Source it, then:
#
#   janus_start DIR     writes DIR/conf, starts Janus; sets janus_pid and janus_url
#   janus_stop          stops it
#
# Settings equivalent to Haven's: the videoroom plugin only, Opus and VP8 (rooms are
# created with these codecs by the load generator), simulcast allowed, no recording,
# ICE-lite with host candidates on one address only (janus_media_ip), no STUN or TURN, and
# the WebSocket transport alone, on 127.0.0.1. Janus never gathers candidates on a
# loopback interface, so its media address is a local one that bench_netns makes in a
# private network namespace: traffic still never leaves the machine. BENCH_JANUS_EVENT_LOOPS sets Janus's media threads
# (default: Janus's own default, a thread per handle).

janus_pid=
export janus_url=
janus_media_ip=${janus_media_ip:-127.0.0.1}

# Installs Janus 1.1 from Debian when it is missing; fails loudly when it cannot.
janus_install() {
	if command -v janus >/dev/null; then
		return
	fi
	echo "installing janus (Debian package)…" >&2
	if ! { apt-get install -y -q janus >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q janus >/dev/null; }; }; then
		echo "cannot install Janus (apt-get install janus failed): the comparison needs it" >&2
		return 2
	fi
}

janus_lib_dir() {
	local dir
	for dir in /usr/lib/*/janus /usr/lib/janus /usr/local/lib/janus /opt/janus/lib/janus; do
		if [[ -e $dir/plugins/libjanus_videoroom.so ]]; then
			echo "$dir"
			return
		fi
	done
	echo "Janus is installed but its videoroom plugin is not found" >&2
	return 2
}

# janus_others DIR KEEP: the other modules in DIR, comma-separated.
janus_others() {
	local file names=()
	for file in "$1"/libjanus_*.so; do
		[[ ${file##*/} == "$2" ]] || names+=("${file##*/}")
	done
	(IFS=,; echo "${names[*]}")
}

# janus_config DIR WS_PORT RTP_FROM RTP_TO: writes Janus's configuration into DIR.
janus_config() {
	local dir=$1 ws_port=$2 rtp_from=$3 rtp_to=$4 lib loops=
	lib=$(janus_lib_dir) || return 2
	mkdir -p "$dir"
	if [[ -n ${BENCH_JANUS_EVENT_LOOPS:-} ]]; then
		loops="event_loops = $BENCH_JANUS_EVENT_LOOPS"
	fi
	# Plugins and transports other than the two used are disabled by name, so that a
	# package update adding one cannot change what runs.
	local plugins transports
	plugins=$(janus_others "$lib/plugins" libjanus_videoroom.so)
	transports=$(janus_others "$lib/transports" libjanus_websockets.so)
	cat >"$dir/janus.jcfg" <<-CONF
		general: {
			configs_folder = "$dir"
			plugins_folder = "$lib/plugins"
			transports_folder = "$lib/transports"
			events_folder = "$lib/events"
			loggers_folder = "$lib/loggers"
			debug_level = 3
			session_timeout = 60
			$loops
		}
		certificates: {
		}
		media: {
			ipv6 = false
			rtp_port_range = "$rtp_from-$rtp_to"
		}
		nat: {
			nice_debug = false
			ice_lite = true
			ice_tcp = false
			full_trickle = false
			ignore_mdns = true
			ice_enforce_list = "$janus_media_ip"
		}
		plugins: {
			disable = "$plugins"
		}
		transports: {
			disable = "$transports"
		}
		loggers: {
			disable = "libjanus_jsonlog.so"
		}
		events: {
			broadcast = false
		}
	CONF
	cat >"$dir/janus.transport.websockets.jcfg" <<-CONF
		general: {
			json = "plain"
			ws = true
			ws_port = $ws_port
			ws_ip = "127.0.0.1"
			wss = false
		}
		admin: {
			admin_ws = false
			admin_wss = false
		}
	CONF
	# No static rooms: the load generator creates its own, without recording.
	cat >"$dir/janus.plugin.videoroom.jcfg" <<-CONF
		general: {
		}
	CONF
}

# janus_start DIR: configures and starts Janus on free loopback ports; sets janus_pid and
# janus_url (ws://127.0.0.1:PORT). Fails with Janus's log if it does not come up.
janus_start() {
	local dir=$1 ws_port rtp_from
	janus_install || return 2
	ws_port=$(free_port)
	rtp_from=$((41000 + RANDOM % 10000))
	janus_config "$dir" "$ws_port" "$rtp_from" "$((rtp_from + 4000))" || return 2
	janus --configs-folder "$dir" --config "$dir/janus.jcfg" --disable-colors --interface "$janus_media_ip" \
		>"$dir/janus.log" 2>&1 &
	janus_pid=$!
	janus_url="ws://127.0.0.1:$ws_port"
	for _ in $(seq 100); do
		if [[ -n $(ss -Htln "( sport = :$ws_port )") ]]; then
			return
		fi
		if ! kill -0 "$janus_pid" 2>/dev/null; then
			echo "janus stopped:" >&2
			tail -n 40 "$dir/janus.log" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "janus did not listen within 10 seconds:" >&2
	tail -n 40 "$dir/janus.log" >&2
	return 1
}

janus_stop() {
	stop_pid "$janus_pid"
	janus_pid=
}
