# The change gate (conn:begin_change): the runbook's rules hold below every
# script. Each case of the issue "The runbook enforced below every script"
# is here: a script that skips a step is refused, and nothing is written.

# dev (unprotected), staging (protected, backup) and prod (protected, backup,
# promote_from = staging), each on its own new database; two migrations, the
# second dropping a column.
gate_project() {
  new_project
  STAGING_URL=$(new_db staging)
  PROD_URL=$(new_db prod)
  cat >>"$PROJECT/stallmig.ini" <<INI

[env.staging]
url = $STAGING_URL
backup = true

[env.prod]
url = $PROD_URL
backup = true
promote_from = staging
INI
  add_migration 20240101000000_users 'CREATE TABLE users (id int PRIMARY KEY, nickname text);'
  export STAGING_URL PROD_URL
}

# with_values URL — 500 users with a nickname each (the data a DROP COLUMN loses).
with_values() {
  psql_q "INSERT INTO users SELECT g, 'nick ' || g FROM generate_series(1, 500) g" "$1" >/dev/null
}

add_drop_nickname() {
  add_migration 20240102000000_drop_nickname 'ALTER TABLE users DROP COLUMN nickname;'
}

applied_names() {   # applied_names URL -> "a,b"
  psql_q "SELECT coalesce(string_agg(name, ',' ORDER BY id), '') FROM stallmig.migrations WHERE outcome = 'applied'" "$1"
}

backups_of() { ls "$PROJECT/backups/$1" 2>/dev/null | wc -l; }

# 1. The dev loop on prod (backup = true, promote_from = staging) is refused
#    by the host, before it connects: nothing applied, no backup.
test_dev_loop_on_a_protected_environment_exits_3() {
  gate_project
  CI=true run_stallrun workflows/dev.lua --env prod --yes
  assert_exit 3
  assert_err_contains "dev is dev-only work, and prod is protected"
  assert_eq "" "$(psql_q "SELECT to_regnamespace('stallmig')" "$PROD_URL")" "dev.lua wrote to prod"
  assert_eq 0 "$(backups_of prod)"
  # a script that declares itself dev-only cannot then change a protected database
  cat >"$PROJECT/sneaky.lua" <<'LUA'
local ctx = ...
local guard = require("stallmig.guard")
guard.dev_only("dev")
local conn <close> = require("stallmig.db").connect("prod")
local change <close> = conn:begin_change("deploy")
LUA
  CI=true run_stallrun sneaky.lua --yes
  assert_exit 3
  assert_err_contains "sneaky is dev-only work, and prod is protected: deploy on prod is refused"
}

# 2. A ten-line release script with the old calls (confirm, allow_writes,
#    the library's apply) applies nothing to prod.
test_release_script_with_the_old_calls_applies_nothing() {
  gate_project
  run_stallrun workflows/deploy.lua --env dev
  add_drop_nickname
  cat >"$PROJECT/release.lua" <<'LUA'
local ctx = ...
local db, guard = require("stallmig.db"), require("stallmig.guard")
local migrations, history, apply = require("stallmig.migrations"), require("stallmig.history"), require("stallmig.apply")
local conn <close> = db.connect(ctx.env)
guard.confirm(conn, "release")
conn:allow_writes("release")
local found = migrations.discover(ctx.config)
local plan = migrations.plan(found, history.read(conn))
for _, m in ipairs(plan.pending) do migrations.load(m, found) apply.run(conn, m, ctx.env) end
LUA
  CI=true run_stallrun release.lua --env prod --yes
  assert_exit 3
  assert_err_contains "ad hoc SQL needs the run's --allow-adhoc-sql --reason TEXT"
  assert_eq "" "$(psql_q "SELECT to_regclass('users')" "$PROD_URL")" "the script applied a migration"
  assert_eq 0 "$(backups_of prod)"
}

