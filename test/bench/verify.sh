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

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "git $(git --version | cut -d' ' -f3), $(gpg --version | head -1), $(ssh -V 2>&1 | cut -d, -f1)"
printf '\n%-8s %7s %12s %12s %12s %9s %9s\n' format commits "gitgate 1cpu" "gitgate" "git log" "ratio" "re-verify"
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

  t0=$(now)
  GOMAXPROCS=1 "$work/gitgate" verify --repo "$repo" --trust-root "$root" >"$work/one.out"
  t1=$(now)
  "$work/gitgate" verify --repo "$repo" --trust-root "$root" --state "$work/$fmt.state" >"$work/all.out"
  t2=$(now)
  git "${gitargs[@]}" log --show-signature main >"$work/git.out" 2>&1
  t3=$(now)
  grep -q "commits checked: $COMMITS (0 failed)" "$work/all.out" || { cat "$work/all.out" >&2; exit 1; }
  ngood=$(grep -c "$good" "$work/git.out" || true)
  if [ "$ngood" -ne "$COMMITS" ]; then
    echo "git log found $ngood good signatures, want $COMMITS" >&2
    exit 1
  fi

  git -C "$repo" update-ref refs/heads/main "$head"
  t4=$(now)
  "$work/gitgate" verify --repo "$repo" --trust-root "$root" --state "$work/$fmt.state" >"$work/re.out"
  t5=$(now)
  grep -q "commits checked: 1 (0 failed)" "$work/re.out" || { cat "$work/re.out" >&2; exit 1; }

  g1=$(secs "$t0" "$t1"); g=$(secs "$t1" "$t2"); gl=$(secs "$t2" "$t3"); re=$(secs "$t4" "$t5")
  ratio=$(awk -v a="$gl" -v b="$g" 'BEGIN { printf "%.1fx", a / b }')
  printf '%-8s %7d %11ss %11ss %11ss %9s %8sms\n' "$fmt" "$COMMITS" "$g1" "$g" "$gl" "$ratio" \
    "$(awk -v r="$re" 'BEGIN { printf "%.0f", r * 1000 }')"
done
echo
echo "ratio = git log --show-signature time / gitgate verify time (all cores); re-verify = gitgate verify --state after one new commit (process start to exit)"
