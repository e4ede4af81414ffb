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
# shellcheck source=../lib/cache.sh
source "$here/../lib/cache.sh"

k8s_version="$(pinned k8s.io/kubernetes "$here/kube/go.mod")"
etcd_version="$(pinned go.etcd.io/etcd/server/v3 "$here/etcd/go.mod")"
if [[ -z "$k8s_version" || -z "$etcd_version" ]]; then
  echo "build.sh: cannot read the pinned versions from $here/{kube,etcd}/go.mod" >&2
  exit 1
fi

cache_root="$(cache_dir envtest)"
dest="$cache_root/$k8s_version"
stamp="kubernetes $k8s_version etcd $etcd_version"

complete() {
  [[ -x "$dest/kube-apiserver" && -x "$dest/etcd" && -x "$dest/kubectl" ]] &&
    [[ "$(cat "$dest/VERSIONS" 2>/dev/null)" == "$stamp" ]]
}

cache_ready_or_lock "$cache_root" "$dest" "${1:-}"
cache_build_dir "$cache_root" "$k8s_version"

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
(cd "$here/etcd" && go build -trimpath -o "$cache_tmp/etcd" go.etcd.io/etcd/server/v3)
echo "building kube-apiserver and kubectl $k8s_version (first run only; this takes minutes)" >&2
(cd "$here/kube" && go build -trimpath -ldflags "$ldflags" -o "$cache_tmp/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl)
echo "$stamp" >"$cache_tmp/VERSIONS"
cache_install "$cache_root" "$dest"
echo "built in $((SECONDS - start))s" >&2
echo "$dest"
