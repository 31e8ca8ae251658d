# Output that cannot be written, or should not be written as it is: stdout a
# pipe whose reader is gone (`stallrun ... | head -0`) or a full device, a
# workflow's io.write, and control characters (terminal escape sequences) in
# folder names and server messages. Output never stops a migration; what it
# lost is said once at the end, with a non-zero exit status.
source "$REPO/tests/faults/lib_invariant.sh"
source "$REPO/tests/faults/lib_inflight.sh"

# run_stdout_closed ARGS... — stallrun ARGS in $PROJECT with stdout a pipe
# whose reader has gone, and SIGPIPE at its default action (as a shell
# starts it); STATUS is 128 + N when a signal N ended it.
run_stdout_closed() {
  LAST_ARGS="$* (stdout: a pipe nobody reads)"
  STATUS=0
  (cd "$PROJECT" && exec python3 -c '
import os, subprocess, sys
r, w = os.pipe()
os.close(r)
rc = subprocess.run(sys.argv[1:], stdout=w, stdin=subprocess.DEVNULL).returncode
sys.exit(128 - rc if rc < 0 else rc)' "$STALLRUN" "$@") 2>"$CASE_TMP/err" || STATUS=$?
  : >"$CASE_TMP/out"
  ERR=$(cat "$CASE_TMP/err")
}

# run_stdout_full ARGS... — the same with stdout on /dev/full (ENOSPC).
run_stdout_full() {
  LAST_ARGS="$* (stdout: /dev/full)"
  STATUS=0
  (cd "$PROJECT" && exec "$STALLRUN" "$@") >/dev/full 2>"$CASE_TMP/err" </dev/null || STATUS=$?
  : >"$CASE_TMP/out"
  ERR=$(cat "$CASE_TMP/err")
}

# 80 quick migrations (more progress than one stdio buffer holds), one
# outside a transaction, one after it.
many_migrations() {
  fault_project
  local i
  for i in $(seq -w 1 80); do fault_migration "202401010000${i}_m${i}"; done
  add_migration 20240101000100_nt "-- stallmig:no-transaction
CREATE TABLE \"20240101000100_nt\" (id int);
CREATE INDEX CONCURRENTLY ON \"20240101000100_nt\" (id);
"
  fault_migration 20240101000101_last
}

# Every migration applied, once; the output failure said once, at the end.
all_applied_and_said_once() {
  assert_exit 1
  assert_eq 82 "$(psql_q "SELECT count(*) FROM stallmig.migrations WHERE outcome = 'applied'")" "applied migrations"
  assert_invariant
  assert_eq 1 "$(grep -c "could not write to stdout ($1), so part of the output was lost; the run itself went on to its end" "$CASE_TMP/err")" \
    "the message about the lost output"
  assert_eq "$(tail -n 1 "$CASE_TMP/err")" "$(grep "could not write to stdout" "$CASE_TMP/err")" "the message is the last line"
}

test_closed_stdout_pipe_does_not_stop_a_deploy() {
  many_migrations
  run_stdout_closed workflows/deploy.lua --env dev
  all_applied_and_said_once "Broken pipe"
}

test_stdout_on_a_full_device_fails_the_run_but_not_the_deploy() {
  many_migrations
  run_stdout_full workflows/deploy.lua --env dev
  all_applied_and_said_once "No space left on device"
}

# A failed run keeps its own exit status; the lost output is still said.
test_closed_stdout_keeps_a_failures_exit_status() {
  fault_project
  add_migration 20240101000001_bad "SELEC 1;"
  run_stdout_closed workflows/deploy.lua --env dev --json
  assert_exit 1
  assert_err_contains "could not write to stdout (Broken pipe)"
  run_stdout_closed workflows/deploy.lua --env nowhere
  assert_exit 2
}

# Progress lines reach a file as each migration ends: a kill -9 in the
# middle (CI logs are files) still leaves the lines of what was applied.
test_progress_lines_reach_a_file_before_the_run_ends() {
  fault_project
  fault_migration 20240101000001_a
  fault_migration 20240101000002_b
  slow_migration 20240101000003_slow
  deploy_until_it_sleeps
  kill -9 "$BG_PID"
  wait_stallrun
  assert_exit 137
  assert_out_contains "Deploying 3 migration(s) to dev:"
  grep -qE '^  \+ 20240101000001_a \.+ ok' "$CASE_TMP/out" || fail "no progress line for 20240101000001_a"
  grep -qE '^  \+ 20240101000002_b \.+ ok' "$CASE_TMP/out" || fail "no progress line for 20240101000002_b"
  assert_invariant
}

# io.write, io.stdout:write, io.stderr:write and io.output():write are
# redacted as print is, and an output error there does not stop the script
# (a script that asserts on it would otherwise end in the middle).
test_io_write_is_redacted_and_never_fails_the_script() {
  new_project
  sed -i "s|^url = postgresql:///\([^?]*\)?|url = postgresql://postgres:Sentinel-Io-8@/\1?|" "$PROJECT/stallmig.ini"
  psql_q "CREATE TABLE t (name text)" >/dev/null
  cat >"$PROJECT/writes.lua" <<'LUA'
-- writes.lua — writes a password every way io can
local db = require("stallmig.db")
local conn <close> = db.connect("dev")
assert(io.write("io.write Sentinel-Io-8 postgresql://app:Hidden-1@db/x\n"))
assert(io.stdout:write("stdout ", "Sentinel-Io-8", " ", 42, "\n") == io.stdout)
assert(io.stderr:write("stderr Sentinel-Io-8\n") == io.stderr)
assert(io.output():write("output Sentinel-Io-8\n"))
conn:exec("INSERT INTO t VALUES ('written')")
LUA
  run_stallrun writes.lua --env dev
  assert_exit 0
  assert_not_contains "Sentinel"
  assert_not_contains "Hidden-1"
  assert_out_contains "io.write *** postgresql://app:***@db/x"
  assert_out_contains "stdout *** 42"
  assert_out_contains "output ***"
  assert_err_contains "stderr ***"
  run_stdout_full writes.lua --env dev
  assert_exit 1
  assert_err_contains "could not write to stdout (No space left on device)"
  assert_not_contains "Sentinel"
  assert_eq 2 "$(psql_q "SELECT count(*) FROM t")" "the script went on after the failed writes"
}

# no_raw_control — neither stream holds a byte a terminal would act on
# (a C0 control but newline and tab, DEL, or a UTF-8 C1 control).
no_raw_control() {
  local stream
  for stream in out err; do
    ! LC_ALL=C grep -qP '[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]' "$CASE_TMP/$stream" ||
      fail "raw control characters on std$stream: $(od -c "$CASE_TMP/$stream" | head -n 20)"
  done
}

test_control_characters_in_folder_names_are_shown_escaped() {
  fault_project
  # refused (a control character): the error names it, escaped
  fault_migration $'20240101000001_a\e]0;owned\a\e[2J'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 2
  assert_err_contains 'migrations/20240101000001_a\x1b]0;owned\x07\x1b[2J: the folder name contains a control character'
  no_raw_control
  rm -r "$PROJECT/migrations"/20240101000001_a*
  # a newline in a name cannot start a line of its own
  fault_migration $'20240101000001_a\nstallrun: all good'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 2
  assert_err_contains 'migrations/20240101000001_a\x0astallrun: all good: the folder name contains a control character'
  assert_eq 0 "$(grep -c '^stallrun: all good' "$CASE_TMP/err")" "a line started by the folder name"
  rm -r "$PROJECT/migrations"/20240101000001_a*
  # allowed (UTF-8, an 8-bit CSI in it): warned about, applied, its
  # progress line escaped; with --json the document stays valid JSON
  fault_migration $'20240101000001_a\xc2\x9b2J'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_err_contains 'warning: migrations/20240101000001_a\u009b2J: name is not'
  assert_out_contains '  + 20240101000001_a\u009b2J .'
  no_raw_control
  assert_invariant
  fault_migration $'20240101000002_b\xc2\x85'
  run_stallrun workflows/deploy.lua --env dev --json
  assert_exit 0
  assert_eq True "$(json_get "['applied'][0]['name'] == '20240101000002_b\\u0085'")" "the name in the JSON document"
  no_raw_control
}

# --help lists a project's own workflows by their first line: escaped too.
test_control_characters_in_a_workflows_description_are_shown_escaped() {
  new_project
  mkdir -p "$PROJECT/workflows"
  printf -- '-- release.lua \xe2\x80\x94 ships it\033]0;owned\007\033[2J\n' >"$PROJECT/workflows/release.lua"
  run_stallrun --help
  assert_exit 0
  assert_out_contains 'workflows/release.lua  ships it\x1b]0;owned\x07\x1b[2J'
  no_raw_control
}

# A server's message (a NOTICE, an error quoting the file) is escaped too.
test_control_characters_in_server_messages_are_shown_escaped() {
  fault_project
  add_migration 20240101000001_notice "DO \$\$ BEGIN RAISE NOTICE E'look \\x1b]0;owned\\x07here'; END \$\$;"
  add_migration 20240101000002_fails "SELECT E'\\x1b[2J'::int;"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_err_contains 'look \x1b]0;owned\x07here'
  assert_err_contains 'invalid input syntax for type integer: "\x1b[2J"'
  no_raw_control
}