# The same runbook through the gate, one step left out at a time: each is
# refused, naming the call to make, before anything is written.
test_a_script_that_skips_a_step_is_refused_naming_the_call() {
  gate_project
  run_stallrun workflows/deploy.lua --env staging --yes
  assert_exit 0
  local step skip expected
  while IFS='|' read -r skip expected; do
    [ -n "$skip" ] || continue
    {
      echo 'local ctx = ...'
      echo 'local conn <close> = require("stallmig.db").connect(ctx.env)'
      echo 'local change <close> = conn:begin_change("release")'
      for step in review check 'confirm("release")' backup; do
        [ "$step" = "$skip" ] || echo "change:$step"
      done
      echo 'for _, m in ipairs(change:plan().pending) do change:apply(m.name) end'
    } | sed -E 's/^change:(review|check|backup)$/change:\1()/' >"$PROJECT/release.lua"
    CI=true run_stallrun release.lua --env prod --yes
    [ "$STATUS" = 3 ] || fail "skipping $skip: expected exit 3, got $STATUS"
    assert_err_contains "$expected"
    assert_eq "" "$(psql_q "SELECT to_regclass('users')" "$PROD_URL")" "skipping $skip applied something"
  done <<'STEPS'
review|call change:review() first
confirm("release")|call change:confirm(what) before it
backup|call change:backup() before it
STEPS
  assert_eq 0 "$(backups_of prod)" "a refused script took a backup"
  # with every step it works (check is optional: apply runs it)
  printf 'local ctx = ...\nlocal conn <close> = require("stallmig.db").connect(ctx.env)\nlocal change <close> = conn:begin_change("release")\nchange:review()\nchange:confirm("release")\nchange:backup()\nfor _, m in ipairs(change:plan().pending) do change:apply(m.name) end\n' >"$PROJECT/release.lua"
  CI=true run_stallrun release.lua --env prod --yes
  assert_exit 0
  assert_eq "20240101000000_users" "$(applied_names "$PROD_URL")"
  assert_eq 1 "$(backups_of prod)"
  assert_eq "release|release: applied 1 of 1 pending migration(s); backed up to" \
    "$(psql_q "SELECT action || '|' || split_part(detail, ' backups/', 1) FROM stallmig.audit" "$PROD_URL")"
}

# 3. A wrapper that lowers the settings in the tables it was handed and runs
#    deploy.lua: the host reads its own configuration.
test_a_wrapper_cannot_switch_off_backup_or_promotion() {
  gate_project
  cat >"$PROJECT/wrapper.lua" <<'LUA'
local ctx = ...
local env = ctx.config.environments[ctx.env]
env.backup, env.promote_from, env.protected = false, nil, false
local deploy = assert(loadfile(ctx.root .. "/workflows/deploy.lua", "t"))
return deploy(ctx)
LUA
  CI=true run_stallrun wrapper.lua --env prod --yes
  assert_exit 3
  assert_err_contains "prod only takes migrations staging has applied; 1 are not:"
  assert_eq "" "$(psql_q "SELECT to_regclass('users')" "$PROD_URL")"
  run_stallrun workflows/deploy.lua --env staging --yes
  CI=true run_stallrun wrapper.lua --env prod --yes
  assert_exit 0
  assert_eq 1 "$(backups_of prod)" "the wrapper's deploy took no backup"
  assert_eq "deploy|wrapper|" "$(psql_q "SELECT action || '|' || workflow || '|' || coalesce(overrides, '') FROM stallmig.audit" "$PROD_URL")"
}

# 4. An applied migration whose file was edited is never applied again, by
#    any call: the host compares its own hash of the file.
test_an_edited_applied_migration_is_not_run_again() {
  gate_project
  run_stallrun workflows/deploy.lua --env dev
  printf '\nCREATE TABLE extra (id int);\n' >>"$PROJECT/migrations/20240101000000_users/migration.sql"
  cat >"$PROJECT/again.lua" <<'LUA'
local ctx = ...
local conn <close> = require("stallmig.db").connect(ctx.env)
local change <close> = conn:begin_change("again")
change:apply("20240101000000_users")
LUA
  run_stallrun again.lua --env dev
  assert_exit 1
  assert_err_contains "1 applied migration(s) were edited since they were applied"
  cat >"$PROJECT/again.lua" <<'LUA'
local ctx = ...
local migrations, apply = require("stallmig.migrations"), require("stallmig.apply")
local conn <close> = require("stallmig.db").connect(ctx.env)
local found = migrations.discover(ctx.config)
local m = migrations.load(found[1], found)
apply.run(conn, m, ctx.env)
LUA
  run_stallrun again.lua --env dev
  assert_exit 3
  assert_err_contains "stallmig"
  assert_eq "" "$(psql_q "SELECT to_regclass('extra')")" "the edited file ran"
  assert_eq 1 "$(psql_q "SELECT count(*) FROM stallmig.migrations")" "a new history row"
  run_stallrun workflows/status.lua --env dev
  assert_out_contains "modified"
}

