# SPDX-License-Identifier: Apache-2.0
# check.sh: the TAP-like reporting the shell tests share. Source it, then
# `check NAME COMMAND...` for each check and `summary` at the end (exit
# status 1 when any check failed).
passed=0
failed=0

check() { # check NAME COMMAND...: one line per check, never exits
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1)); echo "ok - $name"
  else
    failed=$((failed + 1)); echo "not ok - $name"
  fi
}

summary() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
