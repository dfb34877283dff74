-- wrk script: every request places one order (tok_ok, one unit of bench-sku).
local counter = 0
local thread_id = 0

function setup(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer bench-key"
  wrk.body = '{"customer":{"id":"bench","email":"bench@example.test"},' ..
             '"items":[{"sku":"bench-sku","quantity":1}],' ..
             '"payment":{"provider":"sandbox","token":"tok_ok"},' ..
             '"shipping":{"provider":"sandbox","address":{"country":"HU"}}}'
end

function request()
  counter = counter + 1
  wrk.headers["Idempotency-Key"] = "bench-" .. tid .. "-" .. counter
  return wrk.format()
end
