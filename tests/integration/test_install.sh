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
