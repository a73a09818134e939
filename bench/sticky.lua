-- bench/sticky.sh's requests: wrk thread k (1, 2, ... in the order wrk starts them) sends
-- GET /k/room on every request of every one of its keep-alive connections, so a router by
-- the first path segment keeps each thread's connections on one worker (slot k).
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
local req
function init(args)
  req = wrk.format("GET", "/" .. id .. "/room")
end
function request()
  return req
end