# 5. What verify says loses data, the gate refuses on a protected
#    environment; allowed in the file, or by --accept-data-loss --reason.
test_data_loss_the_review_measures_is_refused_on_protected() {
  gate_project
  run_stallrun workflows/deploy.lua --env staging --yes
  with_values "$STAGING_URL"
  add_drop_nickname
  run_stallrun workflows/verify.lua --env staging
  assert_exit 1
  assert_out_contains "the column contains 500 non-null value(s) that would be lost"
  assert_out_contains "deploy refuses it on staging"
  CI=true run_stallrun workflows/deploy.lua --env staging --yes
  assert_exit 3
  assert_err_contains "staging is protected, and the review found data that 1 pending migration(s) would lose there"
  assert_err_contains "20240102000000_drop_nickname: DROP COLUMN public.users.nickname (line 1): the column contains 500 non-null value(s) that would be lost"
  assert_eq 500 "$(psql_q "SELECT count(nickname) FROM users" "$STAGING_URL")"
  assert_eq 1 "$(backups_of staging)" "a refused deploy took a backup"
  CI=true run_stallrun workflows/deploy.lua --env staging --yes --accept-data-loss
  assert_exit 2
  CI=true run_stallrun workflows/deploy.lua --env staging --yes --accept-data-loss --reason "nickname unused since v2"
  assert_exit 0
  assert_err_contains "data loss accepted: nickname unused since v2 (--accept-data-loss)"
  assert_eq "--accept-data-loss (reason: nickname unused since v2)" \
    "$(psql_q "SELECT overrides FROM stallmig.audit ORDER BY id DESC LIMIT 1" "$STAGING_URL")"
}

test_data_loss_allowed_in_the_file_with_a_reason_passes() {
  gate_project
  run_stallrun workflows/deploy.lua --env staging --yes
  with_values "$STAGING_URL"
  add_migration 20240102000000_drop_nickname $'-- stallmig:allow drop-column: nicknames moved to profiles in 20231201\nALTER TABLE users DROP COLUMN nickname;\n'
  CI=true run_stallrun workflows/deploy.lua --env staging --yes
  assert_exit 0
  assert_eq "20240101000000_users,20240102000000_drop_nickname" "$(applied_names "$STAGING_URL")"
}

# The review judges the real target: a whole history onto a new, empty
# protected database is not refused for data it does not hold.
test_a_whole_history_onto_an_empty_protected_database_is_not_refused() {
  gate_project
  add_drop_nickname
  add_migration 20240103000000_drop_legacy $'DROP TABLE IF EXISTS legacy;\nTRUNCATE users;\n'
  add_migration 20240104000000_drop_users 'DROP TABLE users;'
  CI=true run_stallrun workflows/deploy.lua --env staging --yes
  assert_exit 0
  assert_eq 4 "$(psql_q "SELECT count(*) FROM stallmig.migrations WHERE outcome = 'applied'" "$STAGING_URL")"
}

