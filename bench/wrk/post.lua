-- wrk script: POSTs the JSON body in $BENCH_BODY to the URL and prints one machine-readable summary line.
local f = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"

dofile(os.getenv("BENCH_WRK_DIR") .. "/summary.lua")
