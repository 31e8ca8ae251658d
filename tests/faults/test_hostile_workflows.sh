# Hostile workflow scripts: a runtime error or an endless loop leaves no
# transaction behind; every host function given the wrong arguments raises a
# Lua error and never crashes. (Syntax errors, tracebacks and strict globals
# are in tests/integration/test_errors.sh.)

# write_workflow NAME BODY — $PROJECT/NAME.lua that opens a transaction on
# dev, inserts a row into t, then runs BODY.
write_workflow() {
  cat >"$PROJECT/$1.lua" <<LUA
-- $1.lua — a hostile workflow (tests/faults)
local db = require("stallmig.db")
local conn <close> = db.connect("dev")
local tx <close> = conn:transaction()
conn:exec("INSERT INTO t VALUES ('$1')")
io.stderr:write("in the transaction\n")
$2
LUA
}

# wait_for_text FILE TEXT — up to 30 s for TEXT to appear in FILE.
wait_for_text() {
  for _ in $(seq 1 300); do grep -qF "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  fail "no [$2] in $1 after 30 s"
}

# stops PID — waits up to 30 s for PID to end; sets RC to its exit status.
stops() {
  for _ in $(seq 1 300); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$1" 2>/dev/null; then kill -9 "$1"; fail "still running 30 s after the signal"; fi
  RC=0
  wait "$1" || RC=$?
}

no_transaction_left() {
  assert_eq 0 "$(psql_q "SELECT count(*) FROM t")" "the row of an unfinished transaction stayed"
  assert_eq 0 "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
    AND application_name LIKE 'stallrun %' AND state LIKE 'idle in transaction%'")" "a session holds a transaction"
}

test_runtime_error_inside_a_transaction_rolls_it_back() {
  new_project
  psql_q "CREATE TABLE t (name text)" >/dev/null
  write_workflow boom 'local nothing = nil
return nothing.field'
  run_stallrun boom.lua --env dev
  assert_exit 1
  assert_err_contains "boom.lua:8: attempt to index a nil value"
  no_transaction_left
}

# Decision: no instruction budget; an endless loop is stopped with Ctrl-C
# (SIGINT) or SIGTERM, and the transaction it held is rolled back.
test_endless_loop_stops_on_sigint_and_sigterm() {
  new_project
  psql_q "CREATE TABLE t (name text)" >/dev/null
  write_workflow spin 'while true do end'
  local pid signal want
  for signal in INT TERM; do
    (cd "$PROJECT" && exec "$STALLRUN" spin.lua --env dev) >"$CASE_TMP/out" 2>"$CASE_TMP/err" </dev/null &
    pid=$!
    wait_for_text "$CASE_TMP/err" "in the transaction"
    sleep 0.2
    kill -$signal "$pid"
    want=$([ $signal = INT ] && echo 130 || echo 143)
    stops "$pid"
    assert_eq "$want" "$RC" "exit status after SIG$signal"
    assert_err_contains "stallrun: interrupted by SIG$signal"
    ! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$CASE_TMP/err" || fail "sanitizer report"
    no_transaction_left
  done
}

# A pattern that backtracks for ever runs inside one C call (string.find),
# where Lua's hook never runs, so the interruption cannot be raised there:
# SIGWATCH_DEADLINE (30 s) after SIGTERM stallrun stops anyway, and the
# server rolls back the transaction the script held.
test_sigterm_stops_a_pattern_matching_bomb() {
  new_project
  psql_q "CREATE TABLE t (name text)" >/dev/null
  write_workflow bomb 'io.stderr:write("matching\n")
return string.find(string.rep("a", 100000), string.rep(".-", 20) .. "b")'
  (cd "$PROJECT" && exec "$STALLRUN" bomb.lua --env dev) >"$CASE_TMP/out" 2>"$CASE_TMP/err" </dev/null &
  local pid=$!
  wait_for_text "$CASE_TMP/err" "matching"
  sleep 0.5                          # inside string.find by now
  kill -TERM "$pid"
  for _ in $(seq 1 900); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; fail "still running 90 s after SIGTERM"; fi
  RC=0
  wait "$pid" || RC=$?
  assert_eq 143 "$RC" "exit status after SIGTERM"
  assert_err_contains "stallrun: the run has not ended 30 s after SIGTERM"
  ! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$CASE_TMP/err" || fail "sanitizer report"
  for _ in $(seq 1 50); do   # the server notices the dropped connection
    [ "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'stallrun bomb%'")" = 0 ] && break
    sleep 0.1
  done
  no_transaction_left
}

