// protocols/cache_rules.h: which responses the output cache may keep, the rules the C++
// SDK and the master share.
#include "protocols/cache_rules.h"

#include <doctest/doctest.h>

#include <initializer_list>
#include <optional>
#include <string_view>
#include <utility>

using namespace handoff::cache_rules;

namespace {

using Field = std::pair<std::string_view, std::string_view>;

ResponseCacheFacts facts_of(std::initializer_list<Field> fields) {
  ResponseCacheFacts facts;
  for (const auto& [name, value] : fields) facts.add(name, value);
  return facts;
}

std::optional<std::int64_t> lifetime(std::initializer_list<Field> fields, int status = 200,
                                     std::optional<std::int64_t> ttl = std::nullopt) {
  return cache_lifetime(status, facts_of(fields), ttl);
}

}  // namespace

TEST_CASE("cache rules: the statuses a response may be cached with are 200, 301 and 404") {
  for (int status : {200, 301, 404}) CHECK(cacheable_status(status));
  for (int status : {100, 201, 204, 206, 302, 304, 307, 308, 400, 401, 403, 410, 500, 503}) {
    CAPTURE(status);
    CHECK_FALSE(cacheable_status(status));
    CHECK_FALSE(lifetime({{"Cache-Control", "public, max-age=60"}}, status));
  }
}

TEST_CASE("cache rules: only a GET without Authorization asks for a cacheable response") {
  CHECK(cacheable_request("GET", false));
  CHECK_FALSE(cacheable_request("GET", true));
  CHECK_FALSE(cacheable_request("HEAD", false));
  CHECK_FALSE(cacheable_request("POST", false));
  CHECK_FALSE(cacheable_request("get", false));  // methods are case-sensitive (RFC 9110 9.1)
}

TEST_CASE("cache rules: Cache-Control public with max-age or s-maxage above 0 gives the lifetime") {
  CHECK(lifetime({{"Cache-Control", "public, max-age=60"}}) == 60);
  CHECK(lifetime({{"cache-control", "PUBLIC, MAX-AGE=60"}}) == 60);
  CHECK(lifetime({{"Cache-Control", "public,s-maxage=30"}}) == 30);
  CHECK(lifetime({{"Cache-Control", "max-age=60"}, {"Cache-Control", "public"}}) == 60);  // lines combine
  CHECK(lifetime({{"Cache-Control", "public, max-age=\"45\""}}) == 45);  // the quoted form
  CHECK(lifetime({{"Cache-Control", "public, max-age=60"}}, 301) == 60);
  CHECK(lifetime({{"Cache-Control", "public, max-age=60"}}, 404) == 60);
  // s-maxage wins over max-age for a shared cache, either way round.
  CHECK(lifetime({{"Cache-Control", "public, max-age=60, s-maxage=5"}}) == 5);
  CHECK(lifetime({{"Cache-Control", "public, s-maxage=600, max-age=1"}}) == 600);
  CHECK_FALSE(lifetime({{"Cache-Control", "public, max-age=60, s-maxage=0"}}));
  // The first of a directive given twice counts.
  CHECK(lifetime({{"Cache-Control", "public, max-age=10, max-age=99"}}) == 10);
  // Past 2^31 is 2^31.
  CHECK(lifetime({{"Cache-Control", "public, max-age=99999999999999999999999"}}) == kMaxDeltaSeconds);
}

TEST_CASE("cache rules: without public, or without a lifetime above 0, nothing is kept") {
  CHECK_FALSE(lifetime({}));
  CHECK_FALSE(lifetime({{"Cache-Control", "max-age=60"}}));
  CHECK_FALSE(lifetime({{"Cache-Control", "s-maxage=60"}}));
  CHECK_FALSE(lifetime({{"Cache-Control", "public"}}));
  CHECK_FALSE(lifetime({{"Cache-Control", "public, max-age=0"}}));
  // A lifetime that is not a number makes the response stale (RFC 9111 4.2.1).
  CHECK_FALSE(lifetime({{"Cache-Control", "public, max-age=60s"}}));
  CHECK_FALSE(lifetime({{"Cache-Control", "public, max-age=-5"}}));
  CHECK_FALSE(lifetime({{"Cache-Control", "public, max-age="}}));
  CHECK_FALSE(lifetime({{"Cache-Control", "public, max-age"}}));
  // Other directives and fields are not the lifetime.
  CHECK_FALSE(lifetime({{"Cache-Control", "public, stale-while-revalidate=60"}}));
  CHECK_FALSE(lifetime({{"Cache-Control", "public"}, {"Expires", "Thu, 01 Dec 2094 16:00:00 GMT"}}));
  CHECK_FALSE(lifetime({{"X-Cache-Control", "public, max-age=60"}}));
}