# 6. A laptop whose dev URL leads to the prod-marked database (no alias to
#    see: DATABASE_URL is not set): doubt refuses the deploy, --yes or not.
test_dev_url_reaching_the_prod_marked_database_is_refused() {
  gate_project
  # dev's url is prod's database; prod's url is not known here (DATABASE_URL unset)
  python3 - "$PROJECT/stallmig.ini" "$PROD_URL" <<'PY'
import sys
path, url = sys.argv[1:]
text = open(path).read().split("[env.staging]")[0]
head, sep, rest = text.partition("url = ")
open(path, "w").write(head + sep + url + "\n" + rest.split("\n", 1)[1])
PY
  psql_q "CREATE SCHEMA stallmig; CREATE TABLE stallmig.identity (environment text NOT NULL,
    protected boolean NOT NULL, system_identifier text, database_oid bigint, stamped_by text NOT NULL,
    stamped_at timestamptz NOT NULL DEFAULT now(), restamped boolean NOT NULL DEFAULT false);
    INSERT INTO stallmig.identity VALUES ('prod', true, NULL,
      (SELECT oid FROM pg_database WHERE datname = current_database()), 'test')" "$PROD_URL" >/dev/null
  CI=true run_stallrun workflows/deploy.lua --env dev --yes
  assert_exit 3
  assert_err_contains "deploy on dev is refused: dev reaches a database marked as belonging to prod (protected)"
  assert_eq "" "$(psql_q "SELECT to_regclass('users')" "$PROD_URL")"
}

# 10. Seeding is dev-only work: refused on prod even after confirmation and
#     --allow-adhoc-sql.
test_seed_from_a_script_is_refused_on_protected() {
  gate_project
  printf 'INSERT INTO users VALUES (1, %s);\n' "'seeded'" >"$PROJECT/seed.sql"
  sed -i 's|^migrations = migrations$|migrations = migrations\nseed = seed.sql|' "$PROJECT/stallmig.ini"
  run_stallrun workflows/deploy.lua --env staging --yes
  run_stallrun workflows/deploy.lua --env prod --yes
  assert_exit 0
  cat >"$PROJECT/seedit.lua" <<'LUA'
local ctx = ...
local guard = require("stallmig.guard")
local conn <close> = require("stallmig.db").connect(ctx.env)
guard.confirm(conn, "seed")
conn:allow_writes("seed prod")
require("stallmig.seed").run(conn, ctx)
LUA
  CI=true run_stallrun seedit.lua --env prod --yes --allow-adhoc-sql --reason "test"
  assert_exit 3
  assert_err_contains "seedit is dev-only work, and prod is protected"
  assert_eq 0 "$(psql_q "SELECT count(*) FROM users" "$PROD_URL")"
}

# A backup that fails writes nothing: no migration, no marker, no audit row.
test_a_failed_backup_writes_nothing() {
  gate_project
  mkdir -p "$PROJECT/backups"
  : >"$PROJECT/backups/staging"                   # a file where the folder should be
  CI=true run_stallrun workflows/deploy.lua --env staging --yes
  assert_exit 1
  assert_err_contains "the backup of staging failed, so nothing was changed"
  assert_eq "" "$(psql_q "SELECT to_regnamespace('stallmig')" "$STAGING_URL")" "something was written"
  assert_eq "" "$(psql_q "SELECT to_regclass('users')" "$STAGING_URL")"
}

# --no-backup works only with --reason, and the audit row names it.
test_no_backup_needs_a_reason_and_is_recorded() {
  gate_project
  CI=true run_stallrun workflows/deploy.lua --env staging --yes --no-backup
  assert_exit 2
  assert_err_contains "--no-backup needs --reason TEXT"
  assert_eq "" "$(psql_q "SELECT to_regclass('users')" "$STAGING_URL")"
  CI=true run_stallrun workflows/deploy.lua --env staging --yes --no-backup --reason "disk full, INC-9"
  assert_exit 0
  assert_err_contains "no backup taken: disk full, INC-9 (--no-backup)"
  assert_eq 0 "$(backups_of staging)"
  assert_eq "--no-backup (reason: disk full, INC-9)" "$(psql_q "SELECT overrides FROM stallmig.audit" "$STAGING_URL")"
}

