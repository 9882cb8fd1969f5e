# shellcheck shell=bash
# The fuzz targets in fuzz/ (cargo fuzz, libFuzzer): what they need on a fresh machine,
# and how they build and run. Source scripts/lib/deps.sh first; call from the repository
# root. The fuzz crate is its own workspace and builds into $HAVEN_FUZZ_TARGET_DIR
# (default target/fuzz), apart from the main workspace's artefacts.
#
#   ensure_fuzz_deps           cargo-fuzz (cargo install, only when missing), and picks
#                              the toolchain: nightly when rustup has one, otherwise
#                              stable with RUSTC_BOOTSTRAP=1 (HAVEN_FUZZ_TOOLCHAIN=stable
#                              or nightly forces one)
#   fuzz_build                 builds every target in FUZZ_TARGETS
#   fuzz_run TARGET SECONDS [LIBFUZZER-ARGS...]
#                              runs one target for SECONDS from its committed seeds
#                              (fuzz/corpus/TARGET, read only: new inputs go to a
#                              temporary directory that is deleted afterwards); a crash
#                              leaves its input in fuzz/artifacts/TARGET/ and fails
#
# By hand: `cargo +nightly fuzz run demux --fuzz-dir fuzz` (see fuzz/README.md).

FUZZ_DIR=fuzz
FUZZ_TARGETS=(demux signal_parse)
: "${HAVEN_FUZZ_TARGET_DIR:=${CARGO_TARGET_DIR:-target}/fuzz}"

# How cargo is invoked for cargo fuzz, set by ensure_fuzz_deps.
_fuzz_cargo=()

# libFuzzer's instrumentation needs -Z flags. A nightly toolchain takes them as they are;
# stable takes them with RUSTC_BOOTSTRAP=1 (it ships the sanitizer runtimes too).
_fuzz_pick_toolchain() {
	local choice=${HAVEN_FUZZ_TOOLCHAIN:-}
	if [[ -z $choice ]]; then
		choice=stable
		if command -v rustup >/dev/null 2>&1 &&
			rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
			choice=nightly
		fi
	fi
	local rustc=(rustc)
	case $choice in
	nightly)
		_fuzz_cargo=(cargo +nightly)
		rustc=(rustc +nightly)
		;;
	stable) _fuzz_cargo=(env RUSTC_BOOTSTRAP=1 cargo) ;;
	*)
		echo "HAVEN_FUZZ_TOOLCHAIN: unknown toolchain '$choice' (expected stable or nightly)" >&2
		return 1
		;;
	esac
	echo "fuzz toolchain: $choice, $("${rustc[@]}" --version 2>&1)"
}

ensure_fuzz_deps() {
	if ! cargo fuzz --version >/dev/null 2>&1; then
		mkdir -p "$(dirname "$DEPS_LOG")"
		echo "installing cargo-fuzz (log: $DEPS_LOG)"
		if ! cargo install cargo-fuzz --locked >>"$DEPS_LOG" 2>&1 </dev/null; then
			echo "cargo install cargo-fuzz failed, see $DEPS_LOG" >&2
			return 1
		fi
	fi
	_fuzz_pick_toolchain
}

# The flags every build and run shares; run must match build or cargo fuzz rebuilds.
_fuzz() { # subcommand args...
	local sub=$1
	shift
	"${_fuzz_cargo[@]}" fuzz "$sub" --fuzz-dir "$FUZZ_DIR" --target-dir "$HAVEN_FUZZ_TARGET_DIR" "$@"
}

fuzz_build() {
	if [[ ${#_fuzz_cargo[@]} -eq 0 ]]; then
		_fuzz_pick_toolchain || return 1
	fi
	local target
	for target in "${FUZZ_TARGETS[@]}"; do
		_fuzz build "$target" || return 1
	done
}

fuzz_run() { # target seconds [libfuzzer args...]
	local target=$1 seconds=$2 scratch status=0
	shift 2
	if [[ ${#_fuzz_cargo[@]} -eq 0 ]]; then
		_fuzz_pick_toolchain || return 1
	fi
	if [[ ! -d $FUZZ_DIR/corpus/$target ]]; then
		echo "fuzz: no seed corpus $FUZZ_DIR/corpus/$target" >&2
		return 1
	fi
	# libFuzzer writes new inputs to the first corpus directory and only reads the rest.
	scratch=$(mktemp -d "${TMPDIR:-/tmp}/haven-fuzz-$target.XXXXXX") || return 1
	_fuzz run "$target" "$scratch" "$FUZZ_DIR/corpus/$target" -- \
		-max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 "$@" || status=$?
	rm -rf -- "$scratch"
	return "$status"
}
