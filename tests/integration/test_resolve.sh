# resolve.lua: a migration that failed part-way, looked at, and marked.

half_applied() {
  new_project
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  add_migration 20240101000001_half $'-- stallmig:no-transaction\nCREATE TABLE b (id int);\nCREATE TABLE b (id int);\n'
  add_migration 20240101000002_after 'CREATE TABLE d (id int);'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
}

test_resolve_rolled_back_lets_deploy_apply_it_again() {
  half_applied
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_err_contains "stallrun workflows/resolve.lua --env dev --migration 20240101000001_half --rolled-back --reason '...'"
  psql_q "DROP TABLE b" >/dev/null                      # undone by hand
  add_migration 20240101000001_half $'-- stallmig:no-transaction\nCREATE TABLE b (id int);\nCREATE TABLE c (id int);\n'
  run_stallrun workflows/resolve.lua --env dev --migration 20240101000001_half --rolled-back --reason "dropped b by hand"
  assert_exit 0
  assert_out_contains "20240101000001_half is now recorded as rolled back in dev (dropped b by hand)."
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_eq "b|c|d" "$(psql_q "SELECT to_regclass('b') || '|' || to_regclass('c') || '|' || to_regclass('d')")"
  assert_eq "failed,rolled_back,applied" "$(psql_q "SELECT string_agg(outcome, ',' ORDER BY id) FROM stallmig.migrations WHERE name = '20240101000001_half'")"
  assert_eq "resolved by hand: dropped b by hand|$(id -un)@$(hostname)" "$(psql_q "SELECT note || '|' || applied_by FROM stallmig.migrations WHERE outcome = 'rolled_back'")"
  assert_eq 1 "$(psql_q "SELECT count(*) FROM stallmig.audit WHERE action = 'resolve' AND detail = 'resolve: resolved 20240101000001_half as rolled_back: dropped b by hand'")"
}

test_resolve_applied_moves_deploy_past_it() {
  half_applied
  run_stallrun workflows/resolve.lua --env dev --migration 20240101000001_half --applied --reason "b exists, that was all"
  assert_exit 0
  run_stallrun workflows/status.lua --env dev
  [[ "$OUT" =~ 20240101000001_half\ +applied ]] || fail "not applied after resolve --applied"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_eq "d" "$(psql_q "SELECT to_regclass('d')")"
}

test_resolve_refuses_what_is_not_failed_or_not_said() {
  half_applied
  run_stallrun workflows/resolve.lua --env dev --migration 20240101000000_a --applied --reason x
  assert_exit 1
  assert_err_contains "20240101000000_a is applied, not failed: nothing to resolve"
  run_stallrun workflows/resolve.lua --env dev --migration 20240101000001_half --applied
  assert_exit 2
  assert_err_contains "--reason TEXT is required"
  run_stallrun workflows/resolve.lua --env dev --migration 20240101000001_half --applied --rolled-back --reason x
  assert_exit 2
  run_stallrun workflows/resolve.lua --env dev --migration nope --applied --reason x
  assert_exit 1
  assert_err_contains "nope has no history in dev"
}
