#!/usr/bin/env bash
# Regenerates the golden outputs of the conftest compatibility cases by running
# the real conftest on each case: conftest.out (its standard output) and
# conftest.code (its exit code). cmd/gitgate/internal/cli's
# TestCheckConftestCompat runs `gitgate check` on the same cases and compares.
#
# Usage: policy/testdata/conftest/regen.sh   (or: make conftest-golden)
#
# Each case folder holds `args` (the arguments after `conftest test`, one per
# line), the policies and inputs they name, and optionally `stdin`.
# CONFTEST names the binary; without it conftest v0.71.1 is built with
# `go install` into the Go build cache folder and reused from there.
set -euo pipefail

want=v0.71.1
here=$(cd "$(dirname "$0")" && pwd)

if [[ -z "${CONFTEST:-}" ]]; then
	bindir="$(go env GOCACHE)/gitgate-tools/conftest-$want"
	CONFTEST="$bindir/conftest"
	if [[ ! -x "$CONFTEST" ]]; then
		echo "building conftest $want into $bindir (takes a few minutes)" >&2
		GOBIN="$bindir" GOFLAGS=-mod=mod nice -n 19 go install "github.com/open-policy-agent/conftest@$want"
	fi
fi
got=$(go version -m "$CONFTEST" | awk '$1 == "mod" && $2 == "github.com/open-policy-agent/conftest" {print $3}')
if [[ "$got" != "$want" ]]; then
	echo "regen.sh: $CONFTEST is conftest ${got:-of unknown version}, want $want" >&2
	exit 1
fi

for dir in "$here"/*/; do
	(
		cd "$dir"
		mapfile -t args < args
		stdin=/dev/null
		[[ -f stdin ]] && stdin=stdin
		set +e
		"$CONFTEST" test "${args[@]}" < "$stdin" > conftest.out 2> /dev/null
		echo $? > conftest.code
	)
done
echo "regenerated $(ls -d "$here"/*/ | wc -l) cases with $CONFTEST" >&2
