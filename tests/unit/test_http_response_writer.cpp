// serialize_response: framing rules that the session relies on.
#include "worker-sdk/cpp/src/response_writer.h"

#include <doctest/doctest.h>

using namespace handoff;

TEST_CASE("response writer: head and body are separate buffers, body moved not copied") {
  Response r;
  r.body = std::string(1000, 'x');
  const char* before = r.body.data();
  auto out = serialize_response(std::move(r), {});
  CHECK(out.head == "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
  CHECK(out.body.size() == 1000);
  CHECK(out.body.data() == before);
}

TEST_CASE("response writer: 204 and 304 carry neither body nor Content-Length") {
  for (int status : {204, 304}) {
    Response r;
    r.status = status;
    r.body = "ignored";
    auto out = serialize_response(std::move(r), {});
    CHECK(out.body.empty());
    CHECK(out.head.find("Content-Length") == std::string::npos);
  }
}

TEST_CASE("response writer: Connection header follows the framing") {
  CHECK(serialize_response({}, {.head_request = false, .keep_alive = false, .http10 = false}).head.find(
            "Connection: close\r\n") != std::string::npos);
  CHECK(serialize_response({}, {.head_request = false, .keep_alive = true, .http10 = true}).head.find(
            "Connection: keep-alive\r\n") != std::string::npos);
  CHECK(serialize_response({}, {}).head.find("Connection") == std::string::npos);
}

TEST_CASE("response writer: invalid status becomes 500, unknown status keeps its number") {
  Response bad;
  bad.status = 42;
  CHECK(serialize_response(std::move(bad), {}).head.rfind("HTTP/1.1 500 Internal Server Error\r\n", 0) == 0);
  Response odd;
  odd.status = 299;
  CHECK(serialize_response(std::move(odd), {}).head.rfind("HTTP/1.1 299 Unknown\r\n", 0) == 0);
}

TEST_CASE("response writer: token and case helpers") {
  CHECK(iequals("Content-Length", "content-length"));
  CHECK_FALSE(iequals("content-length", "content-lengt"));
  CHECK(has_token("keep-alive, Close", "close"));
  CHECK(has_token(" close ", "close"));
  CHECK_FALSE(has_token("closed", "close"));
}
