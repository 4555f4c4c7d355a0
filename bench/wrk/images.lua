-- wrk script: POSTs pod reviews whose one image cycles through $BENCH_IMAGES distinct references
-- ($BENCH_IMAGE_PREFIX<n>:1.0, n counting on from $BENCH_OFFSET); prints one summary line.
-- The body is $BENCH_BODY with the placeholder __IMAGE__ replaced. wrk runs for its -d duration.
local f = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
local template = f:read("*a")
f:close()
local at = assert(string.find(template, "__IMAGE__", 1, true))
local pre, post = string.sub(template, 1, at - 1), string.sub(template, at + 9)
local images = tonumber(os.getenv("BENCH_IMAGES"))
local prefix = os.getenv("BENCH_IMAGE_PREFIX")
local headers = { ["Content-Type"] = "application/json", ["Accept"] = "application/json" }
local n = tonumber(os.getenv("BENCH_OFFSET") or "0")

request = function()
  n = n + 1
  local image = string.format("%s%05d:1.0", prefix, n % images)
  return wrk.format("POST", nil, headers, pre .. image .. post)
end

dofile(os.getenv("BENCH_WRK_DIR") .. "/summary.lua")
