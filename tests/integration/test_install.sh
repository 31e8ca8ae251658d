# make install (scripts/install.sh): stallrun on PATH, its library and
# workflows under PREFIX/share/stallmig, found from the installed binary.

test_installed_stallrun_runs_workflows_from_its_prefix() {
  new_project
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  local prefix="$CASE_TMP/prefix"
  # make install PREFIX=... is this script (dry run: nothing built here)
  make -C "$REPO" --no-print-directory -n install PREFIX="$prefix" | grep -qF "scripts/install.sh \"$prefix\"" ||
    fail "make install does not run scripts/install.sh PREFIX"
  "$REPO/scripts/install.sh" "$prefix" "$STALLRUN" >"$CASE_TMP/install.out" 2>&1 ||
    fail "install.sh failed: $(cat "$CASE_TMP/install.out")"
  grep -qF "$prefix/bin is not on your PATH" "$CASE_TMP/install.out" || fail "no word on PATH: $(cat "$CASE_TMP/install.out")"
  [ -x "$prefix/bin/stallrun" ] || fail "no $prefix/bin/stallrun"
  [ -f "$prefix/share/stallmig/lua/stallmig/deploy.lua" ] || fail "no library under share/stallmig"
  [ -f "$prefix/share/stallmig/workflows/deploy.lua" ] || fail "no workflows under share/stallmig"
  # the bare name, as README.md writes it, from a project without workflows/
  STALLRUN=stallrun PATH="$prefix/bin:$PATH" run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_out_contains "+ 20240101000000_a"
  assert_eq a "$(psql_q "SELECT to_regclass('a')")"
  STALLRUN=stallrun PATH="$prefix/bin:$PATH" run_stallrun workflows/status.lua --env dev
  assert_exit 0
  # the installed library is the one used, not this tree's
  printf 'error("the installed copy was loaded")\n' >"$prefix/share/stallmig/lua/stallmig/cli.lua"
  STALLRUN=stallrun PATH="$prefix/bin:$PATH" run_stallrun workflows/status.lua --env dev
  assert_err_contains "the installed copy was loaded"
  # installing again replaces the copy (a file no longer in lua/ is gone)
  touch "$prefix/share/stallmig/lua/stallmig/left_over.lua"
  PATH="$prefix/bin:$PATH" "$REPO/scripts/install.sh" "$prefix" "$STALLRUN" >"$CASE_TMP/install.out" 2>&1 ||
    fail "the second install failed: $(cat "$CASE_TMP/install.out")"
  grep -qF "stallrun is on your PATH" "$CASE_TMP/install.out" || fail "on PATH not seen: $(cat "$CASE_TMP/install.out")"
  [ ! -e "$prefix/share/stallmig/lua/stallmig/left_over.lua" ] || fail "an older file stayed"
  STALLRUN=stallrun PATH="$prefix/bin:$PATH" run_stallrun workflows/status.lua --env dev
  assert_exit 0
  assert_out_contains "dev: 1 applied, 0 pending"
}

# installed_project — new_project with one migration, and stallrun
# installed into $CASE_TMP/prefix by scripts/install.sh: PREFIX, and SHARE
# its library (the copy of lua/ and workflows/ the installed binary runs).
installed_project() {
  new_project
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  PREFIX="$CASE_TMP/prefix"
  "$REPO/scripts/install.sh" "$PREFIX" "$STALLRUN" >"$CASE_TMP/install.out" 2>&1 ||
    fail "install.sh failed: $(cat "$CASE_TMP/install.out")"
  SHARE="$PREFIX/share/stallmig"
}

# run_installed ARGS... — run_stallrun with the installed stallrun.
run_installed() { STALLRUN=stallrun PATH="$PREFIX/bin:$PATH" run_stallrun "$@"; }

# The library and workflows are compiled into the binary (src/lchunks.h),
# but a file is run from its compiled chunk only while its text is the
# text that was compiled: an edit of the same length (one word for
# another), a module the build never saw and a syntax error all behave as
# the text on disk says.
test_an_edited_library_file_is_run_as_edited_not_as_compiled() {
  installed_project
  run_installed workflows/status.lua --env dev
  assert_exit 1                       # status: something is pending
  assert_out_contains "dev: 0 applied, 1 pending"
  # edits of the same length: a word in the workflow's summary, and a
  # library module's first line (a comment) made a statement
  sed -i 's/%d pending,/%d PENDING,/' "$SHARE/workflows/status.lua"
  run_installed workflows/status.lua --env dev
  assert_exit 1
  assert_out_contains "dev: 0 applied, 1 PENDING"
  python3 - "$SHARE/lua/stallmig/status.lua" <<'PY'
import sys
path = sys.argv[1]
lines = open(path, "rb").read().split(b"\n")
lines[0] = (b'error("edited!") --' + b" " * len(lines[0]))[:len(lines[0])]
open(path, "wb").write(b"\n".join(lines))
PY
  cmp -s <(wc -c <"$SHARE/lua/stallmig/status.lua") <(wc -c <"$REPO/lua/stallmig/status.lua") ||
    fail "the edit changed the file's length"
  run_installed workflows/status.lua --env dev
  [ "$STATUS" != 0 ] || fail "the edited module did not run"
  assert_err_contains "lua/stallmig/status.lua:1: edited!"
  # a module the build never saw, required by an edited workflow
  printf 'return { word = "fresh module" }\n' >"$SHARE/lua/stallmig/fresh.lua"
  printf 'print(require("stallmig.fresh").word)\n' >"$SHARE/workflows/fresh.lua"
  run_installed workflows/fresh.lua --env dev
  assert_exit 0
  assert_out_contains "fresh module"
  # a syntax error in an edited module: Lua's own message, with the file and line
  printf 'local broken = \n' >"$SHARE/lua/stallmig/fresh.lua"
  run_installed workflows/fresh.lua --env dev
  [ "$STATUS" != 0 ] || fail "a module with a syntax error loaded"
  assert_err_contains "error loading module 'stallmig.fresh' from file '$PREFIX/bin/../share/stallmig/lua/stallmig/fresh.lua'"
  assert_err_contains "fresh.lua:2:"
}

# begin_change asks the server for the history digest before it makes the
# gate's Lua state, so that the server answers meanwhile. A gate library
# that does not load is refused as before, and the answer is collected:
# the script that caught the error can still use its connection.
test_a_gate_library_that_does_not_load_leaves_the_connection_usable() {
  installed_project
  run_installed workflows/deploy.lua --env dev
  assert_exit 0                       # and the digest is there to be asked for
  printf 'error("gate broken")\n' >"$SHARE/lua/stallmig/gate.lua"
  cat >"$PROJECT/begin.lua" <<'LUA'
local ctx = ...
local migrations = require("stallmig.migrations")
local conn <close> = require("stallmig.db").connect(ctx.env)
local ok, err = pcall(conn.begin_change, conn, { what = "deploy", scan = migrations.scan(ctx.config) })
print("begun", ok, type(err) == "table" and err.message or tostring(err))
conn:exec("CREATE TABLE after_the_refusal (id int)")   -- sent as it is (PQsendQuery)
print("then", conn:query("SELECT to_regclass('after_the_refusal') AS t")[1].t)
LUA
  run_installed begin.lua --env dev
  assert_exit 0
  assert_out_contains "begun	false	cannot load the change gate's library (stallmig.gate)"
  assert_out_contains "gate broken"
  assert_out_contains "then	after_the_refusal"
}
