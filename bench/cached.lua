-- The request wrk sends to the output-cache rows of bench/run.sh (sup-cache-*, sup-nocache-*,
-- nginx-cache-*): GET /cached on every request, the path the example workers answer with
-- `Cache-Control: public, max-age=60`. Headers given with -H (Connection: close) are kept:
-- wrk.format uses wrk.headers.
local req
function init(args)
  req = wrk.format("GET", "/cached")
end
function request()
  return req
end
