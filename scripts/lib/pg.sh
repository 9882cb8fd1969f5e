# shellcheck shell=bash
# A throwaway PostgreSQL cluster for tests and benchmarks.
#
#   source scripts/lib/pg.sh
#   pg_start          # sets PG_URL, PG_PORT, PG_DIR; installs exit traps
#   ... use "$PG_URL" (postgres://haven@127.0.0.1:PORT/postgres) ...
#   pg_stop           # optional: the traps call it too; safe to call twice
#
# The cluster lives in a fresh temporary directory so that no state leaks
# between runs and nothing on the machine (such as the distribution's own
# cluster on port 5432) is touched. It trades durability for speed: it is
# deleted on exit anyway. pg_start installs EXIT/INT/TERM traps; a caller that
# needs its own EXIT trap should call pg_stop from it.

PG_USER=haven
PG_DIR=
PG_PORT=
PG_URL=
_pg_pid=

# Debian keeps the server programs in versioned directories off PATH; other
# systems usually have them on PATH.
_pg_bindir() {
	local initdb
	initdb=$(compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V | tail -n 1) || true
	if [[ -z $initdb ]]; then
		initdb=$(command -v initdb) || {
			echo "pg.sh: initdb not found; install PostgreSQL (ensure_postgresql in scripts/lib/deps.sh)" >&2
			return 1
		}
	fi
	dirname "$initdb"
}

# PostgreSQL refuses to run as root, so as root the cluster belongs to the
# "postgres" system user that the distribution package creates. The working
# directory changes to the cluster directory because that user may not be
# allowed into the caller's.
_pg_as_owner() {
	if [[ $(id -u) -eq 0 ]]; then
		(cd "$PG_DIR" && runuser -u postgres -- "$@")
	else
		(cd "$PG_DIR" && "$@")
	fi
}

# Asks the kernel for an unused port. Perl because perl-base is always
# installed on Debian, unlike python3. Another process can still grab the port
# before the server binds it, which pg_start handles by retrying.
_pg_free_port() {
	perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1",
			LocalPort => 0, Proto => "tcp") or die "pg.sh: cannot pick a port: $!\n";
		print $s->sockport, "\n";'
}

_pg_fail() {
	echo "pg.sh: $1" >&2
	local f
	for f in "$PG_DIR"/initdb.log "$PG_DIR"/pg_ctl.log "$PG_DIR"/server.log; do
		[[ -s $f ]] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }
	done
	pg_stop
	return 1
}

# Written without relying on `set -e`, because callers typically run it as
# `if pg_start; then`, where errexit is suspended.
pg_start() {
	if [[ -n $PG_DIR ]]; then
		echo "pg.sh: cluster already running in $PG_DIR" >&2
		return 1
	fi
	local bindir
	bindir=$(_pg_bindir) || return 1

	# /tmp rather than $TMPDIR: as root the postgres user must be able to
	# reach the directory, and a root-owned TMPDIR may not allow that.
	local parent=${TMPDIR:-/tmp}
	[[ $(id -u) -eq 0 ]] && parent=/tmp
	PG_DIR=$(mktemp -d "$parent/haven-pg.XXXXXX") || { PG_DIR=; return 1; }
	# Installed before anything can fail, so the directory never outlives us.
	trap pg_stop EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	if [[ $(id -u) -eq 0 ]]; then
		id postgres >/dev/null 2>&1 || { _pg_fail "running as root needs a 'postgres' system user"; return 1; }
		chown postgres: "$PG_DIR" || { _pg_fail "cannot hand $PG_DIR to the postgres user"; return 1; }
	fi

	# Locale-independent so it works in minimal containers without locales;
	# trust auth because it only listens on loopback and a private socket dir.
	_pg_as_owner "$bindir/initdb" -D "$PG_DIR/data" -U "$PG_USER" -A trust \
		-E UTF8 --no-locale --no-sync >"$PG_DIR/initdb.log" 2>&1 ||
		{ _pg_fail "initdb failed"; return 1; }

	# max_connections: every test opens its own pool, and nextest runs one
	# test per core at a time.
	cat >>"$PG_DIR/data/postgresql.conf" <<-CONF || { _pg_fail "cannot write postgresql.conf"; return 1; }
		listen_addresses = '127.0.0.1'
		unix_socket_directories = '$PG_DIR'
		max_connections = 300
		fsync = off
		synchronous_commit = off
		full_page_writes = off
	CONF

	local attempt port
	for attempt in 1 2 3; do
		port=$(_pg_free_port) || { _pg_fail "no free port"; return 1; }
		if _pg_as_owner "$bindir/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" \
			-o "-p $port" -w -t 60 start >>"$PG_DIR/pg_ctl.log" 2>&1; then
			PG_PORT=$port
			PG_URL="postgres://$PG_USER@127.0.0.1:$PG_PORT/postgres"
			_pg_pid=$(head -n 1 "$PG_DIR/data/postmaster.pid" 2>/dev/null) || true
			export PG_DIR PG_PORT PG_URL
			return 0
		fi
		echo "pg.sh: start attempt $attempt on port $port failed" >>"$PG_DIR/pg_ctl.log"
	done
	_pg_fail "the server did not start"
}

# Quiet and tolerant of a half-started cluster: it runs from exit traps,
# after the caller may already have printed its final output.
pg_stop() {
	[[ -n $PG_DIR ]] || return 0
	local bindir
	if [[ -f $PG_DIR/data/postmaster.pid ]] && bindir=$(_pg_bindir 2>/dev/null); then
		# Immediate mode: the data is thrown away, so a clean checkpoint
		# would only cost time.
		_pg_as_owner "$bindir/pg_ctl" -D "$PG_DIR/data" -m immediate -w -t 30 stop \
			>>"$PG_DIR/pg_ctl.log" 2>&1 || true
	fi
	if [[ -n $_pg_pid ]] && kill -0 "$_pg_pid" 2>/dev/null; then
		kill -KILL "$_pg_pid" 2>/dev/null || true
	fi
	case $PG_DIR in
	*/haven-pg.*) rm -rf -- "$PG_DIR" ;;
	esac
	PG_DIR='' PG_PORT='' PG_URL='' _pg_pid=''
}
