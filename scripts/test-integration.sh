#!/bin/sh
# Integration tests: start a private stack under var/test on its own ports, run the Criterion
# integration binary against it with var/test/stack.env exported, and tear the stack down
# afterwards whatever happened (a failed test, Ctrl-C, a crash).
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:?usage: test-integration.sh BINARY}

# QUANTOR_TEST_VAR and QUANTOR_TEST_PORT let two test runs share a machine.
export QUANTOR_VAR="${QUANTOR_TEST_VAR:-$SRC/var/test}"
export QUANTOR_PORT="${QUANTOR_TEST_PORT:-18080}"
export QUANTOR_SIM_PORT="$((QUANTOR_PORT + 1))"
export QUANTOR_API_WORKERS=3
# No trader loop: tests run `quantor-trader tick` themselves, so every tick is one they chose.
export QUANTOR_TRADER_LOOP=0

cleanup() {
	"$SRC/scripts/stack.sh" down >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$SRC/scripts/stack.sh" down >/dev/null 2>&1 || true
rm -rf "$QUANTOR_VAR"
if ! "$SRC/scripts/stack.sh" up >"$QUANTOR_VAR.stack.log" 2>&1; then
	echo "integration: the test stack did not start:"
	tail -n 30 "$QUANTOR_VAR.stack.log"
	for f in "$QUANTOR_VAR"/log/*; do [ -f "$f" ] && { echo "== $f"; tail -n 20 "$f"; }; done
	echo "integration: 0 passed, 1 failed"
	exit 1
fi

set -a
. "$QUANTOR_VAR/stack.env"
set +a

out=$(TEST_JOBS=1 "$SRC/scripts/run-tests.sh" integration "$bin")
rc=$?
printf '%s\n' "$out" | sed '$d'
summary=$(printf '%s\n' "$out" | tail -n 1)

# Browser tests against the same stack: playwright-core (npm) driving Debian's chromium.
browser_summary=""
if [ -f "$SRC/tests/browser/package.json" ]; then
	if [ ! -d "$SRC/tests/browser/node_modules/playwright-core" ]; then
		(cd "$SRC/tests/browser" && npm ci --no-audit --no-fund >/dev/null 2>&1) ||
			(cd "$SRC/tests/browser" && npm ci --no-audit --no-fund)
	fi
	bout=$(cd "$SRC/tests/browser" && timeout 300 node --test 2>&1)
	brc=$?
	bp=$(printf '%s\n' "$bout" | sed -n 's/^# pass \([0-9]*\)$/\1/p')
	bf=$(printf '%s\n' "$bout" | sed -n 's/^# fail \([0-9]*\)$/\1/p')
	if [ $brc -ne 0 ] || [ -z "$bp" ]; then
		printf '%s\n' "$bout" | grep -vE '^ *(duration_ms|\.\.\.|---|type:)' | tail -n 40
		[ "${bf:-0}" -eq 0 ] && bf=1
		rc=1
	fi
	browser_summary="browser: ${bp:-0} passed, ${bf:-0} failed"
fi
# Stop the stack first so that programs built with SANITIZE write their exit reports (leaks),
# then count every sanitizer report in the stack's logs as a failure.
cleanup
san=$(grep -lE 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$QUANTOR_VAR"/log/* 2>/dev/null)
if [ -n "$san" ]; then
	for f in $san; do
		echo "== sanitizer report in $f"
		grep -E -A 15 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$f" | head -n 40
	done
	n=$(cat $san | grep -cE 'ERROR: [A-Za-z]+Sanitizer|runtime error:')
	p=$(printf '%s' "$summary" | sed -n 's/.*: \([0-9]*\) passed.*/\1/p')
	f=$(printf '%s' "$summary" | sed -n 's/.*, \([0-9]*\) failed.*/\1/p')
	summary="integration: ${p:-0} passed, $(( ${f:-0} + n )) failed"
	rc=1
fi
if [ $rc -ne 0 ]; then
	for f in "$QUANTOR_VAR"/log/*.log; do
		[ -f "$f" ] && { echo "== tail of $f"; tail -n 15 "$f"; }
	done
fi
echo "$summary"
[ -n "$browser_summary" ] && echo "$browser_summary"
exit $rc
