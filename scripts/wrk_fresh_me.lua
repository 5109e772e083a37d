-- Each request asks for /me with a query string no request asked for before, so the
-- server renders the page every time (scripts/bench.sh: "/me (every view new)").
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local n = 0
function request()
  n = n + 1
  return wrk.format(nil, "/me?view=" .. tid .. "-" .. n)
end
