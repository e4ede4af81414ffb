#!/usr/bin/env bash
# Builds the real control plane that gitgate's e2e tests run against —
# kube-apiserver and kubectl from k8s.io/kubernetes, etcd from
# go.etcd.io/etcd/server/v3 — from source through the Go module proxy, at the
# versions pinned in the wrapper modules beside this script (kube/, etcd/).
#
# Output: ${XDG_CACHE_HOME:-$HOME/.cache}/gitgate/envtest/<kubernetes version>/
# holding kube-apiserver, etcd and kubectl. The folder's path is the only thing
# printed on stdout (progress goes to stderr), so callers can write
#   KUBEBUILDER_ASSETS="$(test/envtest/build.sh)"
#
# The binaries are built only when missing: the check reads one stamp file.
# A build goes into a temporary folder beside the cache folder and is renamed
# into place at the end, so an interrupted build never leaves a half cache.
#
# Usage: build.sh [--print-path]   (--print-path prints the folder, builds nothing)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# The versions come from the committed wrapper go.mod files, so the cache key
# cannot drift from what is built.
k8s_version="$(awk '$1 == "k8s.io/kubernetes" { print $2; exit }' "$here/kube/go.mod")"
etcd_version="$(awk '$1 == "go.etcd.io/etcd/server/v3" { print $2; exit }' "$here/etcd/go.mod")"
if [[ -z "$k8s_version" || -z "$etcd_version" ]]; then
  echo "build.sh: cannot read the pinned versions from $here/{kube,etcd}/go.mod" >&2
  exit 1
fi

cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/gitgate/envtest"
dest="$cache_root/$k8s_version"
stamp="kubernetes $k8s_version etcd $etcd_version"

if [[ "${1:-}" == "--print-path" ]]; then
  echo "$dest"
  exit 0
fi

complete() {
  [[ -x "$dest/kube-apiserver" && -x "$dest/etcd" && -x "$dest/kubectl" ]] &&
    [[ "$(cat "$dest/VERSIONS" 2>/dev/null)" == "$stamp" ]]
}

if complete; then
  echo "$dest"
  exit 0
fi

mkdir -p "$cache_root"

# Several checkouts or test runs may ask at once: one builds, the others wait
# and then find the cache complete. Without flock (not on every OS) the atomic
# rename below still keeps the cache whole; two builds just race to finish.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$cache_root/.lock"
  flock 9
  if complete; then
    echo "$dest"
    exit 0
  fi
fi

tmp="$(mktemp -d "$cache_root/.build-$k8s_version.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# A go.work around the checkout must not pull the wrapper modules into it.
export GOWORK=off CGO_ENABLED=0
# Kubernetes stamps its release into these variables (hack/lib/version.sh);
# without them the binaries report v0.0.0-master and kubectl warns about skew.
major="${k8s_version#v}"
major="${major%%.*}"
minor="${k8s_version#v*.}"
minor="${minor%%.*}"
ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
done

start=$SECONDS
echo "building etcd $etcd_version into $dest (first run only)" >&2
(cd "$here/etcd" && go build -trimpath -o "$tmp/etcd" go.etcd.io/etcd/server/v3)
echo "building kube-apiserver and kubectl $k8s_version (first run only; this takes minutes)" >&2
(cd "$here/kube" && go build -trimpath -ldflags "$ldflags" -o "$tmp/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl)
echo "$stamp" >"$tmp/VERSIONS"
chmod 0755 "$tmp"

# A stale folder (other pinned etcd) is moved aside first: rename cannot
# replace a non-empty directory.
if [[ -e "$dest" ]]; then
  old="$(mktemp -d "$cache_root/.old-$k8s_version.XXXXXX")"
  mv "$dest" "$old/"
  rm -rf "$old"
fi
mv "$tmp" "$dest"
trap - EXIT
echo "built in $((SECONDS - start))s" >&2
echo "$dest"
