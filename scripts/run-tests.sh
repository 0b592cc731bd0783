#!/bin/sh
# Run Criterion test binaries one after another, print each one's failures, and close with
# one line "<label>: N passed, N failed" summed over all of them. Exit 1 if any failed.
set -u
label=$1
shift
passed=0
failed=0
status=0
for t in "$@"; do
	out=$("$t" --jobs="${TEST_JOBS:-2}" 2>&1)
	rc=$?
	syn=$(printf '%s\n' "$out" | grep 'Synthesis:' | tail -n 1)
	if [ $rc -ne 0 ] || [ -z "$syn" ]; then
		printf '%s\n' "$out" | grep -v '^\[----\] *$' | tail -n 60
		status=1
	fi
	p=$(printf '%s' "$syn" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
	f=$(printf '%s' "$syn" | sed -n 's/.*Failing: \([0-9]*\) | Crashing: \([0-9]*\).*/\1 \2/p')
	p=${p:-0}
	set -- $f
	nf=$(( ${1:-0} + ${2:-0} ))
	[ -z "$syn" ] && nf=$((nf + 1))
	# Criterion marks a test passed even when a sanitizer reported on it: count those too.
	san=$(printf '%s\n' "$out" | grep -cE 'ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:')
	if [ "$san" -gt 0 ]; then
		printf '%s\n' "$out" | grep -E -A 12 'ERROR: [A-Za-z]+Sanitizer|runtime error:' | head -n 60
		nf=$((nf + san))
		status=1
	fi
	printf '  %-40s %s passed, %s failed\n' "$(basename "$t")" "$p" "$nf"
	passed=$((passed + p))
	failed=$((failed + nf))
	shift $#
done
echo "$label: $passed passed, $failed failed"
[ $status -eq 0 ] && [ $failed -eq 0 ]
