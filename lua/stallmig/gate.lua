-- stallmig.gate — the change gate's Lua half. The host (src/lapi_change.c)
-- loads this module into a Lua state of the gate's own and calls it there:
-- a workflow never sees this module, the state it lives in or the tables it
-- holds, so no script can replace a function it relies on or change what it
-- read. The host decides (lock, confirmation, policy, overrides, the order
-- of the steps); this module reads the plan, measures, and runs files.
--
-- Every function works on the change opened by gate.open; the connection is
-- the host's own handle on the workflow's session (it may write the
-- stallmig schema), the config and env tables are built by the host from
-- stallmig.ini.
if not debug.getregistry()["stallmig.gate.host"] then
  error(require("stallmig.error").new("usage", "stallmig.gate is the change gate's own half: the "
    .. "host runs it in a Lua state of its own, and a workflow does not load it",
    { hint = "change a database through conn:begin_change (docs/lua-api.md, \"The change gate\")" }), 0)
end

-- What a no-op deploy needs is loaded at once; the rest when it is used.
local migrations = require("stallmig.migrations")
local history = require("stallmig.history")
local errors = require("stallmig.error")
local sys = require("stallmig.sys")

local gate = {}

local S -- the open change: conn, config, env, found, plan, next, applied, unflushed, failed, review, taken

-- An entry as the gate keeps it once the plan is made, in a table of its
-- own sized for what it holds: size and conventional (read by discover and
-- the plan) are dropped, and empty is kept only when true. A Lua table
-- keeps room for every field it ever had, and a plan has a table for every
-- migration: at 10,000 the eight-field tables alone were 2.6 MB.
local function slim(m)
  local kept = {}
  for key, value in next, m do
    if key ~= "size" and key ~= "conventional" and not (key == "empty" and value == false) then
      kept[key] = value
    end
  end
  return kept
end

-- Every entry of the plan slimmed, in the plan's list and the two that are
-- in its order (the folder's, and what is pending), in one pass: each old
-- table is garbage as soon as its place in all three is taken. A list as
-- long as the plan's holds what it does, in the same order (no applied
-- migration missing from the folder; everything pending, as on a new
-- database): it becomes the plan's list, one array instead of two or three.
local function slim_plan(s)
  local found, pending = s.found, s.plan.pending
  local f, p = 1, 1
  for i, m in ipairs(s.plan.entries) do
    local kept = slim(m)
    s.plan.entries[i] = kept
    if found[f] == m then found[f], f = kept, f + 1 end
    if pending[p] == m then pending[p], p = kept, p + 1 end
  end
  if #s.plan.entries == #found then s.plan.entries = found end
  if #pending == #s.plan.entries then s.plan.pending = s.plan.entries end
end

-- The folder against the history: S.found, S.warnings, S.plan. Reading the
-- plan checks (and parses) every pending file, kilobytes of garbage each
-- beside a plan that grows as it is read: a collection cycle starts when
-- the heap has grown by 10% (the host's 20% let a plan of 10,000 peak
-- megabytes higher), then once in full when the plan is made, so that the
-- workflow's copy of the plan is made where that garbage was. From then on
-- the plan is most of what this state holds, and each migration applied
-- leaves a few kilobytes of garbage: a cycle starts at 5% growth (20% of a
-- plan of 10,000 was 0.8 MB of garbage kept at any time). Collecting
-- continuously while the plan was read (pause 100, step 400) took the
-- client's CPU of an apply-all of 1,000 from 0.2 to 1.0 s for no memory
-- at that size: the pauses cost about 0.07 s there.
local function read_plan(s, scan)
  collectgarbage("setpause", 110)
  local found, warnings = migrations.discover(s.config, scan)
  s.found, s.warnings = found, warnings
  s.plan = migrations.plan(found, history.read(s.conn))
  slim_plan(s)
  collectgarbage("setpause", 105)
  collectgarbage()
end

