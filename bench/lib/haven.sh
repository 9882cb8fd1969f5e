# shellcheck shell=bash
# Haven for the benchmarks: a throwaway SQLite database with one organisation and one
# staff account per room (through `haven admin`), and `haven serve` on free loopback
# ports. Source bench/lib/common.sh first, set `haven` and `loadgen` (the binaries), then:
# shellcheck disable=SC2154 # haven and loadgen are the caller's
#
#   haven_prepare DIR ROOMS   database and accounts in DIR, first sign-ins completed;
#                             sets haven_db and haven_staff
#   haven_start DIR           starts the server; sets haven_pid and haven_base
#   haven_stop                stops it

haven_pid=
haven_base=
haven_db=
haven_staff=

haven_start() {
	local dir=$1 http media
	http=$(free_port) || return 2
	media=$(free_port) || return 2
	HAVEN_LOG=warn "$haven" serve --database-url "$haven_db" --listen "127.0.0.1:$http" \
		--media-port "$media" >"$dir/server.log" 2>&1 &
	haven_pid=$!
	haven_base="http://127.0.0.1:$http"
	for _ in $(seq 100); do
		if curl -fs -o /dev/null "$haven_base/signin"; then
			return
		fi
		if ! kill -0 "$haven_pid" 2>/dev/null; then
			echo "haven serve stopped:" >&2
			cat "$dir/server.log" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "haven serve did not answer within 10 seconds" >&2
	return 1
}

haven_stop() {
	stop_pid "$haven_pid"
	haven_pid=
}

haven_prepare() {
	local dir=$1 rooms=$2 password
	haven_db="sqlite://$dir/haven.db?mode=rwc"
	echo "creating an organisation and $rooms staff accounts…" >&2
	"$haven" admin org create --name "Load Test" --database-url "$haven_db" >/dev/null
	password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
	haven_staff=$dir/staff.tsv
	: >"$haven_staff"
	chmod 600 "$haven_staff"
	for i in $(seq "$rooms"); do
		# Its id on standard output and a reminder on standard error, once per account: kept
		# out of the benchmark's output unless the command fails.
		if ! echo "$password" | "$haven" admin user add --org "Load Test" --email "load$i@example.org" \
			--name "Load Tester" --role clinician --password-stdin --database-url "$haven_db" \
			>/dev/null 2>"$dir/user-add.log"; then
			cat "$dir/user-add.log" >&2
			return 1
		fi
		printf 'load%s@example.org\t%s\n' "$i" "$password" >>"$haven_staff"
	done
	# Each account's first sign-in (authenticator enrolment, new password) once, so that
	# every scenario's sign-ins cost the server the same: a password and a code.
	echo "completing first sign-ins…" >&2
	haven_start "$dir" || return 1
	if ! "$loadgen" --server "$haven_base" --staff "$haven_staff" --rooms "$rooms" \
		--sign-in-only 2>"$dir/signin.log"; then
		cat "$dir/signin.log" >&2
		haven_stop
		return 1
	fi
	haven_stop
}
