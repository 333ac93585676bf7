#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# python_lint.sh SOURCE_DIR: pyflakes3 (Debian's pyflakes for Python 3)
# over every Python file of the test equipment under tests/ and bench/:
# *.py, and executables whose first line names python (kube-sim). Exits
# 77, reported as skipped, when pyflakes3 is missing
# (scripts/install-deps.sh installs it).
set -u
src=$1
if ! command -v pyflakes3 >/dev/null 2>&1; then
  echo "pyflakes3 not found: skipped"
  exit 77
fi
cd "$src" || exit 1
list=$(find tests bench -type f ! -path '*/__pycache__/*' | sort | while read -r f; do
  case $f in
    *.py) echo "$f" ;;
    *) [ -x "$f" ] && head -n 1 "$f" | grep -q '^#!.*python' && echo "$f" ;;
  esac
done)
if [ -z "$list" ]; then
  echo "no Python files found under tests/ and bench/"
  exit 1
fi
n=$(echo "$list" | wc -l)
# shellcheck disable=SC2086 # the paths have no blanks
if pyflakes3 $list; then
  echo "$n Python files, pyflakes3-clean"
else
  echo "pyflakes3 found problems (above) in the $n Python files"
  exit 1
fi
