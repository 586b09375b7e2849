#!/usr/bin/env bash
# The browser phone's SIP library (JsSIP, MIT), vendored from the npm registry by `make setup`:
# pinned versions, installed into a cache outside the repo, bundled into one minified file for
# the page (/static/browserphone/jssip.min.js; no CDN, nothing fetched at run time) with the licences
# of JsSIP and of what it bundles beside it. The output files are gitignored.
#   usage: scripts/vendor_jssip.sh [static-dir]   (default: callcenter/browserphone/static)
set -euo pipefail
JSSIP_VERSION=3.13.8
ESBUILD_VERSION=0.28.2
here="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$here/callcenter/browserphone/static}"
cache="${CALLCENTER_NPM_CACHE:-/var/cache/callcenter/npm}/jssip-$JSSIP_VERSION"
target="$out/jssip.min.js"
if [ -s "$target" ] && grep -q "JsSIP $JSSIP_VERSION" "$target" 2>/dev/null; then
  echo "jssip $JSSIP_VERSION already vendored in $out"; exit 0
fi
command -v npm >/dev/null || { echo "npm is missing: apt-get install npm (make setup does it)" >&2; exit 1; }
mkdir -p "$cache" "$out"
if [ ! -x "$cache/node_modules/.bin/esbuild" ] || [ ! -f "$cache/node_modules/jssip/package.json" ] \
   || ! grep -q "\"version\": \"$JSSIP_VERSION\"" "$cache/node_modules/jssip/package.json"; then
  echo "fetching jssip@$JSSIP_VERSION and esbuild@$ESBUILD_VERSION from the npm registry ..."
  (cd "$cache" && [ -f package.json ] || echo '{"private": true}' > "$cache/package.json")
  npm install --prefix "$cache" --no-audit --no-fund --save-exact "jssip@$JSSIP_VERSION" "esbuild@$ESBUILD_VERSION" >/dev/null
fi
tmp="$target.tmp.$$"
"$cache/node_modules/.bin/esbuild" "$cache/node_modules/jssip/lib/JsSIP.js" --bundle --minify \
  --format=iife --global-name=JsSIP --platform=browser --target=es2019 --log-level=warning \
  --banner:js="/*! JsSIP $JSSIP_VERSION (MIT, https://jssip.net) with debug, events, sdp-transform; licences: jssip.LICENSE.txt */" \
  --outfile="$tmp"
mv "$tmp" "$target"
{
  for pkg in jssip debug events sdp-transform ms; do
    dir="$cache/node_modules/$pkg"
    [ -d "$dir" ] || continue
    ver="$(node -p "require('$dir/package.json').version")"
    echo "=== $pkg $ver ==="
    cat "$dir"/LICENSE* 2>/dev/null || echo "(licence: $(node -p "require('$dir/package.json').license"))"
    echo
  done
} > "$out/jssip.LICENSE.txt"
echo "vendored jssip $JSSIP_VERSION into $out ($(wc -c < "$target") bytes)"
