#!/usr/bin/env bash
# Side by side in one run: `gitgate verify` (the built binary) and git's own
# signature check, `git log --show-signature`, over the same generated signed
# history: one signed with SSH ed25519 keys, one with OpenPGP (ed25519) keys.
#
#   test/bench/verify.sh                 # 10,000 commits per format
#   COMMITS=2000 FORMATS=ssh test/bench/verify.sh
#
# The history comes from provenance/internal/benchrepo (signed in-process,
# written as one packfile, then repacked by `git repack -adf` so both tools
# read the pack layout git itself writes). git is configured so it really checks every
# signature (gpg.ssh.allowedSignersFile; a keyring with the keys imported and
# trusted), and the script fails unless git reports every signature good.
# The re-verify column is `gitgate verify --state` after one new commit on
# top of a recorded head: the case a CI job or the reconciler hits each push.
set -euo pipefail
cd "$(dirname "$0")/../.."
COMMITS=${COMMITS:-10000}
FORMATS=${FORMATS:-ssh openpgp}

work=$(mktemp -d "${TMPDIR:-/tmp}/gitgate-bench-verify.XXXXXX")
cleanup() { GNUPGHOME="$work/gnupg" gpgconf --kill all >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
go build -trimpath -o "$work/gitgate" ./cmd/gitgate
go build -trimpath -o "$work/genrepo" ./provenance/internal/benchrepo/genrepo

# From here on git and gpg run isolated from the host's configuration.
export HOME="$work/home" GNUPGHOME="$work/gnupg" GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
mkdir -p "$HOME" && mkdir -m 700 "$GNUPGHOME"

# measure FILE CMD...: runs CMD and writes "wall user+sys" seconds to FILE
# (bash's time builtin counts the CPU of every child, e.g. the ssh-keygen or
# gpg processes git starts per commit).
measure() {
  local file=$1
  shift
  local TIMEFORMAT='%R %U %S'
  # The command's own standard error goes where the caller's went (fd 3).
  { time "$@" 2>&3; } 3>&2 2>"$file.time"
  tail -n 1 "$file.time" | awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' >"$file"
}
col() { cut -d' ' -f"$2" "$1"; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "git $(git --version | cut -d' ' -f3), $(gpg --version | head -1), $(ssh -V 2>&1 | cut -d, -f1)"
printf '\n%-8s %7s | %-19s | %-9s | %-19s | %-19s | %-13s | %-9s | %s\n' format commits "gitgate, 1 core" "1 core" "gitgate, all cores" "git log" "git log/gitgate" "re-verify" "load"
printf '%-8s %7s | %-19s | %-10s | %-19s | %-19s | %-13s | %-9s | %s\n' "" "" "wall / cpu (s)" "cpu µs/c" "wall / cpu (s)" "wall / cpu (s)" "wall / cpu" "wall (ms)" "1 min avg"
for fmt in $FORMATS; do
  out="$work/$fmt"
  # One commit more than measured: it is the "new commit" of the re-verify.
  "$work/genrepo" -out "$out" -format "$fmt" -commits "$((COMMITS + 1))"
  repo="$out/repo.git"
  root=$(cat "$out/trust-root")
  head=$(git -C "$repo" rev-parse main)
  git -C "$repo" update-ref refs/heads/main "$(git -C "$repo" rev-parse main~1)"

  gitargs=(-C "$repo")
  case $fmt in
    ssh)
      gitargs+=(-c "gpg.ssh.allowedSignersFile=$out/allowed_signers")
      good='Good "git" signature' ;;
    openpgp)
      gpg --batch --quiet --import "$out/pubkeys.asc" 2>/dev/null
      gpg --batch --quiet --import-ownertrust "$out/ownertrust.txt" 2>/dev/null
      good='Good signature from' ;;
  esac
  cat "$repo"/objects/pack/* >/dev/null # same warm page cache for both tools

  measure "$work/t.one" env GOMAXPROCS=1 "$work/gitgate" verify --repo "$repo" --trust-root "$root" >"$work/one.out"
  measure "$work/t.all" "$work/gitgate" verify --repo "$repo" --trust-root "$root" --state "$work/$fmt.state" >"$work/all.out"
  measure "$work/t.git" git "${gitargs[@]}" log --show-signature main >"$work/git.out" 2>&1
  for f in one all; do
    grep -q "commits checked: $COMMITS (0 failed)" "$work/$f.out" || { cat "$work/$f.out" >&2; exit 1; }
  done
  ngood=$(grep -c "$good" "$work/git.out" || true)
  if [ "$ngood" -ne "$COMMITS" ]; then
    echo "git log found $ngood good signatures, want $COMMITS" >&2
    exit 1
  fi

  git -C "$repo" update-ref refs/heads/main "$head"
  measure "$work/t.re" "$work/gitgate" verify --repo "$repo" --trust-root "$root" --state "$work/$fmt.state" >"$work/re.out"
  grep -q "commits checked: 1 (0 failed)" "$work/re.out" || { cat "$work/re.out" >&2; exit 1; }

  ratio=$(awk -v gw="$(col "$work/t.git" 1)" -v gc="$(col "$work/t.git" 2)" -v w="$(col "$work/t.all" 1)" -v c="$(col "$work/t.all" 2)" \
    'BEGIN { printf "%.0fx / %.0fx", gw / w, gc / c }')
  percommit=$(awk -v c="$(col "$work/t.one" 2)" -v n="$COMMITS" 'BEGIN { printf "%.1f", c * 1e6 / n }')
  printf '%-8s %7d | %8s / %8s | %9s | %8s / %8s | %8s / %8s | %-13s | %9.0f | %s\n' "$fmt" "$COMMITS" \
    $(cat "$work/t.one") "$percommit" $(cat "$work/t.all") $(cat "$work/t.git") "$ratio" \
    "$(awk -v r="$(col "$work/t.re" 1)" 'BEGIN { print r * 1000 }')" "$(cut -d' ' -f1 /proc/loadavg)"
done
echo
echo "cpu = user + system time of the process and its children; cpu µs/c = the one-core run's cpu per commit (process start included)"
echo "ratio = git log --show-signature / gitgate verify (all cores); load = 1-minute load average when the format's runs ended"
echo "re-verify = gitgate verify --state after one new commit on top of the recorded head (process start to exit)"
