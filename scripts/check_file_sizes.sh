#!/usr/bin/env bash
# Refuses files over 1 MiB (1048576 bytes) in the repository unless scripts/large_files.txt lists
# them with a reason (docs/DESIGN.md: no file over 1 MB in git). Pre-commit style:
#
#   scripts/check_file_sizes.sh            every tracked file (what CI runs, from .ci/run)
#   scripts/check_file_sizes.sh --staged   the files a commit adds or changes (a pre-commit hook:
#                                          ln -s ../../scripts/check_file_sizes.sh .git/hooks/pre-commit
#                                          runs it with no argument; set STEMMA_SIZE_CHECK=staged)
#
# scripts/large_files.txt: one file per line, "path  reason" (the reason is required); lines
# starting with # are comments. Exit status 1 names every file that is too large and not listed,
# and every listed line without a reason.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"

limit=$((1024 * 1024))
allow_list="scripts/large_files.txt"
mode="${1:-${STEMMA_SIZE_CHECK:-all}}"
mode="${mode#--}"

declare -A allowed=()
bad=0
if [ -f "$allow_list" ]; then
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in '' | '#'*) continue ;; esac
    path="${line%%[[:space:]]*}"
    reason="${line#"$path"}"
    reason="${reason#"${reason%%[![:space:]]*}"}"
    if [ -z "$reason" ]; then
      echo "check_file_sizes: $allow_list lists $path without a reason" >&2
      bad=1
    fi
    allowed["$path"]=1
  done <"$allow_list"
fi

# "size<TAB>path" per file: one stat for all tracked files (or the index's sizes of the staged
# ones), then a loop of shell builtins (no process per file).
case "$mode" in
  all) sizes=$(git ls-files -z | xargs -0 -r stat --printf '%s\t%n\n' 2>/dev/null || true) ;;
  staged)
    sizes=""
    while IFS= read -r f; do
      [ -n "$f" ] && sizes+="$(git cat-file -s ":$f" 2>/dev/null || echo 0)"$'\t'"$f"$'\n'
    done < <(git diff --cached --name-only --diff-filter=ACMR)
    ;;
  *) echo "usage: $0 [--staged]" >&2; exit 2 ;;
esac

while IFS=$'\t' read -r size f; do
  [ -n "$f" ] || continue
  if [ "$size" -gt "$limit" ] && [ -z "${allowed[$f]:-}" ]; then
    echo "check_file_sizes: $f is $size bytes (over $limit); keep it out of git, or list it in" \
      "$allow_list with a reason" >&2
    bad=1
  fi
done <<<"$sizes"

[ "$bad" = 0 ] && echo "check_file_sizes: no unlisted file over $limit bytes ($mode)"
exit "$bad"
