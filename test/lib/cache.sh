# shellcheck shell=bash
# The cache logic shared by the scripts that build test tools from source into
# the user cache (test/envtest/build.sh, test/helm/build.sh): where the cache
# is, the pinned versions that key it, building only when something is
# missing, one builder at a time, and a build renamed into place whole.
#
# Sourced, not run. Before calling cache_ready_or_lock, the script defines
# complete(), true when its cache folder needs nothing.

# cache_dir NAME prints the cache folder of the tool NAME.
cache_dir() {
  echo "${XDG_CACHE_HOME:-$HOME/.cache}/gitgate/$1"
}

# pinned MODULE GOMOD prints the version of MODULE that the go.mod file GOMOD
# requires. The versions come from committed wrapper modules, so a cache key
# cannot drift from what is built.
pinned() {
  awk -v m="$1" '$1 == m { print $2; exit }' "$2"
}

# cache_ready_or_lock ROOT OUT [ARG]: with ARG --print-path, or when the cache
# is complete, prints OUT (the path callers use) and ends the script.
# Otherwise it returns holding the lock of ROOT, the tool's cache folder.
#
# Several checkouts or test runs may ask at once: one builds, the others wait
# and then find the cache complete. Without flock (not on every OS) the atomic
# rename of cache_install still keeps the cache whole; two builds just race
# to finish.
cache_ready_or_lock() {
  local root="$1" out="$2"
  if [[ "${3:-}" == "--print-path" ]] || complete; then
    echo "$out"
    exit 0
  fi
  mkdir -p "$root"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$root/.lock"
    flock 9
    if complete; then
      echo "$out"
      exit 0
    fi
  fi
}

# cache_build_dir ROOT NAME makes the temporary folder a build writes into,
# cache_tmp: beside the cache (so the final rename stays on one file system)
# and removed if the script ends before cache_install.
cache_build_dir() {
  cache_tmp="$(mktemp -d "$1/.build-$2.XXXXXX")"
  trap 'rm -rf "$cache_tmp"' EXIT
}

# cache_install ROOT DEST renames the finished build, cache_tmp, into place
# as DEST, so an interrupted build never leaves a half cache. A stale DEST
# (other pinned versions) is moved aside first: rename cannot replace a
# non-empty directory.
cache_install() {
  local root="$1" dest="$2" old
  chmod 0755 "$cache_tmp"
  if [[ -e "$dest" ]]; then
    old="$(mktemp -d "$root/.old-$(basename "$dest").XXXXXX")"
    mv "$dest" "$old/"
    rm -rf "$old"
  fi
  mv "$cache_tmp" "$dest"
  trap - EXIT
}
