-- The request wrk sends in every configuration: GET /1/ and GET /2/ in turn on each
-- connection, so URL-segment routers spread the load over both workers while every
-- other configuration sees the same bytes. Headers given with -H (Connection: close)
-- are kept: wrk.format uses wrk.headers.
local reqs, i = {}, 0
function init(args)
  reqs[1] = wrk.format("GET", "/1/")
  reqs[2] = wrk.format("GET", "/2/")
end
function request()
  i = i % 2 + 1
  return reqs[i]
end