# Migrations are applied in order, and only what is pending.
test_apply_in_order_only() {
  gate_project
  add_migration 20240102000000_b 'CREATE TABLE b (id int);'
  cat >"$PROJECT/order.lua" <<'LUA'
local ctx = ...
local conn <close> = require("stallmig.db").connect(ctx.env)
local change <close> = conn:begin_change("order")
change:apply(ctx.args[1])
LUA
  run_stallrun order.lua --env dev 20240102000000_b
  assert_exit 3
  assert_err_contains "the pending migrations are applied in order, and the next one is 20240101000000_users, not 20240102000000_b"
  run_stallrun order.lua --env dev 20240101000000_users
  assert_exit 0
  run_stallrun order.lua --env dev 20240101000000_users
  assert_exit 3
  assert_err_contains "the next one is 20240102000000_b, not 20240101000000_users"
}

# The gate classifies every pending file before the first one runs and
# reads each again when its turn comes: a file edited in between is refused,
# and nothing of it (or after it) is applied.
test_a_pending_file_edited_after_the_check_is_refused() {
  gate_project
  add_migration 20240102000000_b 'CREATE TABLE b (id int);'
  cat >"$PROJECT/edit.lua" <<'LUA'
local ctx = ...
local conn <close> = require("stallmig.db").connect(ctx.env)
local change <close> = conn:begin_change("edit")
change:check()                       -- every pending file read and parsed
local f = assert(io.open(ctx.config.migrations .. "/20240102000000_b/migration.sql", "a"))
f:write("\nCREATE TABLE sneaked_in (id int);\n")
f:close()
for _, m in ipairs(change:plan().pending) do change:apply(m.name) end
LUA
  run_stallrun edit.lua --env dev
  assert_exit 1
  assert_err_contains "20240102000000_b/migration.sql changed while stallrun was running"
  assert_eq "20240101000000_users" "$(psql_q "SELECT string_agg(name, ',') FROM stallmig.migrations")" "only the file before it is applied"
  assert_eq "" "$(psql_q "SELECT coalesce(to_regclass('b')::text, '') || coalesce(to_regclass('sneaked_in')::text, '')")" "the edited file ran"
}

# Capturing a prototype (create --from-diff) is dev-only work.
test_create_from_diff_on_protected_is_refused() {
  gate_project
  run_stallrun workflows/create.lua --name capture-prod --from-diff --env prod
  assert_exit 3
  assert_err_contains "create is dev-only work, and prod is protected"
  [ "$(ls "$PROJECT/migrations" | wc -l)" = 1 ] || fail "a migration folder was created"
}

# A rollback is a change too: its down.sql is reviewed where protected.
test_rollback_that_loses_data_on_protected_is_refused() {
  gate_project
  printf 'DROP TABLE users;\n' >"$PROJECT/migrations/20240101000000_users/down.sql"
  run_stallrun workflows/deploy.lua --env staging --yes
  with_values "$STAGING_URL"
  CI=true run_stallrun workflows/rollback.lua --env staging --steps 1 --yes
  assert_exit 3
  assert_err_contains "staging is protected, and the review found data that the down.sql of 20240101000000_users would lose there"
  assert_err_contains "DROP TABLE public.users (line 1): 500 row(s) would be discarded"
  assert_eq 1 "$(backups_of staging)" "a refused rollback took a backup"
  assert_eq 1 "$(psql_q "SELECT count(*) FROM stallmig.audit" "$STAGING_URL")" "a refused rollback wrote an audit row"
  assert_eq 500 "$(psql_q "SELECT count(*) FROM users" "$STAGING_URL")"
  CI=true run_stallrun workflows/rollback.lua --env staging --steps 1 --yes --accept-data-loss --reason "staging is reloaded nightly"
  assert_exit 0
  assert_eq "" "$(psql_q "SELECT to_regclass('users')" "$STAGING_URL")"
  assert_eq "t|--accept-data-loss (reason: staging is reloaded nightly)" \
    "$(psql_q "SELECT detail LIKE '%; rolled back 20240101000000_users%', overrides FROM stallmig.audit WHERE action = 'rollback'" "$STAGING_URL" | tr '\n' '|' | sed 's/|$//')"
}

