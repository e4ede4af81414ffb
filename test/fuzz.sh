#!/usr/bin/env bash
# Runs every native Go fuzz test in the module for $1 (default 30s) each.
# `go test -fuzz` accepts one fuzz target per package run, so we list them.
set -euo pipefail
fuzztime=${1:-30s}
cd "$(dirname "$0")/.."
grep -rl --include='*_test.go' '^func Fuzz' . | while read -r file; do
  pkg="./$(dirname "${file#./}")"
  grep -o '^func Fuzz[A-Za-z0-9_]*' "$file" | sed 's/^func //' | while read -r name; do
    echo "== $pkg $name ($fuzztime)"
    go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg"
  done
done
