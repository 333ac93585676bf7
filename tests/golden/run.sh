#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs one golden case: `groved validate` over the case's inputs, compared
# byte for byte with the case's `expected` file (stdout, stderr, then the
# line "exit: N").
#
#   run.sh GROVED CASE_DIR            check
#   run.sh GROVED CASE_DIR --update   rewrite `expected` (review the diff!)
#
# A case directory holds input.yaml (or any *.yaml / *.json) and, when
# the default is not right, an `args` file with the validate arguments
# (default: -f input.yaml), or `plan ...` for a `groved plan` case.
# Paths are relative to the case directory.
set -u
groved=$1
dir=$2
mode=${3:-check}

cd "$dir" || exit 2
if [ -f args ]; then
  read -r -a argv < args
else
  argv=(-f input.yaml)
fi
# an args file that starts with a subcommand other than validate (plan)
# names it; otherwise the arguments are validate's
cmd=(validate)
case "${argv[0]:-}" in plan) cmd=() ;; esac
actual=$("$groved" "${cmd[@]}" "${argv[@]}" 2>&1; echo "exit: $?")

if [ "$mode" = --update ]; then
  printf '%s\n' "$actual" > expected
  exit 0
fi
if [ ! -f expected ]; then
  echo "golden: $dir has no expected file (run with --update and review)" >&2
  exit 1
fi
if ! diff -u expected <(printf '%s\n' "$actual"); then
  echo "golden: $dir: output differs from expected (above: - expected, + actual)" >&2
  exit 1
fi
