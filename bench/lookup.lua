-- wrk script: GET /api/v1/persons/{pin} over a list of PINs, with a bearer token.
local pins = {}
for line in io.lines(os.getenv("PINS")) do pins[#pins+1] = line end
local token = os.getenv("TOKEN")
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/api/v1/persons/" .. pins[(i % #pins) + 1], {["Authorization"] = "Bearer " .. token})
end
done = function(summary, latency, requests)
  io.write(string.format("p95 %.2f ms, p99 %.2f ms\n", latency:percentile(95)/1000, latency:percentile(99)/1000))
end
