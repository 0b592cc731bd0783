#!/bin/sh
# Benchmarks (`make bench`): start a private stack under var/bench on its own ports, run each
# benchmark binary against it with var/bench/stack.env exported, and tear the stack down
# afterwards whatever happened. Each benchmark prints its figures beside a baseline measured in
# the same run; benchmarks report, they do not gate (the exit status is non-zero only when one
# could not run).
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)

export QUANTOR_VAR="$SRC/var/bench"
export QUANTOR_PORT="${QUANTOR_BENCH_PORT:-18380}"
export QUANTOR_SIM_PORT="$((QUANTOR_PORT + 1))"
export QUANTOR_API_WORKERS=4
export QUANTOR_TRADER_LOOP=3600

cleanup() {
	"$SRC/scripts/stack.sh" down >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ $# -gt 0 ] || { echo "bench: no benchmarks built (bench/*.c)"; exit 0; }
"$SRC/scripts/stack.sh" down >/dev/null 2>&1 || true
rm -rf "$QUANTOR_VAR"
if ! "$SRC/scripts/stack.sh" up >"$SRC/var/bench-stack.log" 2>&1; then
	echo "bench: the bench stack did not start:"
	tail -n 30 "$SRC/var/bench-stack.log"
	exit 1
fi

set -a
. "$QUANTOR_VAR/stack.env"
set +a

echo "== machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
status=0
for b in "$@"; do
	echo "== $(basename "$b")"
	"$b" || { echo "bench: $(basename "$b") failed"; status=1; }
done
exit $status
