#!/usr/bin/env bash
# case.sh FILE FUNCTION — runs one test function, as tests/run-integration.sh
# does for each: set -e, lib.sh and FILE sourced, in $CASE_TMP. The ERR trap
# names the command and line where the test stopped. The runner exports
# STALLRUN, REPO, CLUSTER, PGBIN, CASE_TMP, TEST_NAME and TEST_FILE.
set -eE
__level=$BASH_SUBSHELL   # not in command substitutions, which go on
trap '__rc=$? __line=$LINENO; [ "$BASH_SUBSHELL" != "$__level" ] ||
  echo "FAILED $TEST_NAME: stopped at ${BASH_SOURCE[0]##*/}:$__line, exit status $__rc: $BASH_COMMAND" >&2' ERR
cd "$CASE_TMP"
# shellcheck source=tests/harness/lib.sh
source "$REPO/tests/harness/lib.sh"
# shellcheck disable=SC1090
source "$1"
"$2"
