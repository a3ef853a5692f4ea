#!/usr/bin/env bash
# Runs every test: unit (plain and ASan+UBSan), fuzz smoke, integration and compat; ends with
# one line "N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"

"$top/scripts/install-deps.sh" || { echo "install-deps failed"; echo "0 passed, 1 failed"; exit 1; }

results=$(mktemp /tmp/gantry-results.XXXXXX)
trap 'rm -f "$results"' EXIT
export T_RESULTS=$results

record() { echo "$1 $2" >> "$results"; }

# meson test results of one build dir, one line per test executable.
meson_results() {
	local dir=$1 tag=$2
	jq -r --arg tag "$tag" '(if .result == "OK" then "PASS" elif .result == "SKIP" then "SKIP" else "FAIL" end) + " " + $tag + ":" + .name' \
		"$dir/meson-logs/testlog.json" >> "$results" 2>/dev/null || record FAIL "$tag:no-results"
}

echo "== build"
if meson setup build --buildtype=release -Dtests=true >/dev/null 2>&1 || meson setup --reconfigure build >/dev/null 2>&1; then
	if ninja -C build >/dev/null && meson install -C build >/dev/null; then
		record PASS build
	else
		ninja -C build 2>&1 | tail -30
		record FAIL build
	fi
else
	record FAIL build-setup
fi

echo "== unit tests"
meson test -C build --no-rebuild --print-errorlogs
meson_results build unit

echo "== unit tests under ASan+UBSan"
if [[ -d build-asan ]] || meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dstatic_runtime=false --buildtype=debug >/dev/null; then
	if ninja -C build-asan >/dev/null; then
		ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
			meson test -C build-asan --no-rebuild --print-errorlogs
		meson_results build-asan asan
	else
		record FAIL asan-build
	fi
fi

echo "== fuzz smoke (libFuzzer, 20 s per target)"
if CC=clang meson setup build-fuzz -Dfuzz=true -Dtests=false >/dev/null 2>&1 || [[ -d build-fuzz ]]; then
	if ninja -C build-fuzz >/dev/null 2>&1; then
		for f in build-fuzz/tests/fuzz/fuzz_*; do
			[[ -f $f && -x $f ]] || continue
			name=${f##*/}
			corpus=$(mktemp -d)
			cp -r "tests/fuzz/corpus/${name#fuzz_}/." "$corpus/" 2>/dev/null || true
			if "$f" -max_total_time=20 -rss_limit_mb=2048 "$corpus" >/tmp/$name.log 2>&1; then
				record PASS "fuzz:$name"
			else
				tail -40 /tmp/$name.log
				record FAIL "fuzz:$name"
			fi
			rm -rf "$corpus"
		done
	else
		record FAIL fuzz-build
	fi
fi

for t in tests/integration/*.sh tests/compat/*.sh; do
	echo "== $t"
	bash "$t"
done

passed=$(grep -c '^PASS ' "$results")
failed=$(grep -c '^FAIL ' "$results")
skipped=$(grep -c '^SKIP ' "$results")
echo
grep '^FAIL ' "$results" || true
echo "$passed passed, $failed failed, $skipped skipped"
[[ $failed -eq 0 ]]
