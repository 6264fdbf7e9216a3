#!/usr/bin/env bash
# Copy the front-end files the templates use from node_modules/ into qualitygov/static/vendor/.
#
# The vendor folder is generated (gitignored); templates refer to these exact paths, so keep them.
# Source maps are copied too: ManifestStaticFilesStorage (collectstatic with DEBUG off) follows the
# sourceMappingURL comments and fails when a map is missing.
set -euo pipefail

cd "$(dirname "$0")/.."
src=node_modules
dest=qualitygov/static/vendor

for pkg in bootstrap bootstrap-icons echarts; do
    if [ ! -d "$src/$pkg" ]; then
        echo "node_modules/$pkg is missing: run 'npm ci' (make setup does)." >&2
        exit 1
    fi
done

rm -rf "$dest"
mkdir -p "$dest/bootstrap" "$dest/bootstrap-icons/fonts" "$dest/echarts"

cp "$src/bootstrap/dist/css/bootstrap.min.css" "$src/bootstrap/dist/css/bootstrap.min.css.map" \
   "$src/bootstrap/dist/js/bootstrap.bundle.min.js" "$src/bootstrap/dist/js/bootstrap.bundle.min.js.map" \
   "$src/bootstrap/LICENSE" "$dest/bootstrap/"
cp "$src/bootstrap-icons/font/bootstrap-icons.min.css" "$src/bootstrap-icons/LICENSE" "$dest/bootstrap-icons/"
cp "$src/bootstrap-icons/font/fonts/bootstrap-icons.woff2" "$src/bootstrap-icons/font/fonts/bootstrap-icons.woff" \
   "$dest/bootstrap-icons/fonts/"
cp "$src/echarts/dist/echarts.min.js" "$src/echarts/LICENSE" "$src/echarts/NOTICE" "$dest/echarts/"

# Record which versions were copied, for the README's "what is vendored" and for bug reports.
node -e '
const fs = require("fs");
const out = {};
for (const p of ["bootstrap", "bootstrap-icons", "echarts"]) {
  out[p] = JSON.parse(fs.readFileSync(`node_modules/${p}/package.json`, "utf8")).version;
}
fs.writeFileSync(process.argv[1], JSON.stringify(out, null, 2) + "\n");
' "$dest/versions.json"
echo "vendored: $(tr -d '\n ' < "$dest/versions.json")"
