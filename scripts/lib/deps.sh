# shellcheck shell=bash
# Installs the system tools the test and benchmark scripts need, so that a
# fresh Debian machine (CI or a new laptop) can run them with no manual setup.
# Each tool gets one small ensure_* function built on ensure_apt_package.
#
# Callers may set DEPS_LOG to choose where apt's output goes; it defaults to a
# file under the cargo target directory so that the console stays readable.

: "${DEPS_LOG:=${CARGO_TARGET_DIR:-target}/test-logs/install.log}"

_deps_apt_updated=

# ensure_apt_package <command-or-path-glob> <package>...
#
# Does nothing when the first argument is already present: a name is looked up
# on PATH, anything containing a slash is treated as a glob, because some
# packages (PostgreSQL) keep their programs off PATH in versioned directories.
ensure_apt_package() {
	local probe=$1
	shift
	if [[ $probe == */* ]]; then
		local matches
		# compgen -G expands the glob without tripping nullglob/failglob settings.
		if matches=$(compgen -G "$probe") && [[ -n $matches ]]; then
			return 0
		fi
	elif command -v "$probe" >/dev/null 2>&1; then
		return 0
	fi

	local sudo=()
	if [[ $(id -u) -ne 0 ]]; then
		sudo=(sudo)
	fi

	mkdir -p "$(dirname "$DEPS_LOG")"
	echo "installing $* (log: $DEPS_LOG)"
	# A fresh image has empty package lists; refreshing them once per script
	# run is enough and keeps repeated installs cheap.
	if [[ -z $_deps_apt_updated ]]; then
		if ! "${sudo[@]}" apt-get update >>"$DEPS_LOG" 2>&1 </dev/null; then
			echo "apt-get update failed, see $DEPS_LOG" >&2
			return 1
		fi
		_deps_apt_updated=1
	fi
	if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends "$@" >>"$DEPS_LOG" 2>&1 </dev/null; then
		echo "installing $* failed, see $DEPS_LOG" >&2
		return 1
	fi
}

# The Debian package also creates and starts a "main" cluster on port 5432; we
# leave it alone and run our own throwaway cluster (scripts/lib/pg.sh).
ensure_postgresql() {
	ensure_apt_package '/usr/lib/postgresql/*/bin/initdb' postgresql
}

# The invitation tests check Haven against things no one here wrote: aiosmtpd (a
# real SMTP server) and GOV.UK Notify's official client (notifications-python-client,
# whose decode_jwt_token checks Haven's tokens). Both go into a virtual environment
# under the target directory, never into the system's Python, at pinned versions.
# Exports HAVEN_TEST_PYTHON (absolute: tests run from each crate's folder).
ensure_python_test_deps() {
	local venv=${CARGO_TARGET_DIR:-target}/pyenv
	local packages=(aiosmtpd==1.4.6 notifications-python-client==13.0.0 schemathesis==4.32.5)
	if ! "$venv/bin/python" -c 'import aiosmtpd, notifications_python_client, schemathesis' >/dev/null 2>&1; then
		# Debian's python3 makes virtual environments only with python3-venv.
		ensure_apt_package /usr/bin/python3 python3 || return 1
		ensure_apt_package '/usr/lib/python3*/ensurepip/__init__.py' python3-venv || return 1
		mkdir -p "$(dirname "$DEPS_LOG")"
		echo "installing ${packages[*]} into $venv (log: $DEPS_LOG)"
		if ! /usr/bin/python3 -m venv --clear "$venv" >>"$DEPS_LOG" 2>&1 ||
			! "$venv/bin/pip" install -q "${packages[@]}" >>"$DEPS_LOG" 2>&1 </dev/null; then
			echo "installing ${packages[*]} failed, see $DEPS_LOG" >&2
			return 1
		fi
	fi
	HAVEN_TEST_PYTHON=$(cd "$venv" && pwd)/bin/python
	export HAVEN_TEST_PYTHON
}

# The record tests validate every FHIR bundle Haven builds with two validators nobody
# here wrote (tests/fhir: npm `fhir` and `fhirpath`), installed with `npm ci` from the
# committed lock file and skipped while node_modules matches it.
ensure_fhir_validators() {
	local dir=tests/fhir
	if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
		echo "the FHIR validators need node and npm (Node.js 20 or later)" >&2
		return 1
	fi
	local stamp=$dir/node_modules/.haven-lock.sha256 sum
	sum=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1) || return 1
	if [[ -f $stamp && $(<"$stamp") == "$sum" ]]; then
		return 0
	fi
	mkdir -p "$(dirname "$DEPS_LOG")"
	echo "installing the FHIR validators in $dir (log: $DEPS_LOG)"
	if ! (cd "$dir" && npm ci --no-audit --no-fund) >>"$DEPS_LOG" 2>&1 </dev/null; then
		echo "npm ci in $dir failed, see $DEPS_LOG" >&2
		return 1
	fi
	echo "$sum" >"$stamp"
}
