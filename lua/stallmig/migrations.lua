-- stallmig.migrations — the migrations folder: discover, load, compare with history.
local files = require("stallmig.files")
local sql = require("stallmig.sql")
local errors = require("stallmig.error")

local M = {}

-- A path as the user knows it: relative to the project (the INI's directory).
function M.display_path(config, path)
  local prefix = config.dir .. "/"
  if path:sub(1, #prefix) == prefix then return path:sub(#prefix + 1) end
  return path
end

-- Starts reading and hashing the migrations folder on a background thread,
-- so that it overlaps with connecting to the database.
function M.scan(config)
  if files.kind(config.migrations) ~= "dir" then
    error(errors.new("config", "the migrations folder " .. config.migrations .. " does not exist",
      { hint = "create it, or set [project] migrations in " .. config.path }), 0)
  end
  return files.scan(config.migrations)
end

-- A folder name as an error shows it: control characters as \x0a, so that
-- a newline in a name cannot start a line of its own (the host's output
-- escapes the rest, but keeps newlines).
local function printable(name)
  return (name:gsub("[%c\127]", function(c) return string.format("\\x%02x", c:byte()) end))
end

-- Every migration folder in byte-wise order of its name (Prisma's rule).
-- Returns the list and a list of warnings about unconventional names.
-- Paths are set later, for the few migrations that need them (M.locate).
function M.discover(config, scan)
  scan = scan or M.scan(config)
  local dir = config.migrations
  local rel = M.display_path(config, dir) .. "/"
  local ok, found = pcall(scan.wait, scan, dir)
  scan:release()   -- read once: its list is in found now (10,000 entries are megabytes)
  if not ok then   -- the folder itself cannot be listed: a setup problem, like an unreadable INI
    if errors.is(found) then
      found.kind = "config"
      found.hint = found.hint or ("make " .. rel .. " readable by the user running stallrun")
    end
    error(found, 0)
  end
  local warnings = {}
  found.dir, found.rel, found.warnings = dir, rel, warnings
  for _, entry in ipairs(found) do
    if entry.too_large then
      error(errors.new("failed", string.format("%s%s: %s (it is %.1f MiB; nothing was read or sent)",
        rel, printable(entry.name), entry.problem, entry.size / 1048576), { migration = entry.name,
        hint = "a file this large is usually a data dump: load data with psql's \\copy or "
          .. "pg_restore outside the migration, or split the change into smaller migrations" }), 0)
    end
    if entry.same_as then
      error(errors.new("config", string.format("%s%s and %s%s are one migration under two names: "
        .. "their migration.sql is the same file (a link), so it would be applied twice",
        rel, entry.same_as, rel, entry.name), { migration = entry.name,
        hint = "a migration folder must not link to another migration's folder or migration.sql: "
          .. "remove " .. rel .. entry.name .. " (or give it its own migration.sql)" }), 0)
    end
    if entry.problem then
      error(errors.new("config", rel .. printable(entry.name) .. ": " .. entry.problem,
        { hint = "every folder under migrations/ holds one readable migration.sql (a symbolic "
          .. "link is followed); remove or fix this one" }), 0)
    end
    if not entry.conventional then
      warnings[#warnings + 1] = rel .. entry.name .. ": name is not <14-digit UTC timestamp>_"
        .. "<lowercase_name>; it still applies in byte-wise order"
    end
  end
  return found, warnings
end

-- Sets m.path (absolute) and m.file (as the user knows it).
function M.locate(m, found)
  if not m.path then
    m.path = found.dir .. "/" .. m.name .. "/migration.sql"
    m.file = found.rel .. m.name .. "/migration.sql"
  end
  return m
end

-- The text of m as it is sent (without a UTF-8 BOM), m located. The file
-- must still be the one whose checksum the scan read (m.checksum): a file
-- changed since is refused, so what was checked is what runs.
local function read_checked(m, found)
  M.locate(m, found)
  local content = files.read(m.path)
  if m.checksum and files.sha256(content) ~= m.checksum then
    error(errors.new("failed", m.file .. " changed while stallrun was running (its checksum is no "
      .. "longer the one read at the start); nothing of it was sent", { migration = m.name,
      hint = "run again once the file stays put" }), 0)
  end
  if content:sub(1, 3) == "\239\187\191" then content = content:sub(4) end
  return content
end

-- parse(content) (sql.script or sql.classify), its syntax error said as m's.
local function parsed(m, parse, content)
  local ok, result = pcall(parse, content)
  if not ok then
    if type(result) == "table" then
      result.file, result.migration = m.file, m.name
      -- shown as file:line:column: (the error's __tostring)
      result.message = "cannot parse " .. m.name .. ": " .. tostring(result.message)
      result.hint = result.hint or "fix the SQL; nothing was sent to the database"
    end
    error(result, 0)
  end
  return result
end

-- Reads and classifies a migration before anything is sent to a server.
-- Sets m.content (what is sent: without a UTF-8 BOM), m.script, m.mode,
-- m.reason and m.empty. Loaded once, until M.release. with_tree: also
-- m.script.tree, what sql.parse returns, from the same parse (the lint's).
function M.load(m, found, with_tree)
  if m.script then return m end
  local content = read_checked(m, found)
  local script = parsed(m, function(text) return sql.script(text, with_tree) end, content)
  m.content, m.script, m.mode, m.reason = content, script, script.mode, script.reason
  m.empty = #script.statements == 0
  return m
end

-- Sets m.content (the text as it is sent, checked against m.checksum as
-- M.load checks it) without parsing it; M.parse parses it later.
function M.read(m, found)
  if m.content == nil then m.content = read_checked(m, found) end
  return m
end

-- Parses m.content (M.read) into m.script; a syntax error is said as m's.
function M.parse(m)
  local script = parsed(m, sql.script, M.read(m).content)
  rawset(m, "script", script)
  return script
end

-- What M.load checks (the checksum, the syntax), keeping only the verdict:
-- m.mode, m.reason and m.empty. For the checks that read every pending
-- file before the first one runs without holding every file's text and
-- statements at once: M.load reads it again, and checks it again, when its
-- turn comes.
function M.classify(m, found)
  if m.script or m.mode then return m end
  -- located on a probe: the entry, one of every migration's, stays small
  local probe = { name = m.name, checksum = m.checksum }
  local content = read_checked(probe, found)
  local verdict = parsed(probe, sql.classify, content)
  -- phase sections (docs/zero-downtime.md) checked with the syntax
  if content:find("stallmig:", 1, true) then require("stallmig.phases").split(content, probe.file) end
  m.mode, m.reason, m.empty = verdict.mode, verdict.reason, verdict.count == 0
  return m
end

-- Drops what M.load read (m.content, m.script) once m has been used; the
-- verdict (m.mode, m.reason, m.empty) stays.
function M.release(m)
  m.content, m.script = nil, nil
  return m
end

-- SQL that holds no statement: nothing, or only comments, whitespace and
-- semicolons (PostgreSQL's parser finds none). Text that does not parse is
-- not empty: its error is reported where the file is run.
function M.holds_no_sql(text)
  local ok, verdict = pcall(sql.classify, (text:gsub("^\239\187\191", "")))
  if not ok and type(verdict) == "table" and verdict.kind == "interrupted" then error(verdict, 0) end
  return ok and verdict.count == 0
end

-- A file this large is never taken for an empty one unread: a person does
-- not leave 64 KiB of comments behind by mistake, and the plan of a deploy
-- of many migrations reads no large file twice.
M.EMPTY_READ_MAX = 65536

-- Is migration m's migration.sql empty (M.holds_no_sql)? Classifies it (a
-- file that cannot be read or parsed is left to the step that runs it).
function M.is_empty(m, found)
  if m.empty == nil and not (m.size and m.size > M.EMPTY_READ_MAX) then
    local ok, err = pcall(M.classify, m, found)
    if not ok and type(err) == "table" and err.kind == "interrupted" then error(err, 0) end
  end
  if m.empty == nil then m.empty = false end   -- not read (large) or not readable: asked once
  return m.empty
end

-- The warning for an empty pending migration (deploy, dev, status, verify).
function M.empty_warning(m, found)
  return (found.rel or "") .. m.name .. "/migration.sql holds no SQL statement, only comments: deploy "
    .. "applies it as an empty migration, and writing the change into it after that counts as editing "
    .. "an applied migration"
end

-- A phase run as steps (mode "steps", lua/stallmig/steps.lua) that failed
-- part-way resumes at the step it stopped in, each step being one commit
-- (a backfill: one per batch, with its checkpoint) -- if the file is still
-- the one it ran.
function M.resumable(m, row)
  return row ~= nil and row.partial and row.mode == "steps" and row.checksum == m.checksum or false
end

-- A phased migration (docs/zero-downtime.md) whose expand is applied and
-- whose contract is not: its latest row says expanded, or that the
-- contract or the abort failed and left nothing behind (a part-way failure
-- is failed: deploy refuses it until it is resolved).
local EXPANDED = { expanded = true, contract_failed = true, abort_failed = true }

-- States: applied, expanded, pending, failed, modified, missing. A checksum
-- is compared only with the last successful application (fixing a failed
-- file is normal).
local function state_of(m, row, found)
  if row == nil or row.outcome == "rolled_back" then return "pending" end
  if row.outcome == "failed" then return "failed" end
  -- a contract run as steps resumes; an abort that stopped part-way is for a person to look at
  if EXPANDED[row.outcome] and row.partial and not (row.outcome == "contract_failed" and M.resumable(m, row)) then
    return "failed"
  end
  local state = EXPANDED[row.outcome] and "expanded" or "applied"
  if row.checksum == m.checksum then return state end
  M.locate(m, found)
  if files.checksum_matches(files.read(m.path), row.checksum) then return state end
  return "modified"
end

-- Joins the folder with the history (history.read) into one ordered plan.
function M.plan(found, history)
  local plan = { entries = {}, pending = {}, counts = {} }
  local entries, last_applied, present = plan.entries, nil, {}
  for i, m in ipairs(found) do
    local row = history.latest[m.name]
    m.state, m.row = state_of(m, row, found), row
    if m.state == "applied" or m.state == "expanded" or m.state == "modified" then last_applied = m.name end
    -- a failed transactional migration left nothing behind: deploy retries it
    m.retry = row ~= nil and row.outcome == "failed" and (not row.partial or M.resumable(m, row)) or nil
    entries[i], present[m.name] = m, true
  end
  for _, m in ipairs(entries) do
    if m.state == "pending" or m.retry then
      m.out_of_order = m.state == "pending" and last_applied ~= nil and m.name < last_applied or nil
      plan.pending[#plan.pending + 1] = m
      -- an empty file is said once, with the folder's warnings (found.warnings)
      if found.warnings and m.empty == nil and M.is_empty(m, found) then
        found.warnings[#found.warnings + 1] = M.empty_warning(m, found)
      end
    end
  end
  local missing = false
  for name, row in pairs(history.latest) do
    if not present[name] and (row.outcome == "applied" or EXPANDED[row.outcome]) then
      entries[#entries + 1] = { name = name, state = "missing", row = row }
      missing = true
    end
  end
  if missing then table.sort(entries, function(a, b) return a.name < b.name end) end
  for _, m in ipairs(entries) do
    plan.counts[m.state] = (plan.counts[m.state] or 0) + 1
  end
  return plan
end

return M
