#!/bin/sh
# Rebuilds static/vendor/chart.umd.min.js: Chart.js 4.6.1 with only the parts the pages use.
#
#   sh core/dashboard/vendor/build-chartjs.sh      (needs node/npm and the npm registry; once)
#
# Why: the full UMD build (~205 KB) is mostly controllers, scales and plugins no page uses, and
# compiling and running it is most of the dashboard's cold first render. The pages (static/app.js)
# draw bar charts (stacked, horizontal) and lines (budget) on category and linear axes, with
# tooltips and legends; nothing uses fill, time scales, doughnut/pie/radar/bubble, the title or
# subtitle plugins, decimation or the default-colours plugin (every dataset names its colours).
# A page that starts using another part must add it to entry.mjs below and rebuild, or Chart.js
# throws '"xyz" is not a registered controller' (or scale, element).
#
# The file keeps its name (the server and the tests ask for it) and its global `Chart` (the class:
# new Chart, Chart.getChart), but it is a plain script (IIFE), not a UMD module.
#
# Rollup tree-shakes (Chart.js is one big ES module; esbuild keeps every class whose static
# fields read a property, e.g. the time scales); esbuild minifies. propertyReadSideEffects: false
# drops only the time scales and the date adapter stub here (checked against rollup's default).
set -eu

CHARTJS=4.6.1
KURKLE=0.3.4        # @kurkle/color: Chart.js's one dependency, bundled in
ROLLUP=4.68.7
NODE_RESOLVE=16.0.3
ESBUILD=0.28.2
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../static/vendor/chart.umd.min.js"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund --save-exact "chart.js@$CHARTJS" "@kurkle/color@$KURKLE" \
  "rollup@$ROLLUP" "@rollup/plugin-node-resolve@$NODE_RESOLVE" "esbuild@$ESBUILD" >/dev/null

cat > entry.mjs <<'JS'
import {Chart, BarController, LineController, BarElement, LineElement, PointElement,
        CategoryScale, LinearScale, Legend, Tooltip} from "chart.js";
Chart.register(BarController, LineController, BarElement, LineElement, PointElement,
               CategoryScale, LinearScale, Legend, Tooltip);
globalThis.Chart = Chart;
JS
cat > rollup.config.mjs <<'JS'
import {nodeResolve} from "@rollup/plugin-node-resolve";
export default {input: "entry.mjs", plugins: [nodeResolve()], treeshake: {propertyReadSideEffects: false},
                output: {file: "shaken.mjs", format: "es"}};
JS
npx rollup -c rollup.config.mjs --silent

# The MIT notices of Chart.js and of the @kurkle/color it bundles lead the file (the tests look
# for "Chart.js v4" at its start); esbuild's copies of them are dropped so each appears once.
# The first line asks V8 to compile every function as the file streams in, off the main thread
# (explicit compile hints, Chromium 136+): otherwise each compiles on the main thread when first
# called, and the first chart's drawing calls most of them (cold first render ~40-60 ms sooner).
cat > banner.js <<JS
//# allFunctionsCalledOnLoad
/*!
 * Chart.js v$CHARTJS, bar and line charts only (core/dashboard/vendor/build-chartjs.sh)
 * https://www.chartjs.org
 * (c) 2026 Chart.js Contributors
 * Released under the MIT License
 */
/*!
 * @kurkle/color v$KURKLE
 * https://github.com/kurkle/color#readme
 * (c) 2024 Jukka Kurkela
 * Released under the MIT License
 */
JS
npx esbuild shaken.mjs --minify --format=iife --target=es2022 --legal-comments=none \
  --banner:js="$(cat banner.js)" --outfile=bundle.js --log-level=warning
cp bundle.js "$out"
echo "$out: $(wc -c < "$out") bytes"