# 7. Only the host writes the stallmig schema: a script's UPDATE of the
#    marker, or a history row of its own, is refused on any environment.
test_a_script_cannot_write_the_hosts_tables() {
  gate_project
  run_stallrun workflows/deploy.lua --env staging --yes
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  local sql env
  for sql in "UPDATE stallmig.identity SET environment = 'prod', protected = true" \
      "INSERT INTO stallmig.migrations (name, checksum, started_at, applied_by, environment, mode, outcome) VALUES ('x', 'y', now(), 'me', 'dev', 'transactional', 'applied')" \
      "DELETE FROM stallmig.audit" "SET search_path = stallmig; DELETE FROM identity" \
      "DO \$\$ BEGIN DELETE FROM stallmig.identity; END \$\$" "DROP SCHEMA stallmig CASCADE"; do
    for env in dev staging; do
      printf 'local ctx = ...\nlocal conn <close> = require("stallmig.db").connect("%s")\nrequire("stallmig.guard").confirm(conn, "x")\nconn:allow_writes("x")\nconn:exec([==[%s]==])\n' "$env" "$sql" >"$PROJECT/w.lua"
      run_stallrun w.lua --yes --allow-adhoc-sql --reason test
      [ "$STATUS" = 3 ] || fail "not refused on $env: $sql (exit $STATUS)"
      assert_err_contains "the stallmig schema is the host's, and this SQL writes to it"
    done
  done
  assert_eq "dev|f|1" "$(psql_q "SELECT environment, protected, (SELECT count(*) FROM stallmig.migrations) FROM stallmig.identity")"
  assert_eq "staging|1" "$(psql_q "SELECT environment, (SELECT count(*) FROM stallmig.migrations) FROM stallmig.identity" "$STAGING_URL")"
  # a database marked as another's is read-only for scripts: the marker cannot be edited back
  psql_q "UPDATE stallmig.identity SET environment = 'prod', protected = true" >/dev/null
  printf 'local ctx = ...\nlocal conn <close> = require("stallmig.db").connect("dev")\nconn:exec("UPDATE stallmig.identity SET environment = %s")\n' "'dev'" >"$PROJECT/w.lua"
  run_stallrun w.lua
  assert_exit 3
  assert_eq "prod" "$(psql_q "SELECT environment FROM stallmig.identity")"
  # reading the host's tables is fine
  printf 'local ctx = ...\nlocal conn <close> = require("stallmig.db").connect("dev")\nprint(conn:query("SELECT count(*) AS n FROM stallmig.migrations")[1].n)\n' >"$PROJECT/w.lua"
  run_stallrun w.lua
  assert_exit 0
  assert_out_contains "1"
}

# The gate's Lua half is the host's: a workflow that requires it is told so.
test_a_workflow_cannot_load_the_gates_lua_half() {
  new_project
  printf 'require("stallmig.gate")\n' >"$PROJECT/g.lua"
  run_stallrun g.lua --env dev
  assert_exit 2
  assert_err_contains "stallmig.gate is the change gate's own half"
}

# The deploy lock is held while a change is open and gone once it closes,
# after an apply that failed too: the gate holds its key twice (the guard
# at the end of each migration gives one hold back and takes it again), and
# the session that goes on after the change holds no hold of it.
test_the_deploy_lock_is_held_while_a_change_is_open_and_released_after() {
  gate_project
  add_migration 20240102000000_broken 'CREATE TABLE broken (id int); SELECT 1/0;'
  cat >"$PROJECT/locks.lua" <<'LUA'
local ctx = ...
local conn <close> = require("stallmig.db").connect(ctx.env)
local held = "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
do
  local change <close> = conn:begin_change("locks")
  print("open " .. conn:query(held)[1].n)
  change:apply("20240101000000_users")
  print("after apply " .. conn:query(held)[1].n)
  print(pcall(change.apply, change, "20240102000000_broken") and "applied" or "failed")
  change:close()
end
print("closed " .. conn:query(held)[1].n)
LUA
  run_stallrun locks.lua --env dev
  assert_exit 0
  assert_out_contains "open 1"
  assert_out_contains "after apply 1"
  assert_out_contains "failed"
  assert_out_contains "closed 0"
  assert_eq "20240101000000_users" "$(applied_names "$DB_URL")"
}
