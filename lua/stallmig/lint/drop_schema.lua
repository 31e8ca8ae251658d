-- drop-schema: DROP SCHEMA of a schema that exists before this run.
return {
  id = "drop-schema",
  severity = "error",
  explanation = "DROP SCHEMA removes the schema (with CASCADE, every table in it and their rows)",
  suggestion = "drop the schema's objects one by one in reviewed migrations, after a backup",
  check = function(s)
    local out = {}
    for _, f in ipairs(s:existing("drop_schema")) do
      local cascade = s.node.behavior == "DROP_CASCADE" and " and everything in it (CASCADE)" or ""
      out[#out + 1] = "DROP SCHEMA " .. f.schema .. " removes the schema" .. cascade
    end
    return out
  end,
}
