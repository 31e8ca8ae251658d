-- stallmig.interrupt — catching SIGINT/SIGTERM where cleanup must happen.
-- The host (src/host.c) cancels the running statement and raises kind
-- "interrupted" at the next Lua event after the signal: often as a C
-- function such as conn:exec returns or fails. When the cancelled statement
-- fails, its SQL error unwinds to the nearest pcall and the interruption is
-- raised just AFTER that pcall returns, outside it; interrupt.pcall puts a
-- second pcall around the first so that this moment is covered too.
local interrupt = {}

function interrupt.is(e)
  return type(e) == "table" and e.kind == "interrupted"
end

-- interrupt.pcall(f, ...) -> ok, result or error: pcall, except that an
-- interruption anywhere in f, or as f returns or fails, comes back as the
-- error (the SQL error it caused, if any, is dropped).
function interrupt.pcall(f, ...)
  local ok, inner_ok, result = pcall(pcall, f, ...)
  if not ok then return false, inner_ok end
  return inner_ok, result
end

-- interrupt.try(f, ...) -> ok: a step whose failure does not matter (a
-- ROLLBACK, a RESET ALL), except an interruption, which it raises again:
-- a plain pcall there would swallow the signal.
function interrupt.try(f, ...)
  local ok, err = interrupt.pcall(f, ...)
  if not ok and interrupt.is(err) then error(err, 0) end
  return ok
end

return interrupt
