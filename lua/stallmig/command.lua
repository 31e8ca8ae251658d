-- stallmig.command — the team's own commands, run from a script as the
-- runbook does after the staging deploy (`npm run test:integration`): an
-- argument vector, never a shell; what they print goes to stderr through
-- the host's redaction; the exit status comes back.
--
--   local status = command.run("npm run test:integration", { cwd = ctx.config.dir })
--   local status = command.run({ "npm", "run", "test:integration" })
local sys = require("stallmig.sys")
local errors = require("stallmig.error")

local command = {}

-- The words of a command line: split at spaces and tabs; '...' and "..."
-- group words with spaces in them (nothing else is interpreted: no
-- variables, globs, pipes or escapes). Raises kind "usage" on an open quote.
function command.words(text)
  local words, i, n = {}, 1, #text
  while i <= n do
    local c = text:sub(i, i)
    if c:match("%s") then
      i = i + 1
    else
      local word = ""
      while i <= n and not text:sub(i, i):match("%s") do
        local ch = text:sub(i, i)
        if ch == "'" or ch == '"' then
          local close = text:find(ch, i + 1, true)
          if not close then
            error(errors.new("usage", "the command " .. text .. " has an unclosed " .. ch), 0)
          end
          word, i = word .. text:sub(i + 1, close - 1), close + 1
        else
          word, i = word .. ch, i + 1
        end
      end
      words[#words + 1] = word
    end
  end
  return words
end

-- Runs a command (a line, split by command.words, or a list of words);
-- returns its exit status (0 = success). opts.cwd: the directory it runs
-- in (default: the current one). Raises kind "failed" when it cannot be
-- started (not installed), kind "usage" for an empty command.
function command.run(cmd, opts)
  local argv = type(cmd) == "table" and cmd or command.words(tostring(cmd))
  if #argv == 0 then error(errors.new("usage", "the command is empty"), 0) end
  return sys.run(argv, opts)
end

return command
