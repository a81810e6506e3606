#!/usr/bin/env bash
# The tree's C++ follows .clang-format (Google style, 120 columns) and no source line is longer than 120 columns.
# Usage: scripts/check_format.sh [--fix]   (--fix rewrites the files in place)
set -euo pipefail
cd "$(dirname "$0")/.."
CLANG_FORMAT=${CLANG_FORMAT:-clang-format}
command -v "$CLANG_FORMAT" >/dev/null || { echo "check_format: $CLANG_FORMAT not found (apt install clang-format)"; exit 2; }
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.cu' '*.cuh' '*.h')
if [ "${1:-}" = --fix ]; then
  "$CLANG_FORMAT" -i "${files[@]}"
  exit 0
fi
status=0
"$CLANG_FORMAT" --dry-run --Werror "${files[@]}" || status=1
long=$(awk 'length > 120 { printf "%s:%d: %d columns\n", FILENAME, FNR, length }' "${files[@]}")
if [ -n "$long" ]; then
  echo "$long"
  echo "check_format: lines over 120 columns"
  status=1
fi
[ $status -eq 0 ] && echo "check_format: ${#files[@]} files formatted, no line over 120 columns"
exit $status
