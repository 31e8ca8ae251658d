# verify.lua: the runbook's review questions answered with evidence from the
# target database (data at risk, rollback plan, a rehearsal), read-only
# unless --rehearse.

# A table of people (5 rows, 2 nicknames, one longer than 4 characters), an
# empty table, and a schema of two tables.
seed_people() {
  psql_q "CREATE TABLE people (id int PRIMARY KEY, name text NOT NULL, nickname text);
    INSERT INTO people SELECT g, 'person ' || g, NULL FROM generate_series(1, 5) g;
    UPDATE people SET nickname = CASE id WHEN 1 THEN 'al' WHEN 2 THEN 'bobby-b' END WHERE id <= 2;
    CREATE TABLE \"Empty Table\" (id int);
    CREATE SCHEMA legacy; CREATE TABLE legacy.a (id int); CREATE TABLE legacy.b (id int);
    INSERT INTO legacy.a SELECT generate_series(1, 3); INSERT INTO legacy.b VALUES (1);" >/dev/null
}

# The evidence module on hand-made targets (what lint.check returns).
evidence_script() {
  cat >"$PROJECT/evidence.lua" <<'LUA'
local ctx = ...
local db = require("stallmig.db")
local evidence = require("stallmig.evidence")
local conn <close> = db.connect(ctx.env)
local env = ctx.config.environments[ctx.env]
local targets = {
  { action = "drop_table", table = "people", line = 1 },
  { action = "truncate", schema = "public", table = "Empty Table", line = 2 },
  { action = "delete_all", table = "people", line = 3 },
  { action = "drop_column", table = "people", column = "nickname", line = 4 },
  { action = "alter_type", table = "people", column = "nickname", new_type = "varchar(4)", line = 5 },
  { action = "drop_schema", schema = "legacy", line = 6 },
  { action = "rewrite", table = "people", line = 7 },
  { action = "drop_table", table = "not_there", line = 8 },
  { action = "drop_table", table = "people", new_table = true, line = 9 },
  { action = "drop_column", table = "people", column = "no_such_column", line = 10 },
}
for _, item in ipairs(evidence.gather(conn, env, targets)) do print(evidence.describe(item)) end
LUA
}

test_evidence_counts_exactly_on_a_seeded_database() {
  new_project
  seed_people
  evidence_script
  run_stallrun evidence.lua --env dev
  assert_exit 0
  assert_out_contains "DROP TABLE public.people (line 1): 5 row(s) would be discarded"
  assert_out_contains "TRUNCATE public.Empty Table (line 2): 0 row(s) would be discarded"
  assert_out_contains "DELETE of every row of public.people (line 3): 5 row(s) would be discarded"
  assert_out_contains "DROP COLUMN public.people.nickname (line 4): the column contains 2 non-null value(s) that would be lost"
  assert_out_contains "type change of public.people.nickname (line 5): text -> varchar(4): the column contains 2 non-null value(s), 1 longer than 4"
  assert_out_contains "DROP SCHEMA legacy (line 6): 2 table(s) holding 4 row(s) would be discarded"
  assert_out_contains "rewrite of public.people (line 7): the table holds 5 row(s), $(psql_q "SELECT pg_size_pretty(pg_total_relation_size('people'))")"
  assert_out_contains "DROP TABLE not_there (line 8): does not exist yet, nothing to lose"
  assert_out_contains "DROP TABLE people (line 9): created in this run, nothing to lose"
  assert_out_contains "DROP COLUMN public.people.no_such_column (line 10): does not exist yet, nothing to lose"
}

test_evidence_uses_catalog_estimates_at_or_above_exact_count_below() {
  new_project
  seed_people
  echo "exact_count_below = 0" >>"$PROJECT/stallmig.ini"
  psql_q "ANALYZE" >/dev/null
  evidence_script
  run_stallrun evidence.lua --env dev
  assert_exit 0
  assert_out_contains "DROP TABLE public.people (line 1): ~5 row(s) would be discarded"
  assert_out_contains "DROP COLUMN public.people.nickname (line 4): the column contains ~2 non-null value(s) that would be lost"
  assert_out_contains "text -> varchar(4): the column contains ~2 non-null value(s), ~1 longer than 4"
  assert_out_contains "DROP SCHEMA legacy (line 6): 2 table(s) holding ~4 row(s) would be discarded"
}
