-- wrk script for bench/sections/20-webhook.sh: POSTs the request Detour's webhook channel sends
-- (body and headers captured by `detour-bench webhook --sample DIR`), the same bytes every time.
-- WRK_SAMPLE names that directory.
local dir = os.getenv("WRK_SAMPLE") or error("WRK_SAMPLE is not set")

local function read(path)
  local f = assert(io.open(path, "rb"))
  local data = f:read("*a")
  f:close()
  return data
end

wrk.method = "POST"
wrk.body = read(dir .. "/body.json")
for line in read(dir .. "/headers.txt"):gmatch("[^\n]+") do
  local name, value = line:match("^([^:]+):%s*(.*)$")
  if name then wrk.headers[name] = value end
end

local failures = 0
function response(status, headers, body)
  if status >= 300 then failures = failures + 1 end
end
