-- wrk script: name search without diacritics, full names ("nguyen van an")
-- or given names alone ("an") when GIVEN=1.
local names = {}
local given = os.getenv("GIVEN") == "1"
for line in io.lines(os.getenv("NAMES")) do
  if given then line = line:match("(%S+)$") end
  names[#names+1] = line:gsub(" ", "+")
end
local token = os.getenv("TOKEN")
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/api/v1/persons?q=" .. names[(i % #names) + 1], {["Authorization"] = "Bearer " .. token})
end
done = function(summary, latency, requests)
  io.write(string.format("p95 %.2f ms, p99 %.2f ms\n", latency:percentile(95)/1000, latency:percentile(99)/1000))
end
