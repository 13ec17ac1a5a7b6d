#!/usr/bin/env bash
# Runs the whole test suite: installs what the integration tests drive (nsd, unbound, ldns tools,
# postfix, openssl), then unit and integration tests. Last line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

if ! scripts/install-test-deps.sh; then
    echo "test.sh: installing test dependencies failed"
    echo "0 passed, 1 failed"
    exit 1
fi

results=$(mktemp -d)
# What CI keeps after the run: the console's screenshots (ConsoleBrowserTests) under artifacts/console.
export PORTCULLIS_ARTIFACTS="${PORTCULLIS_ARTIFACTS:-$PWD/artifacts}"
prep_failed=0
# The native binary (Native AOT) and the Debian package, built once before the tests: the
# integration tests run that binary (PORTCULLIS_TEST_BINARY), so an AOT-only failure cannot hide
# behind the JIT build, and install the package into Debian 12 and 13 roots. An AOT warning or a
# lintian error fails the build and counts as a failure.
if deb=$(scripts/package.sh --lint --publish-dir "$results/native" --out "$results/deb" | tail -1) && [ -f "$deb" ]; then
    export PORTCULLIS_TEST_DEB="$deb" PORTCULLIS_TEST_BINARY="$results/native/portcullis"
else
    echo "test.sh: building the native binary or the Debian package failed; the tests run the JIT build"
    prep_failed=1
fi
dotnet test Portcullis.slnx -c Release --logger trx --results-directory "$results" "$@"
rc=$?

passed=0
failed=0
for trx in "$results"/*.trx; do
    [ -e "$trx" ] || continue
    counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
    p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
    f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
done
rm -rf "$results"
# A build failure produces no results: count it as a failure, never as "0 failed".
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed=1
fi
if [ "$prep_failed" -ne 0 ]; then
    failed=$((failed + 1))
    rc=1
fi
echo "${passed} passed, ${failed} failed"
exit "$rc"
