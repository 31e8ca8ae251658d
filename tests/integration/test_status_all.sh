# status --env all: one matrix, unreachable environments shown as such.

test_status_matrix_across_environments() {
  new_project
  STAGING_URL=$(new_db staging)
  printf '\n[env.staging]\nurl = %s\nprotected = false\n[env.prod]\nurl = postgresql://nobody@127.0.0.1:1/prod\n' \
    "$STAGING_URL" >>"$PROJECT/stallmig.ini"
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  run_stallrun workflows/deploy.lua --env staging
  add_migration 20240102000000_b 'CREATE TABLE b (id int);'
  run_stallrun workflows/deploy.lua --env dev
  add_migration 20240103000000_c 'SELECT 1/0;'
  run_stallrun workflows/deploy.lua --env dev
  run_stallrun workflows/status.lua --env all
  assert_exit 1
  grep -qE '^20240101000000_a +applied +applied +unreachable' <<<"$OUT" || fail "row a: $OUT"
  grep -qE '^20240102000000_b +applied +pending +unreachable' <<<"$OUT" || fail "row b: $OUT"
  grep -qE '^20240103000000_c +failed +pending +unreachable' <<<"$OUT" || fail "row c: $OUT"
  assert_out_contains "prod: unreachable (cannot connect to prod: no server is accepting connections"
  run_stallrun workflows/status.lua --env all --json
  assert_eq "applied pending" "$(json_get "['migrations'][1]['states']['dev']") $(json_get "['migrations'][1]['states']['staging']")"
  run_stallrun workflows/deploy.lua --env all
  assert_exit 2
  assert_err_contains "this workflow takes one environment, not --env all"
}
