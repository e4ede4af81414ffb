#!/usr/bin/env bash
# gitgate check versus conftest test v0.71.1, side by side in one run.
#
# Generates corpora of 2,000 and 20,000 files (each a Deployment and a
# Service, test/bench/check/gencorpus), runs both tools on each with the
# five-rule policy (test/bench/check/policy) and with gitgate's policy library
# (policies/, *_test.rego left out), and reports wall time and peak RSS
# (/usr/bin/time -v), the ratios, and whether the targets of issue 3 hold:
# gitgate >= 10x faster, peak RSS <= 1/5 of conftest's, gitgate's time growing
# <= 11x from 2,000 to 20,000 files. Both tools must find the same number of
# failures, warnings and successes, or the run fails.
#
# Usage: test/bench/check.sh             (or: make bench-check)
# Environment: SIZES="2000 20000"  POLICIES="five library"  CONFTEST=<binary>
#              WORK=<folder to keep corpora in; a temporary one by default>
set -euo pipefail

cd "$(git rev-parse --show-toplevel)"
sizes=${SIZES:-"2000 20000"}
policy_sets=${POLICIES:-"five library"}
want=v0.71.1

if [[ ! -x /usr/bin/time ]]; then
	echo "check.sh: /usr/bin/time is missing (Debian: apt-get install -y time)" >&2
	exit 1
fi
if [[ -z "${WORK:-}" ]]; then
	WORK=$(mktemp -d)
	trap 'rm -rf "$WORK"' EXIT
fi
mkdir -p "$WORK"

if [[ -z "${CONFTEST:-}" ]]; then
	bindir="$(go env GOCACHE)/gitgate-tools/conftest-$want"
	CONFTEST="$bindir/conftest"
	if [[ ! -x "$CONFTEST" ]]; then
		echo "building conftest $want with go install (a few minutes)" >&2
		GOBIN="$bindir" GOFLAGS=-mod=mod nice -n 19 go install "github.com/open-policy-agent/conftest@$want"
	fi
fi
got=$(go version -m "$CONFTEST" | awk '$1 == "mod" && $2 == "github.com/open-policy-agent/conftest" {print $3}')
if [[ "$got" != "$want" ]]; then
	echo "check.sh: $CONFTEST is conftest ${got:-of unknown version}, want $want" >&2
	exit 1
fi

GITGATE="$WORK/gitgate"
go build -trimpath -o "$GITGATE" ./cmd/gitgate

# The library without its tests and fixtures, for both tools alike (conftest
# would load *_test.rego too).
rm -rf "$WORK/library"
(cd policies && find . -name '*.rego' ! -name '*_test.rego' -print0 | while IFS= read -r -d '' f; do
	mkdir -p "$WORK/library/$(dirname "$f")"
	cp "$f" "$WORK/library/$f"
done)

for n in $sizes; do
	if [[ ! -d "$WORK/corpus-$n" ]]; then
		go run ./test/bench/check/gencorpus -n "$n" -out "$WORK/corpus-$n"
	fi
done

policy_args() {
	case $1 in
	five) echo "-p test/bench/check/policy" ;;
	library)
		# Every policy package, helpers (lib/) left out: conftest would try
		# to query lib's violation() function and fail.
		printf -- '-p %s' "$WORK/library"
		find "$WORK/library" -name '*.rego' -not -path "$WORK/library/lib/*" -exec awk '$1 == "package" {print $2; exit}' {} \; | sort -u | while read -r ns; do
			printf -- ' -n %s' "$ns"
		done
		echo
		;;
	esac
}

# measure <label> <command...>: runs the command; sets WALL (seconds), CPU
# (user + system seconds), RSS (KiB, peak resident set size, as
# /usr/bin/time reports it: the mapped pages of the binary included) and
# ANON (KiB, the peak of the process's private memory, RssAnon in
# /proc/<pid>/status, sampled every 50 ms: the heap and stacks, without the
# binary's pages, which the page cache shares).
measure() {
	local out="$WORK/$1.json" tv="$WORK/$1.time"
	shift
	local rc=0 tpid cpid="" key value rest
	ANON=0
	/usr/bin/time -v -o "$tv" "$@" > "$out" 2> "$WORK/stderr" &
	tpid=$!
	while kill -0 "$tpid" 2> /dev/null; do
		if [[ -z "$cpid" ]]; then
			cpid=$(pgrep -P "$tpid" | head -n 1 || true)
		fi
		if [[ -n "$cpid" && -r /proc/$cpid/status ]]; then
			while read -r key value rest; do
				if [[ "$key" == RssAnon: ]] && ((value > ANON)); then
					ANON=$value
				fi
			done < "/proc/$cpid/status" 2> /dev/null || true
		fi
		sleep 0.05
	done
	wait "$tpid" || rc=$?
	if [[ $rc -gt 1 ]]; then
		echo "check.sh: $* exited $rc:" >&2
		cat "$WORK/stderr" >&2
		exit 1
	fi
	WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s}' "$tv")
	RSS=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tv")
	CPU=$(awk -F': ' '/(User|System) time \(seconds\)/ {s += $2} END {print s}' "$tv")
}

