-- wrk script: POST a form with HTTP Basic client authentication.
-- BASIC is base64(client_id:secret). BODY is the form; or TOKENS names a
-- file of access tokens, one a line, introspected in turn ("token=<t>").
local basic = os.getenv("BASIC")
local body = os.getenv("BODY")
local tokens = {}
local file = os.getenv("TOKENS")
if file and file ~= "" then
  for line in io.lines(file) do tokens[#tokens+1] = line end
end
local headers = {["Authorization"] = "Basic " .. basic, ["Content-Type"] = "application/x-www-form-urlencoded"}
local i = 0
request = function()
  if #tokens > 0 then
    i = i + 1
    return wrk.format("POST", nil, headers, "token=" .. tokens[(i % #tokens) + 1])
  end
  return wrk.format("POST", nil, headers, body)
end
done = function(summary, latency, requests)
  io.write(string.format("p50 %.2f ms, p99 %.2f ms\n", latency:percentile(50)/1000, latency:percentile(99)/1000))
end