# A script that catches the interruption with pcall and goes on: the second
# Ctrl-C only cancels again (cleanup is not cut short), the third ends
# stallrun at once; the server rolls the transaction back.
test_third_sigint_stops_a_script_that_swallows_the_first() {
  new_project
  psql_q "CREATE TABLE t (name text)" >/dev/null
  write_workflow swallow 'while true do pcall(function() while true do end end) end'
  (cd "$PROJECT" && exec "$STALLRUN" swallow.lua --env dev) >"$CASE_TMP/out" 2>"$CASE_TMP/err" </dev/null &
  local pid=$!
  wait_for_text "$CASE_TMP/err" "in the transaction"
  kill -INT "$pid"
  sleep 1
  kill -0 "$pid" 2>/dev/null || fail "the first SIGINT was not swallowed: the test proves nothing"
  kill -INT "$pid"
  wait_for_text "$CASE_TMP/err" "still cleaning up"
  kill -0 "$pid" 2>/dev/null || fail "the second SIGINT ended stallrun: it should only cancel again"
  kill -INT "$pid"
  stops "$pid"
  assert_eq 130 "$RC" "exit status after the third SIGINT"
  assert_err_contains "stallrun: interrupted again; stopping now, without cleanup"
  for _ in $(seq 1 50); do   # the server notices the dropped connection
    [ "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'stallrun swallow%'")" = 0 ] && break
    sleep 0.1
  done
  no_transaction_left
}

# Every function of every stallmig.* module and every method of a connection,
# a transaction and a scan, called with tables, nil, huge numbers, NaN, an
# unknown environment, a 1 MB string, a function, a coroutine, the wrong self,
# and after close: each returns or raises, none crashes (ASan: make check-asan).
test_every_host_function_survives_wrong_arguments() {
  new_project
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  run_stallrun "$REPO/tests/faults/api_wrong_types.lua" --env dev
  assert_exit 0
  local calls
  calls=$(grep -a -oE '^calls: [0-9]+' "$CASE_TMP/out" | cut -d' ' -f2)
  [ "${calls:-0}" -ge 1000 ] || fail "only ${calls:-0} calls were made"
  ! grep -a '^accepted a table' "$CASE_TMP/out" || fail "a host function accepted a table for a string (above)"
  assert_eq "" "$(psql_q "SELECT to_regclass('a')")" "a junk call applied a migration"
}

test_restore_replace_refuses_a_file_that_is_not_a_backup() {
  new_project
  psql_q "CREATE TABLE t (name text); INSERT INTO t VALUES ('keep')" >/dev/null
  printf 'CREATE TABLE t (name text);\n' >"$PROJECT/not-a-dump.sql"
  mkdir "$PROJECT/a-folder"
  for backup in not-a-dump.sql a-folder; do
    run_stallrun workflows/restore.lua --env dev --backup "$backup" --replace --yes
    assert_exit 1
    assert_err_contains "stallrun: $backup is not a backup pg_restore can read"
    assert_err_contains "nothing was changed"
    assert_err_contains "hint: name a .dump file taken by stallrun"
    assert_eq "keep" "$(psql_q "SELECT name FROM t")" "the database was emptied"
  done
}

# error() with a table whose metamethods raise, loop or return junk: the
# report reads it raw (a metamethod run outside a protected call aborted the
# process with "PANIC: unprotected error").
test_hostile_error_objects_are_reported_not_crashed_on() {
  new_project
  local -a bodies=(
    'error(setmetatable({}, {__index = function() error("boom") end}))'
    'error(setmetatable({}, {__tostring = function() error("boom") end}))'
    'error(setmetatable({}, {__tostring = function() return {} end}))'
    'error(setmetatable({}, {__index = function() while true do end end, __newindex = function() while true do end end}))'
    'error({message = {}, hint = {}})'
  )
  local body
  for body in "${bodies[@]}"; do
    printf -- '-- raise.lua — a hostile error object\n%s\n' "$body" >"$PROJECT/raise.lua"
    run_stallrun raise.lua --env dev
    assert_exit 1
    assert_err_contains "stallrun: the workflow raised a table without a message string"
    assert_err_contains "raise.lua:2: in main chunk"
  done
  printf -- '-- raise.lua — a plain table\nerror(setmetatable({kind = "config", message = "plain", hint = "do this"}, {__index = error}))\n' >"$PROJECT/raise.lua"
  run_stallrun raise.lua --env dev
  assert_exit 2
  assert_err_contains "stallrun: plain"
  assert_err_contains "hint: do this"
}

# files.read (push --file, seeds, down.sql) on a device or a FIFO: refused
# before reading, not a memory-filling read or a wait for ever.
test_push_file_that_is_a_device_or_fifo() {
  new_project
  printf '#!/bin/sh\nexec timeout 60 %q "$@"\n' "$STALLRUN" >"$CASE_TMP/stallrun-timeout"
  chmod +x "$CASE_TMP/stallrun-timeout"
  STALLRUN="$CASE_TMP/stallrun-timeout"
  mkfifo "$PROJECT/proto.sql"
  local file
  for file in /dev/zero proto.sql; do
    run_stallrun workflows/push.lua --env dev --file "$file"
    assert_exit 2                                   # a usage error, as any unreadable --file
    assert_err_contains "stallrun: cannot read $file: it is not a regular file"
  done
  assert_eq 0 "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'stallrun push%'")"
}
