-- schemadiff_cases.lua — stallmig.schemadiff on hand-made snapshots (run by
-- tests/integration/test_drift.sh through stallrun). Exit 0 when all hold.
local schemadiff = require("stallmig.schemadiff")

local function base()
  return {
    schemas = { public = {} },
    tables = {
      ["public.users"] = {
        columns = {
          id = { type = "text", not_null = true },
          email = { type = "text", not_null = true },
          bio = { type = "text", not_null = false },
        },
        constraints = {
          users_pkey = { kind = "p", definition = "PRIMARY KEY (id)" },
          users_email_check = { kind = "c", definition = "CHECK ((email ~~ '%@%'::text))" },
        },
      },
    },
    indexes = { ["public.users_email_key"] = { definition = "CREATE UNIQUE INDEX users_email_key ON public.users USING btree (email)" } },
    enums = { ["public.Role"] = { labels = "RIDER,STABLE_OWNER" } },
    sequences = {}, views = {}, functions = {}, triggers = {}, extensions = {},
  }
end

local function expect(name, change, wanted)
  local want, have = base(), base()
  change(want, have)
  local got = schemadiff.compare(want, have)
  local text = table.concat(got, "\n")
  for _, w in ipairs(wanted) do
    assert(text:find(w, 1, true), name .. ": missing [" .. w .. "] in:\n" .. text)
  end
  assert(#got == #wanted, name .. ": expected " .. #wanted .. " difference(s), got:\n" .. text)
end

expect("identical", function() end, {})
expect("column added", function(_, have)
  have.tables["public.users"].columns.phone = { type = "character varying(20)", not_null = false }
end, { "table public.users: column phone added (character varying(20))" })
expect("column removed", function(_, have) have.tables["public.users"].columns.bio = nil end,
  { "table public.users: column bio removed" })
expect("column changed", function(_, have)
  local c = have.tables["public.users"].columns.bio
  c.type, c.not_null, c.default = "character varying(200)", true, "''::character varying"
end, { "table public.users: column bio: type text -> character varying(200), now NOT NULL, default none -> ''::character varying" })
expect("constraint removed and changed", function(_, have)
  local k = have.tables["public.users"].constraints
  k.users_pkey = nil
  k.users_email_check.definition = "CHECK ((email ~~ '%@%.%'::text))"
end, { "table public.users: primary key users_pkey removed",
  "table public.users: check constraint users_email_check changed" })
expect("foreign key added", function(_, have)
  have.tables["public.users"].constraints.users_org_fkey = { kind = "f", definition = "FOREIGN KEY (org) REFERENCES orgs(id)" }
end, { "table public.users: foreign key users_org_fkey added (FOREIGN KEY (org) REFERENCES orgs(id))" })
expect("index dropped and added", function(_, have)
  have.indexes["public.users_email_key"] = nil
  have.indexes["public.users_bio_idx"] = { definition = "CREATE INDEX users_bio_idx ON public.users USING btree (bio)" }
end, { "index public.users_bio_idx added", "index public.users_email_key removed" })
expect("enum values", function(want, have)
  have.enums["public.Role"].labels = "RIDER,STABLE_OWNER,ADMIN"
  want.enums["public.Mood"] = { labels = "OK" }
end, { "enum public.Role: value ADMIN added", "enum public.Mood removed" })
expect("enum value removed", function(_, have) have.enums["public.Role"].labels = "RIDER" end,
  { "enum public.Role: value STABLE_OWNER removed" })
expect("table added and schema removed", function(want, have)
  have.tables["public.notes"] = { columns = { id = { type = "integer", not_null = true } }, constraints = {} }
  want.schemas.audit = {}
end, { "table public.notes added", "schema audit removed" })
expect("function body changed", function(want, have)
  want.functions["public.touch()"] = { body_hash = "a" }
  have.functions["public.touch()"] = { body_hash = "b" }
end, { "function public.touch() changed" })
print("schemadiff: all cases hold")