-- When the digest said the folder is up to date (gate.open's `current`),
-- the plan is read only if a step asks for it: S.plan, S.found or
-- S.warnings are read on their first use.
local Unread = {
  __index = function(s, key)
    if key ~= "plan" and key ~= "found" and key ~= "warnings" then return nil end
    local scan = rawget(s, "scan")
    s.scan = nil
    setmetatable(s, nil)
    read_plan(s, scan)
    return rawget(s, key)
  end,
}

-- The change's plan, after the host took the deploy lock: the folder (the
-- host's own scan, or a new one) against the history. current: the number
-- of migrations, when the host found in the history digest that the folder
-- is exactly what is applied (nothing pending, edited, missing or failed);
-- then no history row is read unless a step needs the plan. Returns how
-- many migrations are pending.
function gate.open(conn, config, env, scan, current)
  S = { conn = conn, config = config, env = env, next = 1, applied = 0, unflushed = 0 }
  if current then
    S.current, S.scan = current, scan
    setmetatable(S, Unread)
    return 0
  end
  read_plan(S, scan)
  return #S.plan.pending
end

-- A pending entry read to run or review: its text (checked against the
-- checksum again) and its statements go in a table of its own that reads
-- the entry through, and are dropped with it, so the entry (kept for the
-- whole change, one for every migration) stays as small as the plan made
-- it. The statements are parsed when first asked for: a transactional
-- migration that succeeds is sent as one text, and its file was parsed
-- once already (migrations.classify).
-- phase: of a phased migration (docs/zero-downtime.md), the section to run
-- ("deploy": expand and backfill, the default; "contract"; "down"): m.content
-- is that section's text (the file's line numbers kept), m.mode its mode,
-- m.phased true. A file without sections is run whole by deploy.
local function loaded(entry, phase)
  migrations.classify(entry, S.found)
  local m = setmetatable({}, { __index = function(m, key)
    if key == "script" then return migrations.parse(m) end
    return entry[key]
  end })
  migrations.read(m, S.found)
  phase = phase or "deploy"
  local sections = require("stallmig.phases").split(m.content, m.file)
  if not sections then
    if phase == "deploy" then return m end
    error(errors.new("failed", m.file .. " has no -- stallmig:" .. phase .. " section", { migration = m.name,
      hint = "docs/zero-downtime.md: a phased migration has -- stallmig:expand, -- stallmig:contract "
        .. "and -- stallmig:down sections" }), 0)
  end
  rawset(m, "content", sections[phase])
  local script = migrations.parse(m)
  rawset(m, "mode", script.mode)
  rawset(m, "reason", script.reason)
  rawset(m, "empty", #script.statements == 0)
  m.phased, m.phase = true, phase
  -- steps (lua/stallmig/steps.lua): CONCURRENTLY, VALIDATE and backfills
  -- alone; not where the file manages its own transactions or says
  -- -- stallmig:no-transaction
  if script.mode == "self-managed" or tostring(script.reason):find("no-transaction", 1, true) then return m end
  local steps = require("stallmig.steps")
  local list = steps.split(script, sections.owner)
  if steps.needed(list) then rawset(m, "mode", "steps"); m.steps = list end
  return m
end

-- ---- what the workflow may see ---------------------------------------------

local ROW_FIELDS = { "id", "outcome", "partial", "mode", "error", "failed_statement", "failed_line" }

local function entry_view(m)
  local v = { name = m.name, state = m.state, checksum = m.checksum, mode = m.mode }
  v.retry, v.out_of_order = m.retry or nil, m.out_of_order or nil   -- only when set: a view stays small
  if m.row then
    v.row = {}
    for _, k in ipairs(ROW_FIELDS) do v.row[k] = m.row[k] end
  end
  return v
end

-- The plan the workflow sees, {pending, counts, total, warnings[, entries]},
-- without its two lists: {counts, total, warnings}, how many are pending,
-- and (with_entries) how many entries there are. The host fills the lists
-- from gate.views, a chunk at a time, so that this state never holds a
-- view of every migration beside the workflow's copy of them. Every entry
-- only when asked (a no-op deploy needs the counts, not a copy of every row).
function gate.plan(with_entries)
  if S.current and not with_entries then
    return { counts = { applied = S.current }, total = S.current, warnings = {} }, 0, nil
  end
  local counts = {}
  for _, m in ipairs(S.plan.entries) do counts[m.state] = (counts[m.state] or 0) + 1 end
  return { counts = counts, total = #S.plan.entries, warnings = S.warnings },
    #S.plan.pending - S.next + 1, with_entries and #S.plan.entries or nil
end

-- Views (copies, so the host's own plan stays as it read it) of `count`
-- entries of the plan's list `which` ("pending": what is still to apply;
-- "entries": every one), from the `first`-th on.
function gate.views(which, first, count)
  local list, offset = S.plan.entries, first - 1
  if which == "pending" then list, offset = S.plan.pending, S.next + first - 2 end
  local out = {}
  for i = offset + 1, math.min(offset + count, #list) do out[#out + 1] = entry_view(list[i]) end
  return out
end

-- ---- checks ----------------------------------------------------------------

-- Raises deploy's refusal when an applied migration was edited or deleted,
-- a failed one may have left part of its work behind, or (the first deploy)
-- the database already holds a schema of its own or another tool's history.
function gate.check_history()
  if S.current then return end   -- the digest: every migration applied as it is, nothing else
  local deploy = require("stallmig.deploy")
  deploy.check_plan(S.plan, S.env)
  deploy.check_first_deploy(S.conn, S.plan, S.env)
end

-- Parses every pending file before the first one runs (a syntax error
-- anywhere applies nothing); migrations.classify also checks that each is
-- the file whose checksum the plan read. Only each one's verdict is kept:
-- its text is read (and checked) again when it runs, so the pending files
-- are never all in memory at once.
function gate.load_pending()
  for i = S.next, #S.plan.pending do migrations.classify(S.plan.pending[i], S.found) end
end

-- The review: lint findings and what each pending migration would lose in
-- this database, and the judgement of each (review.judge).
function gate.review()
  gate.load_pending()
  local lint = require("stallmig.lint")
  local evidence = require("stallmig.evidence")
  local review = require("stallmig.review")
  local snapshot = require("stallmig.snapshot")
  local json = require("stallmig.json")
  local rules = lint.rules(S.config)
  local state = lint.context({ schema = snapshot.read(S.conn), lock_timeout = S.env.lock_timeout })
  local doc = review.new(S.env)
  for i = S.next, #S.plan.pending do
    local m = loaded(S.plan.pending[i])
    local findings, targets = lint.check(m, rules, state)
    local entry = review.add_migration(doc, m, findings, evidence.gather(S.conn, S.env, targets),
      review.down_sql(S.found, m))
    entry.blocking = json.array(review.judge(entry))
  end
  S.review = doc
  return doc
end

-- "name: what it would lose" for every refusal of the last review.
function gate.blocked()
  local out = {}
  for _, entry in ipairs(S.review and S.review.migrations or {}) do
    for _, reason in ipairs(entry.blocking) do out[#out + 1] = entry.name .. ": " .. reason end
  end
  return out
end

-- The pending migrations environment `from` has not applied with the same
-- checksum (sentences); raises kind "refused" when it cannot be read.
function gate.promotion(from)
  local pending = {}
  for i = S.next, #S.plan.pending do pending[#pending + 1] = S.plan.pending[i] end
  return require("stallmig.promotion").missing(S.env, from, pending)
end

-- ---- writing ------------------------------------------------------------------

-- After the host's own books are open (schema, marker, audit, lock).
function gate.begin_writes()
  if S.env.prisma_compat then require("stallmig.prisma").ensure(S.conn) end
end

-- backup = true: a verified backup before the first write (kept for
-- backup_record, which runs once the host has opened its books).
function gate.backup_take()
  S.taken = require("stallmig.backup").take({ config = S.config }, S.env, S.plan)
end

function gate.backup_record()
  local backup = require("stallmig.backup")
  local b = S.taken
  backup.record(S.conn, S.env, b)
  backup.prune({ config = S.config }, S.env, S.env.keep_backups)
  return { path = b.path, file = b.file, checksum = b.checksum, size = b.size, last_migration = b.last_migration }
end

local function refuse(message, hint)
  error(errors.new("refused", message, { hint = hint }), 0)
end

-- The next pending migration, which must be `name`.
local function next_pending(name)
  if S.failed then
    refuse(S.failed .. " failed in this change, so nothing after it is applied",
      "fix it and run the change again (stallrun workflows/status.lua shows the state)")
  end
  local m = S.plan.pending[S.next]
  if m == nil then
    refuse(name .. " is not pending in " .. S.env.name .. ": nothing is left to apply")
  end
  if m.name ~= name then
    refuse("the pending migrations are applied in order, and the next one is " .. m.name .. ", not " .. name,
      "apply change:plan().pending in its order")
  end
  return m
end

-- The lock's guard failed inside the migration's transaction: the file
-- released the deploy lock (pg_advisory_unlock_all()).
local LOCK_RELEASED = "stallmig: the deploy lock was released"

local function lock_released(failed)
  return tostring(failed.server_message or failed.message):find(LOCK_RELEASED, 1, true) ~= nil
end

local function explain_lock_released(failed, m)
  failed.message = string.format("migration %s released stallmig's deploy lock (pg_advisory_unlock_all() "
    .. "or pg_advisory_unlock on its key), so another deploy could have started beside it%s; nothing "
    .. "after it runs", m.name, m.mode == "transactional" and ": it was rolled back, not committed"
    or ": it ran outside one transaction and stays applied")
  failed.hint = "remove the unlock from " .. m.file .. " (the deploy lock is stallmig's; verify flags "
    .. "such statements), then deploy again"
end

-- After a migration outside one transaction: is the lock still held? A
-- failure object when it is not (the migration stays applied: recorded).
local function lock_lost_after(m)
  local ok = pcall(S.conn.query, S.conn, gate.LOCK_GUARD)
  if ok then return nil end
  return errors.new("failed", LOCK_RELEASED, { migration = m.name, server_message = LOCK_RELEASED })
end

-- Commits before the last migration of a change do not wait for their WAL
-- flush (synchronous_commit off; each stays atomic). A migration that runs
-- outside one transaction never starts before they are flushed.
local function flush_commits()
  if S.unflushed == 0 then return end
  S.conn:exec("BEGIN; SELECT txid_current(); COMMIT")   -- waits for the flush that covers them
  S.unflushed = 0
end

-- After the connection was lost: which of this run's migrations the
-- history holds now (read through a new connection, if the server is back),
-- in a sentence; the truth, not what the progress lines said.
local function what_stays()
  -- this run's: the first S.applied of the pending list (kept as a count, not
  -- a list of names: at 10,000 migrations a list is memory for a rare message)
  local applied = {}
  for i = 1, S.applied do applied[i] = S.plan.pending[i].name end
  if #applied == 0 then return "nothing before it was applied in this run" end
  local ok, rows = pcall(function()
    local conn <close> = require("stallmig.db").connect(S.env.name)
    return history.read(conn).latest
  end)
  if not ok then
    local unflushed = S.unflushed
    return string.format("%d migration(s) before it committed in this run%s; the server cannot be "
      .. "read now: stallrun workflows/status.lua shows what stays once it is back, and the next deploy "
      .. "applies what is missing", #applied, unflushed > 0 and string.format(", the last %d of them not yet "
      .. "flushed to disk: if the server crashed they may be lost", unflushed) or "")
  end
  local gone = {}
  for _, name in ipairs(applied) do
    local row = rows[name]
    if not (row and row.outcome == "applied") then gone[#gone + 1] = name end
  end
  if #gone == 0 then
    return string.format("the %d migration(s) before it stay applied (read again from the history after "
      .. "reconnecting)", #applied)
  end
  return string.format("of the %d migration(s) reported ok before it, %d are not in the history after all "
    .. "(committed but not flushed when the server went down): %s; the next deploy applies them again",
    #applied, #gone, table.concat(gone, ", "))
end

-- Where a phase run as steps resumes: the step its last attempt stopped in
-- and, for a backfill, the checkpoint (the last key done).
local RESUMES = { deploy = "failed", contract = "contract_failed" }

local function resume_point(m)
  local row = m.row
  if m.mode ~= "steps" or not migrations.resumable(m, row) or row.outcome ~= RESUMES[m.phase] then return nil end
  return { step = math.max(1, math.min(row.failed_statement or 1, #m.steps)),
    checkpoint = history.checkpoint(S.conn, row.id) }
end

-- The hint of a phase run as steps that failed: run it again, it resumes.
local function resume_hint(failed, m, again)
  if m.mode ~= "steps" or failed.lost then return end
  failed.hint = string.format("each step of %s commits on its own: %s, fix the cause and run %s again: it "
    .. "resumes at step %s", m.name, failed.partial and "the steps before it stay applied" or "nothing of it "
    .. "stays applied", again, tostring(failed.statement or 1))
end

-- apply.run of m, interrupt-protected; lock_retries: a transactional
-- migration that gave up on a lock left nothing behind, so it is tried
-- again after a jittered, growing pause, naming the lock's holder (told).
local function run_retrying(m, run, told)
  local apply, deploy = require("stallmig.apply"), require("stallmig.deploy")
  local interrupt = require("stallmig.interrupt")
  local ok, failed = interrupt.pcall(apply.run, S.conn, m, S.env.name, run)
  local tries = 0
  while ok and failed and failed.sqlstate == "55P03" and m.mode == "transactional"
      and not failed.lost and tries < (S.env.lock_retries or 0) do
    tries = tries + 1
    local pause = math.min(30, 2 ^ (tries - 1)) * (0.5 + math.random())
    local holder = deploy.holder_of(S.conn, m, failed)
    local text = string.format("%s gave up waiting for a lock%s; try %d of %d in %.1fs", m.name,
      holder and (" held by " .. holder) or "", tries + 1, S.env.lock_retries + 1, pause)
    sys.warn(text)                   -- now, not after the wait: said once, kept in `told`
    told[#told + 1] = text
    sys.sleep(pause)
    ok, failed = interrupt.pcall(apply.run, S.conn, m, S.env.name, run)
  end
  return ok, failed
end

-- Applies the next pending migration (which must be `name`) and records it.
-- Returns {name, mode, duration_ms, warnings, durable}; raises the failure,
-- explained as deploy explains it.
function gate.apply(name)
  local deploy = require("stallmig.deploy")
  local indexbuild, interrupt = require("stallmig.indexbuild"), require("stallmig.interrupt")
  local entry = next_pending(name)
  local m = loaded(entry)
  local warnings, told = {}, {}
  local function say(text) warnings[#warnings + 1] = text end
  if m.out_of_order then say(m.name .. " sorts before migrations already applied; applying it now") end
  local dropped = m.row and m.row.outcome ~= "applied" and indexbuild.drop_leftover(S.conn, m, say)
  if m.retry and not dropped and not (m.row and m.row.partial) then
    say(m.name .. " failed before and left nothing behind; trying it again")
  end
  if m.mode ~= "transactional" then flush_commits() end
  local durable = S.next == #S.plan.pending
  local started = sys.clock()
  local run = { durable = durable, prisma = S.env.prisma_compat, guard = gate.LOCK_GUARD }
  if m.phased then   -- the expand: recorded as expanded; Prisma's row waits for the contract
    run.outcome, run.prisma = "expanded", false
    run.settings, run.told, run.resume = S.env, told, resume_point(m)
    if run.resume then say(string.format("%s stopped at step %d of %d; resuming there", m.name, run.resume.step, #m.steps)) end
  end
  local ok, failed = run_retrying(m, run, told)
  if ok and not failed and m.mode ~= "transactional" then failed = lock_lost_after(m) end
  if ok and failed and lock_released(failed) then
    explain_lock_released(failed, m)
  elseif ok and failed then
    indexbuild.remember(S.conn, m, failed)
    if failed.lost then deploy.explain_lost(failed, m, S.applied, S.env, what_stays())
    else deploy.explain_failure(failed, m, S.applied, S.env, S.conn) end
    resume_hint(failed, m, "deploy")
  elseif not ok and interrupt.is(failed) then
    deploy.explain_interrupt(failed, S.conn, m, S.applied, S.env, #S.plan.pending - S.next)
  end
  if not ok or failed then
    S.failed = m.name
    if type(failed) == "table" then
      failed.warnings, failed.told, failed.mode = warnings, told, m.mode
      failed.duration_ms = (sys.clock() - started) * 1000
    end
    error(failed, 0)
  end
  entry.state = m.phased and "expanded" or "applied"
  S.next, S.applied = S.next + 1, S.applied + 1
  -- how many commits since the last one that waited for its flush
  S.unflushed = (durable or m.mode ~= "transactional") and 0 or S.unflushed + 1
  return { name = m.name, mode = m.mode, duration_ms = (sys.clock() - started) * 1000,
    warnings = warnings, told = told, durable = durable }
end

-- ---- the phases of a phased migration (docs/zero-downtime.md) ------------------

-- The migrations whose expand is applied and whose contract is not, in
-- order: {{name, checksum}}.
function gate.expanded()
  local out = {}
  for _, m in ipairs(S.plan.entries) do
    if m.state == "expanded" then out[#out + 1] = { name = m.name, checksum = m.checksum } end
  end
  return out
end

-- The expanded migrations `from` has not completed with the same checksum
-- (sentences); `name` alone when given. Raises kind "refused" when `from`
-- cannot be read.
function gate.promotion_complete(from, name)
  local chosen = {}
  for _, m in ipairs(gate.expanded()) do
    if name == nil or m.name == name then chosen[#chosen + 1] = m end
  end
  return require("stallmig.promotion").missing(S.env, from, chosen, true)
end

-- The first expanded migration, which must be `name` (contracts run in the
-- order the migrations were written).
local function next_expanded(name, doing)
  if S.failed then
    refuse(S.failed .. " failed in this change, so nothing after it runs",
      "fix it and run again (stallrun workflows/status.lua shows the state)")
  end
  local first
  for _, m in ipairs(S.plan.entries) do
    if m.state == "expanded" then first = first or m end
    if m.name == name then
      if m.state ~= "expanded" then
        refuse(name .. " is " .. m.state .. " in " .. S.env.name .. ", not expanded: there is no expand to "
          .. doing, "stallrun workflows/status.lua --env " .. S.env.name .. " shows each migration's state")
      end
      if doing == "complete" and first.name ~= name then
        refuse("expanded migrations are completed in order, and the first is " .. first.name .. ", not " .. name)
      end
      return m
    end
  end
  refuse(name .. " is not a migration in " .. S.env.name)
end

-- Runs one section of an expanded migration and records it: outcome on
-- success, failed_outcome (the migration stays expanded unless the section
-- failed part-way) on failure, explained as deploy explains it.
local function run_section(entry, section, outcome, failed_outcome)
  local deploy = require("stallmig.deploy")
  local m = loaded(entry, section)
  if section == "down" and m.empty then
    refuse(m.file .. " has no SQL under -- stallmig:down, so its expand cannot be undone by abort",
      "write the statements that undo the expand under -- stallmig:down (the file may change only "
      .. "as a new migration once applied: restore the backup, or write a corrective migration)")
  end
  flush_commits()
  local told, started = {}, sys.clock()
  local run = { durable = true, guard = gate.LOCK_GUARD, outcome = outcome, failed_outcome = failed_outcome,
    prisma = section == "contract" and S.env.prisma_compat, settings = S.env, told = told,
    resume = resume_point(m) }
  local ok, failed = run_retrying(m, run, told)
  if ok and failed then
    if failed.lost then deploy.explain_lost(failed, m, 0, S.env, "nothing else ran in this change")
    else deploy.explain_failure(failed, m, 0, S.env, S.conn) end
    failed.hint = (failed.partial and "" or (m.name .. " stays expanded; ")) .. tostring(failed.hint or "")
    resume_hint(failed, m, section == "contract" and "complete.lua" or "abort.lua")
  end
  if not ok or failed then
    S.failed = m.name
    if type(failed) == "table" then failed.told, failed.mode = told, m.mode end
    error(failed, 0)
  end
  return { name = m.name, mode = m.mode, duration_ms = (sys.clock() - started) * 1000, told = told }
end

-- The contract of `name` (the first expanded migration): recorded as
-- applied, with Prisma's row where prisma_compat = true.
function gate.contract(name)
  local entry = next_expanded(name, "complete")
  local r = run_section(entry, "contract", "applied", "contract_failed")
  entry.state = "applied"
  return r
end

-- What a phase of `name` ("contract", or "down" for abort) would lose in
-- this database (review.judge's sentences), asked by the host on a
-- protected environment before it runs: the section is linted on its own
-- and measured against the live data, so an intended drop is said in the
-- file as for any migration.
function gate.phase_review(name, section)
  local m = loaded(next_expanded(name, section == "contract" and "complete" or "abort"), section)
  local lint = require("stallmig.lint")
  local review = require("stallmig.review")
  local findings, targets = lint.check(m, lint.rules(S.config), lint.context())
  local entry = review.add_migration(review.new(S.env), m, findings,
    require("stallmig.evidence").gather(S.conn, S.env, targets), { present = true, file = m.file })
  return review.judge(entry)
end

-- The down section of `name` (expanded, not contracted): recorded as
-- rolled back, so deploy runs its expand again.
function gate.abort(name)
  local entry = next_expanded(name, "abort")
  local r = run_section(entry, "down", "rolled_back", "abort_failed")
  entry.state, entry.row = "pending", nil
  return r
end

-- ---- rollback, resolve, adopt, rehearse ---------------------------------------

local function entry_named(name)
  for _, m in ipairs(S.plan.entries) do if m.name == name then return m end end
  return nil
end

-- The newest applied migration, which must be `name`, with its down.sql read.
local function newest_applied(name)
  local rollback = require("stallmig.rollback")
  local newest = rollback.select(S.plan, 1)[1]
  if newest == nil then refuse("nothing is applied in " .. S.env.name .. ", so nothing can be rolled back") end
  if newest.name ~= name then
    refuse("migrations are rolled back newest first, and the newest applied is " .. newest.name .. ", not " .. name)
  end
  if not newest.down then rollback.load({ newest }, S.found) end
  return newest
end

-- An applied migration (any: a rollback of several is checked before the
-- first runs), with its down.sql read.
local function applied_with_down(name)
  local m = entry_named(name)
  if m == nil or m.state ~= "applied" then refuse(name .. " is not an applied migration in " .. S.env.name) end
  if not m.down then require("stallmig.rollback").load({ m }, S.found) end
  return m
end

-- What the down.sql of `name` would lose here (on a protected environment).
function gate.undo_review(name, protected)
  local m = applied_with_down(name)
  if not protected then return {} end
  local lint = require("stallmig.lint")
  local evidence = require("stallmig.evidence")
  local review = require("stallmig.review")
  local down = { name = m.name, file = S.found.rel .. m.name .. "/down.sql", content = m.down,
    script = m.down_script, mode = m.down_script.mode }
  local findings, targets = lint.check(down, lint.rules(S.config), lint.context())
  local doc = review.new(S.env)
  local entry = review.add_migration(doc, down, findings, evidence.gather(S.conn, S.env, targets),
    { present = true, file = down.file })
  return review.judge(entry)
end

function gate.undo(name)
  local m = newest_applied(name)
  require("stallmig.rollback").undo(S.conn, m, S.env.name, S.env.prisma_compat)
  m.state, m.row = "pending", nil
end

function gate.resolve(name, outcome, reason)
  local m = entry_named(name)
  if m == nil or m.row == nil then
    error(errors.new("failed", name .. " has no history in " .. S.env.name), 0)
  end
  if m.state ~= "failed" then
    error(errors.new("failed", name .. " is " .. m.state .. ", not failed: nothing to resolve"), 0)
  end
  history.resolve(S.conn, m, S.env.name, outcome, reason)
  if S.env.prisma_compat then require("stallmig.prisma").resolved(S.conn, m, outcome) end
  m.state = outcome == "applied" and "applied" or "pending"
end

-- What adopt would record, checked before anything is written: Prisma's
-- finished rows matched to the folders, or every folder up to a baseline.
function gate.adopt_plan(from, baseline)
  local adopt = require("stallmig.adopt")
  for _, m in ipairs(S.plan.entries) do
    if m.row then
      error(errors.new("failed", S.env.name .. " already has a stallmig history; there is nothing to adopt",
        { hint = "stallrun workflows/status.lua --env " .. S.env.name }), 0)
    end
  end
  if from == "prisma" then
    local matches, problems = adopt.from_prisma(S.conn, S.found)
    if #problems > 0 then
      error(errors.new("failed", #problems .. " row(s) of _prisma_migrations do not match the "
        .. "migrations folder; nothing was adopted:\n  " .. table.concat(problems, "\n  ")), 0)
    end
    S.adopt = { matches = matches, how = "adopted from _prisma_migrations" }
  else
    S.adopt = { matches = adopt.baseline(S.found, baseline), how = "baseline: recorded as applied without running it" }
  end
  return #S.adopt.matches, S.adopt.how
end

function gate.adopt()
  require("stallmig.adopt").record(S.conn, S.env.name, S.adopt.matches, S.adopt.how)
  return #S.adopt.matches
end

-- Whether any pending migration can be rehearsed (runs in one transaction).
function gate.rehearsable()
  local pending = {}
  for i = S.next, #S.plan.pending do pending[#pending + 1] = S.plan.pending[i] end
  local runnable = require("stallmig.rehearse").split(pending)
  return #runnable > 0
end

-- The pending migrations in one transaction, measured, rolled back:
-- {info, results, skipped = {{name, reason}}}.
function gate.rehearse()
  local rehearse = require("stallmig.rehearse")
  gate.load_pending()
  local pending = {}
  for i = S.next, #S.plan.pending do pending[#pending + 1] = S.plan.pending[i] end
  local runnable, skipped = rehearse.split(pending)
  for i, m in ipairs(runnable) do runnable[i] = loaded(m) end
  local results = #runnable > 0 and rehearse.run(S.conn, S.env, runnable) or {}
  local out = {}
  for _, s in ipairs(skipped) do out[#out + 1] = { name = s.m.name, reason = s.reason } end
  return { info = rehearse.info(S.env), results = results, skipped = out }
end

return gate
