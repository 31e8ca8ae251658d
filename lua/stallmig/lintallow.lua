-- stallmig.lintallow — suppression comments. A line of its own just before a
-- statement (between the previous statement and this one),
--   -- stallmig:allow drop-column, rename-column: column unused since 2026-01
-- suppresses those rules on that statement; the reason after ':' is required.
local M = {}

M.rules = {
  ["allow-without-reason"] = {
    id = "allow-without-reason", severity = "warning",
    explanation = "a suppression without a reason hides a finding from the next reader; it suppresses nothing",
    suggestion = "write why after a colon: -- stallmig:allow RULE: why it is safe here",
  },
  ["allow-unknown-rule"] = {
    id = "allow-unknown-rule", severity = "warning",
    explanation = "the suppression names a rule that does not exist, so it suppresses nothing",
    suggestion = "use a rule id from docs/lint.md or from the project's lint_rules folder",
  },
}

local function engine_finding(rule, m, line, index, message)
  return { rule = rule.id, severity = rule.severity, message = message, explanation = rule.explanation,
    suggestion = rule.suggestion, file = m.file, line = line, column = 1, statement = index }
end

-- Comment lines that start a line within text[from, to) (1-based), with their line numbers.
local function comment_lines(text, from, to, last_line)
  local mark = text:find("stallmig:allow", from, true)
  if not mark or mark >= to then return {} end -- most gaps hold no suppression
  local gap = text:sub(from, to - 1)
  local lines, out = {}, {}
  for line in (gap .. "\n"):gmatch("(.-)\r?\n") do lines[#lines + 1] = line end
  local first_line = last_line - (#lines - 1)
  for n, line in ipairs(lines) do
    local starts_line = n > 1 or from == 1 or text:sub(from - 1, from - 1) == "\n"
    local body = line:match("^%s*%-%-%s*stallmig:allow%s*(.*)$")
    if body and starts_line then out[#out + 1] = { text = body, line = first_line + n - 1 } end
  end
  return out
end

local function parse(body)
  local ids, reason = body:match("^([^:]*):(.*)$")
  if not ids then ids, reason = body, "" end
  local list = {}
  for id in ids:gmatch("[^,%s]+") do list[#list + 1] = id end
  return list, (reason:gsub("^%s+", ""):gsub("%s+$", ""))
end

-- The rules suppressed on statement index of m ({id = reason}); findings about
-- malformed suppressions are appended to findings.
function M.read(m, previous_end, index, rules, findings)
  local st = m.script.statements[index]
  local from = previous_end and previous_end or 1
  local allow = {}
  for _, c in ipairs(comment_lines(m.content, from, st.offset, st.line)) do
    local ids, reason = parse(c.text)
    if #ids == 0 or reason == "" then
      findings[#findings + 1] = engine_finding(M.rules["allow-without-reason"], m, c.line, index,
        "suppression of " .. (#ids > 0 and table.concat(ids, ", ") or "nothing") .. " has no reason")
    end
    for _, id in ipairs(ids) do
      if not rules[id] and not M.rules[id] then
        findings[#findings + 1] = engine_finding(M.rules["allow-unknown-rule"], m, c.line, index,
          "suppression names rule '" .. id .. "', which does not exist")
      elseif reason ~= "" then
        allow[id] = reason
      end
    end
  end
  return allow
end

return M