# totals <json file>: "failures warnings successes", to prove both tools
# reached the same verdicts.
totals() {
	python3 -c '
import json, sys
rs = json.load(open(sys.argv[1])) or []
print(sum(len(r.get("failures") or []) for r in rs), sum(len(r.get("warnings") or []) for r in rs), sum(r["successes"] for r in rs))
' "$1"
}

# Wall time is what the targets are about; CPU time is shown too because on
# a shared machine the wall time depends on what else runs.
printf '%-8s %7s  %10s %10s %8s  %9s %9s %8s  %10s %10s %8s  %8s %8s %8s\n' policy files "gitgate s" "conftest s" speedup "gg cpu s" "cf cpu s" "cpu x" "gitgate MB" "conftest MB" "RSS ratio" "gg anon" "cf anon" "ratio"
status=0
declare -A gg_wall
for p in $policy_sets; do
	read -r -a pargs <<< "$(policy_args "$p")"
	for n in $sizes; do
		measure "gitgate-$p-$n" "$GITGATE" check "${pargs[@]}" -o json "$WORK/corpus-$n"
		gw=$WALL grss=$RSS gcpu=$CPU ganon=$ANON
		measure "conftest-$p-$n" "$CONFTEST" test "${pargs[@]}" -o json "$WORK/corpus-$n"
		cw=$WALL crss=$RSS ccpu=$CPU canon=$ANON
		if command -v python3 > /dev/null; then
			gt=$(totals "$WORK/gitgate-$p-$n.json")
			ct=$(totals "$WORK/conftest-$p-$n.json")
			if [[ "$gt" != "$ct" ]]; then
				echo "check.sh: verdicts differ for $p/$n: gitgate $gt, conftest $ct (failures warnings successes)" >&2
				status=1
			fi
		fi
		speed=$(awk -v c="$cw" -v g="$gw" 'BEGIN {printf "%.1f", c / g}')
		ratio=$(awk -v c="$crss" -v g="$grss" 'BEGIN {printf "%.3f", g / c}')
		cpux=$(awk -v c="$ccpu" -v g="$gcpu" 'BEGIN {printf "%.1f", c / g}')
		anonratio=$(awk -v c="$canon" -v g="$ganon" 'BEGIN {if (c > 0) printf "%.3f", g / c; else print "-"}')
		printf '%-8s %7d  %10.2f %10.2f %7sx  %9.2f %9.2f %7sx  %10.1f %10.1f %8s  %8.1f %8.1f %8s\n' "$p" "$n" "$gw" "$cw" "$speed" "$gcpu" "$ccpu" "$cpux" "$(awk -v k="$grss" 'BEGIN {print k / 1024}')" "$(awk -v k="$crss" 'BEGIN {print k / 1024}')" "$ratio" "$(awk -v k="$ganon" 'BEGIN {print k / 1024}')" "$(awk -v k="$canon" 'BEGIN {print k / 1024}')" "$anonratio"
		if awk -v s="$speed" 'BEGIN {exit !(s < 10)}'; then
			echo "  target missed: gitgate is ${speed}x faster, want >= 10x" >&2
			status=1
		fi
		if awk -v r="$ratio" 'BEGIN {exit !(r > 0.2)}'; then
			echo "  target missed: gitgate's peak RSS is ${ratio} of conftest's, want <= 0.2" >&2
			status=1
		fi
		gg_wall[$p-$n]=$gw
	done
	first=${sizes%% *}
	last=${sizes##* }
	if [[ "$first" != "$last" ]]; then
		growth=$(awk -v a="${gg_wall[$p-$first]}" -v b="${gg_wall[$p-$last]}" 'BEGIN {printf "%.1f", b / a}')
		echo "  $p: gitgate time grows ${growth}x from $first to $last files (target <= 11x for 10x the files)"
		if awk -v g="$growth" -v a="$first" -v b="$last" 'BEGIN {exit !(g > 1.1 * b / a)}'; then
			echo "  target missed: growth ${growth}x" >&2
			status=1
		fi
	fi
done
# The floor under both RSS columns: each tool's peak RSS when it only prints
# its version (the runtime, package initialization and the pages of the
# binary that start-up touches).
measure gitgate-version "$GITGATE" version
gfloor=$RSS gfloor_anon=$ANON
measure conftest-version "$CONFTEST" --version
echo "start-up floor (version only): gitgate $((gfloor / 1024)) MB (anon $((gfloor_anon / 1024)) MB), conftest $((RSS / 1024)) MB (anon $((ANON / 1024)) MB)"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); gitgate $(git describe --always --dirty), conftest $want"
exit $status
