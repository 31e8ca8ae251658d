-- stallmig.phases — the expand/contract sections of one migration.sql.
--
--   -- stallmig:expand     what deploy runs first (new columns, tables, triggers)
--   -- stallmig:backfill   what deploy runs after it (copying data)
--   -- stallmig:contract   what workflows/complete.lua runs once the new
--                         application version is rolled out (drops, SET NOT NULL)
--   -- stallmig:down       what workflows/abort.lua runs to undo the expand
--
-- A file without these lines is one phase, as before. Each section's text
-- keeps the file's line numbers: the lines of the other sections are left
-- blank, so an error in the contract says the line of the file. The lines
-- above the first marker (comments, `-- stallmig:no-transaction`) belong
-- to every section, and so may not hold SQL.
local sql = require("stallmig.sql")
local errors = require("stallmig.error")

local phases = {}

phases.SECTIONS = { "expand", "backfill", "contract", "down" }
local KNOWN = { expand = true, backfill = true, contract = true, down = true }
local ORDER = { expand = 1, backfill = 2, contract = 3, down = 4 }
local MARKER = "^%s*%-%-%s*stallmig:(%a+)%s*$"

local function parse_error(file, line, message, hint)
  error(errors.new("parse", message, { file = file, line = line,
    hint = hint or "a phased migration has at most one of each line -- stallmig:expand, "
      .. "-- stallmig:backfill, -- stallmig:contract, -- stallmig:down (docs/zero-downtime.md)" }), 0)
end

-- Whether content names a section at all (four plain searches): most files
-- do not, and deploy asks for each one, so they are not split line by line.
local function names_a_section(content)
  for name in pairs(KNOWN) do
    if content:find("stallmig:" .. name, 1, true) then return true end
  end
  return false
end

-- phases.split(content [, file]) -> nil (not phased) | {expand, backfill,
-- contract, down, deploy, complete, lines = {section -> first line}, owner =
-- {line -> section}}: each section's text with the other sections' lines
-- blank; `deploy` is expand and backfill together (what deploy runs),
-- `complete` those and the contract. Raises kind
-- "parse" for a section given twice or out of order (expand, backfill,
-- contract, down), or SQL above the first marker.
function phases.split(content, file)
  if not names_a_section(content) then return nil end
  file = file or "migration.sql"
  local owner, first, n = {}, {}, 0
  local current = nil
  local lines = {}
  for line in (content .. "\n"):gmatch("(.-)\r?\n") do
    n = n + 1
    lines[n] = line
    local name = line:match(MARKER)
    if name and KNOWN[name] then
      if first[name] then
        parse_error(file, n, "-- stallmig:" .. name .. " is given twice (first on line " .. first[name] .. ")")
      end
      if current and ORDER[name] < ORDER[current] then
        parse_error(file, n, "-- stallmig:" .. name .. " comes after -- stallmig:" .. current
          .. "; the sections go in the order they run: expand, backfill, contract, down")
      end
      first[name], current = n, name
      owner[n] = "marker"
    else
      owner[n] = current or "header"
    end
  end
  if next(first) == nil then return nil end
  local header = {}
  for i = 1, n do header[i] = owner[i] == "header" and lines[i] or "" end
  if not phases.blank(table.concat(header, "\n")) then
    parse_error(file, 1, "SQL above the first -- stallmig: section line would run in every phase",
      "put each statement under -- stallmig:expand, -- stallmig:backfill, -- stallmig:contract or "
      .. "-- stallmig:down")
  end
  local out = { lines = first, owner = owner }
  local function text(keep)
    local t = {}
    for i = 1, n do t[i] = (owner[i] == "header" or keep[owner[i]]) and lines[i] or "" end
    return table.concat(t, "\n")
  end
  for _, name in ipairs(phases.SECTIONS) do out[name] = text({ [name] = true }) end
  out.deploy = text({ expand = true, backfill = true })
  out.complete = text({ expand = true, backfill = true, contract = true })
  return out
end

-- phases.deploy_view(m [, which]) -> m | view: for a phased migration
-- (m.content read), a view of m whose content, script and mode are what
-- deploy runs (expand and backfill), or with which = "complete" what the
-- whole migration runs (expand, backfill, contract: a replay of a completed
-- one); m itself otherwise.
function phases.deploy_view(m, which)
  local sections = phases.split(m.content, m.file)
  if not sections then return m end
  local text = sections[which or "deploy"]
  local script = sql.script(text)
  return setmetatable({ content = text, script = script, mode = script.mode, phased = true },
    { __index = m })
end

-- Whether text holds no SQL statement (only comments and blank lines).
function phases.blank(text)
  return sql.classify(text).count == 0
end

return phases
