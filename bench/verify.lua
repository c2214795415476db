-- wrk script: POST /api/partner/v1/verify with the partner's access token,
-- cycling through JSON bodies (one per line of $BODIES).
local bodies = {}
for line in io.lines(os.getenv("BODIES")) do bodies[#bodies+1] = line end
local token = os.getenv("PARTNER_TOKEN")
local i = 0
request = function()
  i = i + 1
  return wrk.format("POST", "/api/partner/v1/verify",
    {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, bodies[(i % #bodies) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format("p50 %.2f ms, p95 %.2f ms, p99 %.2f ms, non-2xx %d\n", latency:percentile(50)/1000,
    latency:percentile(95)/1000, latency:percentile(99)/1000, summary.errors.status))
end
