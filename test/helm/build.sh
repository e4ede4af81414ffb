#!/usr/bin/env bash
# Builds the helm CLI that the chart tests run (`helm lint`, `helm template`)
# from source through the Go module proxy, at the version pinned in the wrapper
# module beside this script (go.mod's `tool helm.sh/helm/v3/cmd/helm`), and
# fetches, through the same proxy, the CustomResourceDefinitions of the
# third-party kinds the chart can create (cert-manager's Issuer and
# Certificate, prometheus-operator's ServiceMonitor), so that the chart test
# installs the real ones into its API server and the server-side dry-run
# checks those objects against their real schemas. Both projects publish the
# CRDs in their Go modules (pinned below); `go mod download` checks each
# module against the checksum database.
#
# Output: ${XDG_CACHE_HOME:-$HOME/.cache}/gitgate/helm/<helm version>/helm and,
# beside it, crds/ (stamped with the module versions in crds/VERSIONS).
# The binary's path is the only thing printed on stdout (progress goes to
# stderr), so callers can write HELM="$(test/helm/build.sh)"; the CRDs are
# "$(dirname "$HELM")/crds".
#
# Each part is made only when missing. It is made in a temporary folder beside
# its place in the cache and renamed into place at the end, so an interrupted
# run never leaves a half cache.
#
# Usage: build.sh [--print-path]   (--print-path prints the path, builds nothing)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib/cache.sh
source "$here/../lib/cache.sh"

helm_version="$(pinned helm.sh/helm/v3 "$here/go.mod")"
client_go_version="$(pinned k8s.io/client-go "$here/go.mod")"
if [[ -z "$helm_version" || -z "$client_go_version" ]]; then
  echo "build.sh: cannot read the pinned versions from $here/go.mod" >&2
  exit 1
fi

cache_root="$(cache_dir helm)"
dest="$cache_root/$helm_version"
bin="$dest/helm"

# module@version, then the CRD files in that module.
crd_sources=(
  "github.com/cert-manager/cert-manager@v1.21.2 deploy/crds/cert-manager.io_issuers.yaml deploy/crds/cert-manager.io_certificates.yaml"
  "github.com/prometheus-operator/prometheus-operator@v0.85.0 example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml"
)
crds="$dest/crds"
crd_stamp="$(for s in "${crd_sources[@]}"; do echo "${s%% *}"; done)"

complete() {
  [[ -x "$bin" && "$(cat "$crds/VERSIONS" 2>/dev/null)" == "$crd_stamp" ]]
}

cache_ready_or_lock "$cache_root" "$bin" "${1:-}"

# A go.work around the checkout must not pull the wrapper module into it.
export GOWORK=off CGO_ENABLED=0

fetch_crds() {
  local tmp dir
  mkdir -p "$dest"
  tmp="$(mktemp -d "$dest/.crds.XXXXXX")"
  chmod 0755 "$tmp"
  for s in "${crd_sources[@]}"; do
    read -r -a parts <<<"$s"
    echo "fetching the CRDs of ${parts[0]}" >&2
    # Outside any module, so the download touches no go.mod.
    dir="$(cd "$tmp" && GOFLAGS=-mod=mod go mod download -json "${parts[0]}" |
      sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
    if [[ -z "$dir" ]]; then
      echo "build.sh: go mod download ${parts[0]} named no folder" >&2
      rm -rf "$tmp"
      return 1
    fi
    for f in "${parts[@]:1}"; do
      cp "$dir/$f" "$tmp/"
      chmod 0644 "$tmp/$(basename "$f")"
    done
  done
  echo "$crd_stamp" >"$tmp/VERSIONS"
  rm -rf "$crds"
  mv "$tmp" "$crds"
}

if [[ -x "$bin" ]]; then
  fetch_crds
  echo "$bin"
  exit 0
fi

cache_build_dir "$cache_root" "$helm_version"

# helm's own Makefile stamps these: its version, and the Kubernetes version it
# assumes for `helm template` and `helm lint` (.Capabilities.KubeVersion and
# the deprecation check), derived from the client-go it is built with
# (v0.X.Y → 1.X). Without them helm reports v3.22 and assumes Kubernetes 1.20.
k8s_minor="${client_go_version#v0.}"
k8s_minor="${k8s_minor%%.*}"
pkg=helm.sh/helm/v3
ldflags="-s -w -X $pkg/internal/version.version=$helm_version -X $pkg/internal/version.metadata="
ldflags+=" -X $pkg/internal/version.gitTreeState=clean"
for p in pkg/lint/rules pkg/chartutil; do
  ldflags+=" -X $pkg/$p.k8sVersionMajor=1 -X $pkg/$p.k8sVersionMinor=$k8s_minor"
done

start=$SECONDS
echo "building helm $helm_version into $dest (first run only; this takes minutes)" >&2
(cd "$here" && nice -n 19 go build -trimpath -ldflags "$ldflags" -o "$cache_tmp/helm" helm.sh/helm/v3/cmd/helm)
cache_install "$cache_root" "$dest"
echo "built in $((SECONDS - start))s" >&2
fetch_crds
echo "$bin"