TEST_CASE("cache rules: private, no-store, no-cache, Set-Cookie and a Vary beyond Accept-Encoding forbid it") {
  for (std::string_view cc : {"public, max-age=60, private", "public, max-age=60, no-store",
                              "public, max-age=60, no-cache", "public, max-age=60, No-Cache",
                              "public, max-age=60, no-cache=\"Set-Cookie\"", "private=\"X-A, X-B\", public, max-age=60"}) {
    CAPTURE(cc);
    CHECK(facts_of({{"Cache-Control", cc}}).forbidden());
    CHECK_FALSE(lifetime({{"Cache-Control", cc}}));
  }
  // On another line of its own too.
  CHECK_FALSE(lifetime({{"Cache-Control", "public, max-age=60"}, {"Cache-Control", "no-store"}}));
  CHECK_FALSE(lifetime({{"Cache-Control", "public, max-age=60"}, {"Set-Cookie", "id=1"}}));
  CHECK_FALSE(lifetime({{"Cache-Control", "public, max-age=60"}, {"set-cookie", ""}}));
  for (std::string_view vary : {"*", "Cookie", "Accept-Encoding, Accept-Language", "User-Agent"}) {
    CAPTURE(vary);
    CHECK_FALSE(lifetime({{"Cache-Control", "public, max-age=60"}, {"Vary", vary}}));
  }
  CHECK_FALSE(lifetime({{"Cache-Control", "public, max-age=60"}, {"Vary", "accept-encoding"}, {"Vary", "Cookie"}}));
  // Quoted text is not a directive: a comma inside it ends nothing.
  CHECK(lifetime({{"Cache-Control", "public, ext=\"a, private, b\", max-age=60"}}) == 60);
}

TEST_CASE("cache rules: Vary on Accept-Encoding alone is kept, and said") {
  for (std::string_view vary : {"Accept-Encoding", "accept-encoding", " Accept-Encoding ,", "ACCEPT-ENCODING"}) {
    CAPTURE(vary);
    const auto facts = facts_of({{"Cache-Control", "public, max-age=60"}, {"Vary", vary}});
    CHECK(facts.varies_on_accept_encoding());
    CHECK(cache_lifetime(200, facts) == 60);
  }
  CHECK_FALSE(facts_of({{"Cache-Control", "public, max-age=60"}}).varies_on_accept_encoding());
  CHECK(lifetime({{"Cache-Control", "public, max-age=60"}, {"Vary", ""}}) == 60);  // an empty list varies on nothing
}

TEST_CASE("cache rules: an explicit duration stands for public with max-age, and what forbids still does") {
  CHECK(lifetime({}, 200, 30) == 30);
  CHECK(lifetime({{"Cache-Control", "max-age=5"}}, 200, 30) == 30);
  CHECK(lifetime({{"Cache-Control", "public, max-age=5"}}, 200, 30) == 30);
  CHECK(lifetime({}, 404, 30) == 30);
  CHECK_FALSE(lifetime({}, 200, 0));  // no time at all
  CHECK_FALSE(lifetime({{"Cache-Control", "public, max-age=5"}}, 200, 0));
  CHECK_FALSE(lifetime({}, 500, 30));
  CHECK_FALSE(lifetime({{"Cache-Control", "no-store"}}, 200, 30));
  CHECK_FALSE(lifetime({{"Set-Cookie", "id=1"}}, 200, 30));
  CHECK_FALSE(lifetime({{"Vary", "Cookie"}}, 200, 30));
}

TEST_CASE("cache rules: a key's host is the Host field lower-cased, port kept") {
  CHECK(key_host("Example.COM:8080") == "example.com:8080");
  CHECK(key_host(" example.com ") == "example.com");
  CHECK(key_host("").empty());
}
