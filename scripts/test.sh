#!/bin/sh
# `make test`: unit tests, nginx config checks, then the integration suite against its own
# stack. Every part runs even when an earlier one failed; the last line sums them all as
# "test: N passed, N failed" and the exit status is non-zero when anything failed.
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
B=${QUANTOR_BUILD:-$SRC/build}
export QUANTOR_BUILD=$B
log=$(mktemp)
trap 'rm -f "$log" "$log.part"' EXIT
status=0

part() {
	echo "== $1"
	shift
	"$@" 2>&1 | tee "$log.part"
	cat "$log.part" >>"$log"
	# Every "<part>: N passed, N failed" line the part printed must say 0 failed.
	if grep -E '^[a-z]+: [0-9]+ passed, [0-9]+ failed$' "$log.part" | grep -qvE ', 0 failed$' ||
		! grep -qE '^[a-z]+: [0-9]+ passed, [0-9]+ failed$' "$log.part"; then
		status=1
	fi
}

part "unit tests" "$SRC/scripts/run-tests.sh" unit $(ls "$B"/tests/unit/t_* 2>/dev/null | sort)
part "nginx configuration" "$SRC/scripts/test-nginx.sh"
if [ -x "$B/tests/integration" ]; then
	part "integration tests (own stack under var/test)" \
		"$SRC/scripts/test-integration.sh" "$B/tests/integration"
fi

set -- $(awk '/^[a-z]+: [0-9]+ passed, [0-9]+ failed$/ { p += $2; f += $4 } END { print p + 0, f + 0 }' "$log")
echo "test: $1 passed, $2 failed"
[ "$status" -eq 0 ] && [ "$2" -eq 0 ]
