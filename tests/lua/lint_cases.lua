-- lint_cases.lua — stallmig.lint on SQL that must and must not trigger each
-- rule (run by tests/integration/test_lint.sh through stallrun; no server).
-- Arguments: a folder with a good team rule, then folders with broken ones.
-- Every failed expectation prints "FAIL case: why"; exit 1 if any failed.
local ctx = ...
local sql = require("stallmig.sql")
local lint = require("stallmig.lint")

local rules = lint.rules({})
local failures, cases = 0, 0

local function expect(name, ok, why)
  cases = cases + 1
  if not ok then
    failures = failures + 1
    print("FAIL " .. name .. ": " .. why)
  end
end

-- A migration as migrations.load makes it, from SQL text (the real sql.script).
local function migration(text, i)
  if text:sub(1, 3) == "\239\187\191" then text = text:sub(4) end
  local script = sql.script(text)
  return { name = string.format("2026010100%04d_case", i), file = "migrations/case" .. i .. "/migration.sql",
    content = text, script = script, mode = script.mode }
end

-- Lints one text, or a list of texts (the pending migrations of one run).
local function run(texts, opts, with_rules)
  if type(texts) == "string" then texts = { texts } end
  local state, findings, targets = lint.context(opts), {}, {}
  for i, text in ipairs(texts) do
    local f, t = lint.check(migration(text, i), with_rules or rules, state)
    table.move(f, 1, #f, #findings + 1, findings)
    table.move(t, 1, #t, #targets + 1, targets)
  end
  return findings, targets
end

local function of_rule(findings, id)
  local out = {}
  for _, f in ipairs(findings) do
    if f.rule == id then out[#out + 1] = f end
  end
  return out
end

local function listing(findings)
  local lines = {}
  for _, f in ipairs(findings) do
    lines[#lines + 1] = "  " .. f.rule .. " " .. f.severity .. " " .. f.line .. ":" .. f.column .. " " .. f.message
  end
  return #lines > 0 and "\n" .. table.concat(lines, "\n") or " (no findings)"
end

local function fires(id, name, texts, opts, severity)
  local findings = run(texts, opts)
  local mine = of_rule(findings, id)
  expect(id .. " fires on " .. name, #mine > 0, "no finding of " .. id .. " in:" .. listing(findings))
  if severity and mine[1] then
    expect(id .. " severity on " .. name, mine[1].severity == severity,
      "severity " .. mine[1].severity .. ", expected " .. severity)
  end
  return mine
end

local function quiet(id, name, texts, opts)
  local findings = run(texts, opts)
  expect(id .. " quiet on " .. name, #of_rule(findings, id) == 0, id .. " fired:" .. listing(of_rule(findings, id)))
end

local snapshot = { tables = { ["public.users"] = { columns = {
  email = { type = "character varying(200)" }, id = { type = "bigint" }, bio = { type = "text" },
  price = { type = "numeric(10,2)" }, code = { type = "character varying(20)" },
  created_at = { type = "timestamp with time zone" },
} } } }
local known = { schema = snapshot }

-- For each rule: SQL that fires it (the first is also wrapped in a string, a
-- comment and a function body, where it must not fire), and SQL that must not.
local spec = {
  ["drop-table"] = {
    fire = { "DROP TABLE users;", "DROP TABLE IF EXISTS billing.invoices CASCADE;" },
    quiet = { "CREATE TABLE users (id int); DROP TABLE users;", { "CREATE TABLE t (id int);", "DROP TABLE t;" },
      "DROP VIEW users;" },
  },
  ["drop-column"] = {
    fire = { "ALTER TABLE users DROP COLUMN bio;", "ALTER TABLE users ADD COLUMN x int, DROP COLUMN bio;" },
    quiet = { "CREATE TABLE users (id int, bio text); ALTER TABLE users DROP COLUMN bio;",
      "ALTER TABLE users ADD COLUMN bio2 text; ALTER TABLE users DROP COLUMN bio2;" },
  },
  ["drop-schema"] = {
    fire = { "DROP SCHEMA billing CASCADE;" },
    quiet = { "CREATE SCHEMA billing; DROP SCHEMA billing;" },
  },
  ["truncate"] = {
    fire = { "TRUNCATE bookings;", "TRUNCATE TABLE a, b RESTART IDENTITY;" },
    quiet = { "CREATE TABLE bookings (id int); TRUNCATE bookings;" },
  },
  ["delete-without-where"] = {
    fire = { "DELETE FROM bookings;", "WITH x AS (SELECT 1) DELETE FROM bookings USING x;",
      "WITH gone AS (DELETE FROM sessions RETURNING id) SELECT count(*) FROM gone;" },
    quiet = { "DELETE FROM bookings WHERE id = 1;", "CREATE TABLE bookings (id int); DELETE FROM bookings;" },
  },
  ["update-without-where"] = {
    fire = { "UPDATE users SET bio = '';", "WITH u AS (UPDATE users SET bio = '' RETURNING id) INSERT INTO log SELECT id FROM u;" },
    quiet = { "UPDATE users SET bio = '' WHERE bio IS NULL;", "CREATE TABLE users (bio text); UPDATE users SET bio = '';" },
  },
  ["narrowing-type"] = {
    fire = { "ALTER TABLE users ALTER COLUMN email TYPE varchar(20);" },
    quiet = { "ALTER TABLE users ALTER COLUMN email TYPE text;", "ALTER TABLE users ALTER COLUMN id TYPE bigint;",
      "CREATE TABLE users (email text); ALTER TABLE users ALTER COLUMN email TYPE varchar(20);",
      "ALTER TABLE users ADD COLUMN nick text; ALTER TABLE users ALTER COLUMN nick TYPE varchar(5);" },
  },
  ["drop-type"] = {
    fire = { 'DROP TYPE "Role";', "DROP DOMAIN email_address CASCADE;" },
    quiet = { "CREATE TYPE mood AS ENUM ('sad', 'ok'); DROP TYPE mood;", "DROP FUNCTION f();" },
  },
  ["rename-table"] = {
    fire = { "ALTER TABLE users RENAME TO members;" },
    quiet = { "CREATE TABLE users (id int); ALTER TABLE users RENAME TO members;", "ALTER INDEX a RENAME TO b;" },
  },
  ["rename-column"] = {
    fire = { "ALTER TABLE users RENAME COLUMN bio TO about;", "ALTER TABLE users RENAME bio TO about;" },
    quiet = { "CREATE TABLE users (bio text); ALTER TABLE users RENAME COLUMN bio TO about;",
      "ALTER TABLE users ADD COLUMN b text; ALTER TABLE users RENAME COLUMN b TO c;" },
  },
  ["set-not-null"] = {
    fire = { "ALTER TABLE users ALTER COLUMN bio SET NOT NULL;" },
    quiet = { "CREATE TABLE users (bio text); ALTER TABLE users ALTER COLUMN bio SET NOT NULL;",
      "ALTER TABLE users ALTER COLUMN bio DROP NOT NULL;" },
  },
  ["change-column-type"] = {
    fire = { "ALTER TABLE users ALTER COLUMN id TYPE bigint;", "ALTER TABLE users ALTER bio SET DATA TYPE varchar(10);" },
    quiet = { "CREATE TABLE users (id int); ALTER TABLE users ALTER COLUMN id TYPE bigint;" },
  },
  ["index-not-concurrent"] = {
    fire = { "CREATE INDEX users_email_idx ON users (email);", "CREATE UNIQUE INDEX ON public.users (lower(email));",
      "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);", "ALTER TABLE users ADD PRIMARY KEY (id);" },
    quiet = { "CREATE INDEX CONCURRENTLY users_email_idx ON users (email);",
      "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_idx;",
      "CREATE TABLE t (id int); CREATE INDEX ON t (id);", { "CREATE TABLE t (id int);", "CREATE INDEX ON t (id);" } },
  },
  ["constraint-not-valid"] = {
    fire = { "ALTER TABLE bookings ADD CONSTRAINT bookings_user_fkey FOREIGN KEY (user_id) REFERENCES users (id);",
      "ALTER TABLE bookings ADD CONSTRAINT positive CHECK (price > 0);" },
    quiet = { "ALTER TABLE bookings ADD CONSTRAINT f FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;",
      "ALTER TABLE bookings ADD CONSTRAINT positive CHECK (price > 0) NOT VALID;",
      "ALTER TABLE bookings VALIDATE CONSTRAINT positive;",
      "CREATE TABLE bookings (price int); ALTER TABLE bookings ADD CHECK (price > 0);" },
  },
  ["volatile-default"] = {
    fire = { "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();",
      "ALTER TABLE users ADD COLUMN r float8 DEFAULT random();",
      "ALTER TABLE users ADD COLUMN seen timestamptz NOT NULL DEFAULT clock_timestamp();",
      "ALTER TABLE users ADD COLUMN n bigserial;" },
    quiet = { "ALTER TABLE users ADD COLUMN created_at timestamptz DEFAULT now();",
      "ALTER TABLE users ADD COLUMN created_at timestamptz DEFAULT current_timestamp;",
      "ALTER TABLE users ADD COLUMN active boolean NOT NULL DEFAULT true;",
      "CREATE TABLE users (id int); ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();" },
  },
  ["set-not-null-scan"] = {
    fire = { "ALTER TABLE users ALTER COLUMN bio SET NOT NULL;",
      "ALTER TABLE users ADD CONSTRAINT c CHECK (bio IS NOT NULL) NOT VALID; ALTER TABLE users ALTER COLUMN bio SET NOT NULL;" },
    quiet = {
      "ALTER TABLE users ADD CONSTRAINT c CHECK (bio IS NOT NULL) NOT VALID; ALTER TABLE users VALIDATE CONSTRAINT c;"
        .. " ALTER TABLE users ALTER COLUMN bio SET NOT NULL;",
      { "ALTER TABLE users ADD CONSTRAINT c CHECK (bio IS NOT NULL);", "ALTER TABLE users ALTER COLUMN bio SET NOT NULL;" },
      "CREATE TABLE users (bio text); ALTER TABLE users ALTER COLUMN bio SET NOT NULL;" },
  },
  ["rewrite-table"] = {
    fire = { "VACUUM FULL users;", "CLUSTER users USING users_pkey;", "ALTER TABLE users ALTER COLUMN bio TYPE jsonb USING bio::jsonb;",
      "VACUUM (FULL, ANALYZE);" },
    quiet = { "VACUUM users;", "VACUUM ANALYZE users;", "ALTER TABLE users ALTER COLUMN bio TYPE text;",
      "CREATE TABLE users (id int); CLUSTER users USING i;" },
  },
  ["lock-table"] = {
    fire = { "LOCK TABLE users;", "LOCK TABLE users IN SHARE MODE;" },
    quiet = { "LOCK TABLE users IN ACCESS SHARE MODE;", "CREATE TABLE users (id int); LOCK TABLE users;" },
  },
  ["lock-timeout"] = {
    fire = { "ALTER TABLE users ADD COLUMN phone text;", "SET lock_timeout = 0; CREATE INDEX ON users (bio);",
      "ALTER TABLE users ADD COLUMN phone text; SET LOCAL lock_timeout = '5s';",
      "SET LOCAL lock_timeout = '5s';\nCREATE INDEX CONCURRENTLY i ON users (bio);\nDROP TABLE users;" },
    quiet = { "SET LOCAL lock_timeout = '5s'; ALTER TABLE users ADD COLUMN phone text;",
      "SET lock_timeout TO '2s'; DROP TABLE users;", "CREATE TABLE t (id int); ALTER TABLE t ADD COLUMN x int;",
      "CREATE INDEX CONCURRENTLY i ON users (bio);", "INSERT INTO users (id) VALUES (1);" },
  },
  ["partial-migration"] = {
    fire = { "CREATE INDEX CONCURRENTLY i ON users (bio);\nALTER TABLE users ADD COLUMN phone text;",
      "BEGIN; CREATE TABLE a (id int); COMMIT; CREATE TABLE b (id int);",
      "-- stallmig:no-transaction\nCREATE TABLE a (id int); CREATE TABLE b (id int);" },
    quiet = { "CREATE INDEX CONCURRENTLY i ON users (bio);", "BEGIN; CREATE TABLE a (id int); CREATE TABLE b (id int); COMMIT;",
      "CREATE TABLE a (id int); CREATE TABLE b (id int);" },
  },
  ["session-set"] = {
    fire = { "SET statement_timeout = '1min'; CREATE TABLE a (id int);", "SET search_path TO app, public;" },
    quiet = { "SET LOCAL statement_timeout = '1min';",
      "SET lock_timeout = '1s';\nCREATE INDEX CONCURRENTLY i ON users (bio);", "SHOW search_path;" },
  },
  ["advisory-unlock"] = {
    fire = { "SELECT pg_advisory_unlock_all();", "SELECT pg_catalog.pg_advisory_unlock(42);",
      "DO $$ BEGIN PERFORM 1; END $$; SELECT pg_advisory_unlock_shared(1);" },
    quiet = { "SELECT pg_advisory_xact_lock(42);", "SELECT pg_advisory_lock(42);",
      "CREATE FUNCTION f() RETURNS void LANGUAGE sql AS 'SELECT 1';" },
  },
  ["add-column-not-null"] = {
    fire = { "ALTER TABLE users ADD COLUMN phone text NOT NULL;", "ALTER TABLE users ADD COLUMN n int PRIMARY KEY;" },
    quiet = { "ALTER TABLE users ADD COLUMN phone text NOT NULL DEFAULT '';", "ALTER TABLE users ADD COLUMN phone text;",
      "CREATE TABLE users (id int); ALTER TABLE users ADD COLUMN phone text NOT NULL;",
      "DELETE FROM users; ALTER TABLE users ADD COLUMN phone text NOT NULL;",
      "ALTER TABLE users ADD COLUMN n bigserial NOT NULL;",
      "ALTER TABLE users ADD COLUMN n int GENERATED ALWAYS AS IDENTITY;" },
  },
  ["drop-index-not-concurrent"] = {
    fire = { "DROP INDEX users_email_idx;", "DROP INDEX IF EXISTS app.a, app.b;" },
    quiet = { "DROP INDEX CONCURRENTLY users_email_idx;", "CREATE TABLE t (id int); CREATE INDEX t_idx ON t (id); DROP INDEX t_idx;" },
  },
  ["identifier-too-long"] = {
    fire = { 'CREATE INDEX "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" ON users (email);', "ALTER TABLE users ADD COLUMN aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa int;" },
    quiet = { 'CREATE INDEX "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" ON users (email);', "SELECT 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';" },
  },
  ["drop-database"] = {
    fire = { "DROP DATABASE legacy;" },
    quiet = { "CREATE DATABASE legacy;" },
  },
  ["drop-not-null"] = {
    fire = { "ALTER TABLE users ALTER COLUMN bio DROP NOT NULL;" },
    quiet = { "CREATE TABLE users (bio text NOT NULL); ALTER TABLE users ALTER COLUMN bio DROP NOT NULL;",
      "ALTER TABLE users ALTER COLUMN bio SET NOT NULL;" },
  },
  ["domain-constraint"] = {
    fire = { "ALTER DOMAIN email ADD CONSTRAINT has_at CHECK (VALUE LIKE '%@%');" },
    quiet = { "ALTER DOMAIN email ADD CONSTRAINT has_at CHECK (VALUE LIKE '%@%') NOT VALID;",
      "CREATE DOMAIN email AS text; ALTER DOMAIN email ADD CONSTRAINT has_at CHECK (VALUE LIKE '%@%');" },
  },
  ["transaction-block"] = {
    fire = { "BEGIN;\nCREATE TABLE a (id int);", "BEGIN; BEGIN; CREATE TABLE a (id int); COMMIT;",
      "BEGIN;\nCREATE INDEX CONCURRENTLY i ON users (bio);\nCOMMIT;" },
    quiet = { "BEGIN; CREATE TABLE a (id int); COMMIT;", "CREATE INDEX CONCURRENTLY i ON users (bio);",
      "BEGIN; CREATE TABLE a (id int); COMMIT; BEGIN; CREATE TABLE b (id int); COMMIT;" },
  },
}

local function wrappers(text)
  local flat = text:gsub("\n", " ")
  return {
    ["a string literal"] = "SELECT '" .. text:gsub("'", "''") .. "';",
    ["an E'' string"] = "SELECT E'" .. text:gsub("\\", "\\\\"):gsub("'", "\\'") .. "';",
    ["a line comment"] = "-- " .. flat .. "\nSELECT 1;",
    ["a block comment"] = "/* " .. text .. " */ SELECT 1;",
    ["a dollar-quoted function body"] = "CREATE FUNCTION lint_case() RETURNS void LANGUAGE plpgsql AS $body$\nBEGIN\n"
      .. text .. "\nEND\n$body$;",
  }
end

for _, rule in ipairs(rules) do
  local s = spec[rule.id]
  expect("spec for " .. rule.id, s ~= nil, "no trigger/no-trigger cases for this rule")
  if s then
    for i, text in ipairs(s.fire) do fires(rule.id, "fire case " .. i, text, known) end
    for where, text in pairs(wrappers(s.fire[1])) do quiet(rule.id, where, text, known) end
    for i, text in ipairs(s.quiet) do quiet(rule.id, "quiet case " .. i, text, known) end
  end
end

-- every file in lua/stallmig/lint/ is a built-in rule that lint.rules loads
do
  local listed = {}
  for _, name in ipairs(lint.builtin) do listed[name .. ".lua"] = true end
  for _, entry in ipairs(require("stallmig.files").list(ctx.root .. "/lua/stallmig/lint")) do
    expect("built-in rule file " .. entry.name, listed[entry.name] == true, "not in lint.builtin")
  end
end

-- ---- severities and messages ------------------------------------------

local data_loss = { "drop-table", "drop-column", "drop-schema", "truncate", "delete-without-where",
  "update-without-where", "narrowing-type", "drop-type" }
for _, id in ipairs(data_loss) do
  expect("severity of " .. id, rules[id] and rules[id].severity == "error", "data loss is an error")
end
for _, rule in ipairs(rules) do
  expect("fields of " .. rule.id, #rule.explanation > 10 and #rule.suggestion > 10 and not rule.explanation:find("\n"),
    "explanation and suggestion are one line each")
end

local narrowing = {
  { "ALTER TABLE users ALTER COLUMN email TYPE varchar(20);", "varchar(200) -> varchar(20): values longer than 20" },
  { "ALTER TABLE users ALTER COLUMN bio TYPE integer USING bio::integer;", "text -> integer: text values that are not valid integer" },
  { "ALTER TABLE users ALTER COLUMN id TYPE int;", "bigint -> integer: values outside the range of integer" },
  { "ALTER TABLE users ALTER COLUMN price TYPE numeric(10,1);", "digits after the point are rounded from 2 to 1" },
  { "ALTER TABLE users ALTER COLUMN created_at TYPE date;", "the time of day is lost" },
}
for _, c in ipairs(narrowing) do
  local mine = fires("narrowing-type", c[1], c[1], known, "error")
  expect("narrowing message for " .. c[1], mine[1] and mine[1].message:find(c[2], 1, true) ~= nil,
    "wanted [" .. c[2] .. "] in: " .. (mine[1] and mine[1].message or "nothing"))
end
quiet("narrowing-type", "a wider varchar", "ALTER TABLE users ALTER COLUMN code TYPE varchar(50);", known)
quiet("narrowing-type", "a wider numeric", "ALTER TABLE users ALTER COLUMN price TYPE numeric(12,2);", known)
quiet("rewrite-table", "a wider varchar (no rewrite)", "ALTER TABLE users ALTER COLUMN code TYPE varchar(50);", known)
fires("rewrite-table", "a narrower varchar (rewrite)", "ALTER TABLE users ALTER COLUMN code TYPE varchar(10);", known)
fires("narrowing-type", "an unknown current type", "ALTER TABLE users ALTER COLUMN email TYPE varchar(20);", nil, "warning")
quiet("narrowing-type", "an unknown current type to text", "ALTER TABLE users ALTER COLUMN email TYPE text;")
do
  local mine = fires("narrowing-type", "a second ALTER in the run, type known from the first",
    { "ALTER TABLE orders ALTER COLUMN note TYPE varchar(100);", "ALTER TABLE orders ALTER COLUMN note TYPE varchar(10);" })
  expect("narrowing-type knows the type from the first ALTER", #mine == 2 and mine[2].severity == "error"
    and mine[2].message:find("varchar(100) -> varchar(10)", 1, true) ~= nil, listing(mine))
end
fires("lock-timeout", "the environment's lock_timeout is 0", "DROP TABLE users;", { lock_timeout = "0" })
quiet("lock-timeout", "the environment sets lock_timeout", "DROP TABLE users;", { lock_timeout = "5s" })
expect("lock-timeout once per file", #of_rule(run("ALTER TABLE a ADD x int; ALTER TABLE b ADD y int;"), "lock-timeout") == 1,
  "reported more than once")
expect("lock-timeout again in the next file", #of_rule(run({ "ALTER TABLE a ADD x int;", "ALTER TABLE b ADD y int;" }),
  "lock-timeout") == 2, "not reported for each file")

-- ---- findings and targets: fields ----------------------------------------

do
  local findings = run("CREATE TABLE a (id int);\n\n  DROP TABLE users;\n")
  local f = of_rule(findings, "drop-table")[1] or {}
  expect("finding fields", f.file == "migrations/case1/migration.sql" and f.line == 3 and f.column == 3
    and f.statement == 2 and f.severity == "error" and f.message == "DROP TABLE users deletes the table and all its rows"
    and f.explanation == rules["drop-table"].explanation and f.suggestion == rules["drop-table"].suggestion
    and f.suppressed == nil, "got" .. listing({ f.rule and f or { rule = "?", severity = "?", line = 0, column = 0, message = "" } }))
end

local function find_target(targets, want)
  for _, t in ipairs(targets) do
    local all = true
    for k, v in pairs(want) do
      if t[k] ~= v then all = false end
    end
    if all then return t end
  end
  return nil
end

local function describe_targets(targets)
  local out = {}
  for _, t in ipairs(targets) do
    out[#out + 1] = string.format("  %s %s.%s.%s %s new=%s #%d %s", t.action, tostring(t.schema), tostring(t.table),
      tostring(t.column), tostring(t.new_type), tostring(t.new_table), t.statement, tostring(t.what))
  end
  return "\n" .. table.concat(out, "\n")
end

do
  local _, targets = run({
    "CREATE TABLE n (id int);\nCREATE INDEX ON n (id);\nALTER TABLE users ALTER COLUMN email TYPE varchar(20);\n"
      .. "DROP SCHEMA billing;\nDROP TABLE billing.invoices;\nTRUNCATE logs;\nDELETE FROM sessions;\nUPDATE users SET bio = NULL;\n"
      .. "ALTER TABLE users DROP COLUMN bio;\nVACUUM FULL users;\nALTER TABLE users ADD COLUMN tok uuid DEFAULT gen_random_uuid();\n"
      .. "ALTER TABLE users ADD COLUMN tmp int; ALTER TABLE users DROP COLUMN tmp;\nLOCK TABLE users;",
    "CREATE INDEX ON n (id);" })
  local wanted = {
    { action = "lock", table = "n", new_table = true, statement = 2, line = 2, what = "CREATE INDEX without CONCURRENTLY" },
    { action = "alter_type", table = "users", column = "email", new_type = "varchar(20)", new_table = false, statement = 3 },
    { action = "rewrite", table = "users", column = "email", what = "ALTER COLUMN TYPE" },
    { action = "drop_schema", schema = "billing", statement = 4 },
    { action = "drop_table", schema = "billing", table = "invoices", statement = 5 },
    { action = "truncate", table = "logs" }, { action = "delete_all", table = "sessions" },
    { action = "update_all", table = "users" }, { action = "drop_column", table = "users", column = "bio" },
    { action = "rewrite", table = "users", what = "VACUUM FULL" },
    { action = "rewrite", table = "users", column = "tok", what = "ADD COLUMN with a volatile default" },
    { action = "lock", table = "users", what = "LOCK TABLE" },
    { action = "lock", table = "n", new_table = true, statement = 1, line = 1 },
  }
  for _, w in ipairs(wanted) do
    local parts = {}
    for k, v in pairs(w) do parts[#parts + 1] = k .. "=" .. tostring(v) end
    expect("target " .. table.concat(parts, " "), find_target(targets, w) ~= nil, "not among:" .. describe_targets(targets))
  end
  local _, fk_new = run("CREATE TABLE c (u int); ALTER TABLE c ADD FOREIGN KEY (u) REFERENCES users (id);")
  expect("no lock target on the table a new table's foreign key references", find_target(fk_new, { action = "lock", table = "users" }) == nil,
    "a lock target:" .. describe_targets(fk_new))
  expect("lock target on the table an existing table's foreign key references",
    find_target(select(2, run("ALTER TABLE b ADD FOREIGN KEY (u) REFERENCES users (id);")),
      { action = "lock", table = "users", what = "ADD FOREIGN KEY (referenced table)" }) ~= nil, "no lock target for users")
  expect("no target for a column added in the run", find_target(targets, { action = "drop_column", column = "tmp" }) == nil,
    "a drop_column target for tmp")
  expect("no schema for unqualified names", find_target(targets, { action = "truncate" }).schema == nil, "schema set")
end

-- ---- suppression comments --------------------------------------------------

do
  local findings = run("CREATE TABLE a (id int);\n-- stallmig:allow drop-table: replaced by members in 2025-11\nDROP TABLE users;")
  local f = of_rule(findings, "drop-table")[1]
  expect("allow with a reason", f and f.suppressed == "replaced by members in 2025-11", "not suppressed:" .. listing(findings))
  expect("allow with a reason counts nothing", lint.counts(findings).error == 0 and lint.counts(findings).suppressed >= 1,
    "counted")

  findings = run("-- stallmig:allow drop-table\nDROP TABLE users;")
  f = of_rule(findings, "drop-table")[1]
  expect("allow without a reason suppresses nothing", f and f.suppressed == nil, "suppressed")
  local why = of_rule(findings, "allow-without-reason")[1]
  expect("allow without a reason is reported", why and why.line == 1 and why.severity == "warning", listing(findings))
  findings = run("-- stallmig:allow drop-table:   \nDROP TABLE users;")
  expect("allow with an empty reason is reported", #of_rule(findings, "allow-without-reason") == 1, listing(findings))

  findings = run("-- stallmig:allow truncate: not this one\nDROP TABLE users;")
  f = of_rule(findings, "drop-table")[1]
  expect("allow naming another rule", f and f.suppressed == nil, "suppressed")

  findings = run("-- stallmig:allow drop-column, lock-timeout: unused since 2026-01\nALTER TABLE users DROP COLUMN bio;")
  expect("allow naming two rules", #findings == 2 and findings[1].suppressed and findings[2].suppressed, listing(findings))

  findings = run("DROP TABLE a; -- stallmig:allow drop-table: for the next line?\nDROP TABLE b;")
  local n = 0
  for _, x in ipairs(of_rule(findings, "drop-table")) do if not x.suppressed then n = n + 1 end end
  expect("allow at the end of a statement's line is not a line before", n == 2, listing(findings))

  findings = run("-- stallmig:allow drop-tabel: typo\nDROP TABLE users;")
  expect("allow naming an unknown rule", #of_rule(findings, "allow-unknown-rule") == 1
    and of_rule(findings, "drop-table")[1].suppressed == nil, listing(findings))

  findings = run("SELECT '-- stallmig:allow drop-table: in a string';\nDROP TABLE users;")
  expect("allow inside a string is not a comment", of_rule(findings, "drop-table")[1].suppressed == nil, listing(findings))

  findings = run("\239\187\191-- stallmig:allow drop-table: first line\r\nDROP TABLE users;\r\n")
  expect("allow on the first line, CRLF", of_rule(findings, "drop-table")[1] and
    of_rule(findings, "drop-table")[1].suppressed == "first line", listing(findings))
end

-- ---- a team's own rules ------------------------------------------------------

local good, syntax, missing, duplicate, raising = table.unpack(ctx.args)
do
  local team = lint.rules({ lint_rules = good })
  expect("team rule loaded", team["no-enum"] ~= nil and #team == #rules + 1, "rule no-enum not loaded")
  local findings = run("CREATE TYPE mood AS ENUM ('a');", nil, team)
  local f = of_rule(findings, "no-enum")[1]
  expect("team rule fires", f and f.severity == "warning" and f.message == "enum mood: use a lookup table"
    and f.suggestion == "a lookup table with a foreign key", listing(findings))
  quiet("no-enum", "built-in rules only", "CREATE TYPE mood AS ENUM ('a');")
  findings = run("-- stallmig:allow no-enum: decided in ADR 7\nCREATE TYPE mood AS ENUM ('a');", nil, team)
  expect("team rule suppressed", of_rule(findings, "no-enum")[1].suppressed == "decided in ADR 7", listing(findings))
end

local function config_error(name, dir, file_part, message_part)
  local ok, err = pcall(lint.rules, { lint_rules = dir, path = "stallmig.ini" })
  expect(name .. " raises", not ok, "no error")
  if ok then return end
  local message = type(err) == "table" and tostring(err.message) or tostring(err)
  expect(name .. " is kind config", type(err) == "table" and err.kind == "config", "kind " .. tostring(err.kind))
  expect(name .. " names the file", message:find(file_part, 1, true) ~= nil, message)
  expect(name .. " says why", message:find(message_part, 1, true) ~= nil, message)
end
config_error("a team rule with a syntax error", syntax, "/broken.lua", "expected")
config_error("a team rule without check", missing, "/nocheck.lua", "'check' is not a function")
config_error("a team rule reusing a built-in id", duplicate, "/dup.lua", "already used")
config_error("a missing lint_rules folder", good .. "/nonesuch", "/nonesuch", "does not exist")
do
  local team = lint.rules({ lint_rules = raising })
  local ok, err = pcall(run, "CREATE TABLE t (id int);", nil, team)
  expect("a team rule that raises", not ok and type(err) == "table" and err.kind == "config"
    and tostring(err.message):find("/raises.lua", 1, true) ~= nil and tostring(err.message):find("boom", 1, true) ~= nil,
    "got " .. tostring(type(err) == "table" and err.message or err))
end

if failures > 0 then
  print("lint: " .. failures .. " of " .. cases .. " expectations failed")
  return false
end
print("lint: all " .. cases .. " expectations hold")
