#!/bin/sh
# Regenerates skeletons/model-project/.github/smoke/{package.json,package-lock.json}: the GPU smoke job's
# tools (this module's tf-smoke CLI and @tensorflow/tfjs-node-gpu), installed in CI with `npm ci`.
# Run it for every release of this module, from the tarball that is published (npm pack == npm publish).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
npm run --prefix "$root" build
npm pack --prefix "$root" --pack-destination "$work" "$root"
tgz=$(ls "$work"/*.tgz)
mkdir "$work/proj"
cat > "$work/proj/package.json" <<JSON
{ "name": "model-smoke", "private": true, "dependencies": { "$(node -p "require('$root/package.json').name")": "file:$tgz", "@tensorflow/tfjs-node-gpu": "4.22.0" } }
JSON
(cd "$work/proj" && npm install --package-lock-only --ignore-scripts --no-audit --no-fund)
node "$root/tools/smoke-lock/pin.mjs" "$work/proj/package-lock.json" "$root/package.json" "$root/skeletons/model-project/.github/smoke"
rm -rf "$work"
