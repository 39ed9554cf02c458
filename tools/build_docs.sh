#!/usr/bin/env bash
# Build the documentation site into docs/_build/html and check it (pip install ".[docs]" first).
#   tools/build_docs.sh           every tutorial executed, warnings as errors, internal links checked
#   tools/build_docs.sh --quick   tutorials re-executed only when their code changed (jupyter-cache)
#   tools/build_docs.sh --browser also open pages in headless Chromium (tools/check_site.py)
# The tutorials read MNIST from $FASTOPT_DATA (set it to the folder of the IDX files).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python}"
export FASTOPT_DOCS_EXECUTE=force
browser=0
for arg in "$@"; do
  case "$arg" in
    --quick) FASTOPT_DOCS_EXECUTE=cache ;;
    --browser) browser=1 ;;
    *) echo "usage: $0 [--quick] [--browser]" >&2; exit 2 ;;
  esac
done
"$PYTHON" -m sphinx -W --keep-going -n -b html docs docs/_build/html
"$PYTHON" tools/check_links.py docs/_build/html
if [ "$browser" = 1 ]; then
  "$PYTHON" tools/check_site.py docs/_build/html
fi
