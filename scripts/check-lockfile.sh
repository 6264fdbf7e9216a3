#!/usr/bin/env bash
# Fail when package-lock.json records a download address on any host but the npm registry.
set -euo pipefail
cd "$(dirname "$0")/.."
bad=$(grep -oE '"resolved": *"[^"]*"' package-lock.json | grep -vE '"https://registry\.npmjs\.org/' || true)
if [ -n "$bad" ]; then
    echo "package-lock.json downloads from hosts other than the npm registry:" >&2
    echo "$bad" >&2
    exit 1
fi
echo "package-lock.json: no download hosts but the npm registry"
