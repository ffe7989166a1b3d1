#!/bin/sh
# Refresh the MathJax files committed under docs/javascripts/mathjax/.
#
# The docs site serves MathJax itself so that pages render with no internet
# access. Only the subset the site loads is kept (about 1.6 MB): the combined
# TeX-input/CHTML-output component and the CHTML web fonts it fetches relative
# to its own URL. Run by hand when upgrading; `make docs` never runs it, so the
# build needs no npm and no network.
#
#   sh scripts/vendor_mathjax.sh [version]      (default: the pinned 3.2.2)
set -eu
version="${1:-3.2.2}"
dest="docs/javascripts/mathjax"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

(cd "$tmp" && npm pack --silent "mathjax@$version" >/dev/null && tar xzf mathjax-*.tgz)
src="$tmp/package"

rm -rf "$dest"
mkdir -p "$dest/output/chtml/fonts"
cp "$src/es5/tex-mml-chtml.js" "$dest/"
cp -r "$src/es5/output/chtml/fonts/woff-v2" "$dest/output/chtml/fonts/"
cp "$src/LICENSE" "$dest/LICENSE"
printf 'MathJax %s, from the npm package "mathjax" (es5/), Apache-2.0: see LICENSE.\nRefreshed by scripts/vendor_mathjax.sh.\n' "$version" > "$dest/VERSION"
du -sh "$dest"
