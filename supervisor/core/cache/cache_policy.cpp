#include "supervisor/core/cache/cache_policy.h"

#include <algorithm>
#include <array>
#include <charconv>

namespace handoff::cache {
namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls `each` with every comma-separated element of a list field (RFC 9110, 5.6.1), trimmed.
template <class Each>
void for_each_element(std::string_view list, Each each) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    const auto element = trim(list.substr(0, comma));
    if (!element.empty()) each(element);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

bool has_token(std::string_view list, std::string_view token) {
  bool found = false;
  for_each_element(list, [&](std::string_view e) { found = found || iequals(e, token); });
  return found;
}

// Cache-Control, as far as a shared cache needs it (RFC 9111, 5.2.2).
struct Directives {
  bool is_public = false;
  bool refuses = false;  // private, no-store, no-cache
  std::optional<std::int64_t> max_age;
  std::optional<std::int64_t> s_maxage;
};

std::optional<std::int64_t> seconds(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc{} || end != v.data() + v.size() || n < 0) return std::nullopt;
  return n;
}

void read_directives(std::string_view value, Directives& d) {
  for_each_element(value, [&](std::string_view e) {
    const auto eq = e.find('=');
    const auto name = trim(e.substr(0, eq));
    const auto arg = eq == std::string_view::npos ? std::string_view{} : trim(e.substr(eq + 1));
    if (iequals(name, "public")) d.is_public = true;
    else if (iequals(name, "private") || iequals(name, "no-store") || iequals(name, "no-cache")) d.refuses = true;
    else if (iequals(name, "max-age")) d.max_age = seconds(arg);
    else if (iequals(name, "s-maxage")) d.s_maxage = seconds(arg);
  });
}

constexpr std::array<std::string_view, 10> kNotKept = {
    "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
    "trailer",    "upgrade",    "content-length",   "date",              "age"};

constexpr auto kTokenChars = [] {
  std::array<bool, 256> ok{};
  for (int c = '0'; c <= '9'; ++c) ok[static_cast<std::size_t>(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c) ok[static_cast<std::size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) ok[static_cast<std::size_t>(c)] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) ok[static_cast<unsigned char>(c)] = true;
  return ok;
}();

}  // namespace

std::optional<Lookup> lookup_of(const RequestHead& head) {
  Lookup l;
  if (head.method == "HEAD") l.head_only = true;
  else if (head.method != "GET") return std::nullopt;
  bool closes = false, keeps = false;
  for (const auto& h : head.headers) {
    if (iequals(h.name, "authorization")) return std::nullopt;  // a private answer, for that user
    // A request with a body is not one the cache answers: its bytes would be left unread.
    if (iequals(h.name, "content-length") && h.value != "0") return std::nullopt;
    if (iequals(h.name, "transfer-encoding")) return std::nullopt;
    if (iequals(h.name, "host")) l.host = h.value;
    else if (iequals(h.name, "accept-encoding")) l.accept_encoding = h.value;
    else if (iequals(h.name, "connection")) {
      closes = closes || has_token(h.value, "close");
      keeps = keeps || has_token(h.value, "keep-alive");
    }
  }
  l.target = head.target;
  l.http10 = head.http_major == 1 && head.http_minor == 0;
  l.keep_alive = l.http10 ? keeps && !closes : !closes;
  return l;
}

StoreDecision decide(const ipc::CachePut& put, const CacheConfig& config) {
  StoreDecision d;
  if (std::find(std::begin(kCacheableStatuses), std::end(kCacheableStatuses), put.status) == std::end(kCacheableStatuses)) {
    d.why_not = "status";
    return d;
  }
  if (put.target.empty() || put.target.front() != '/') {
    d.why_not = "target";
    return d;
  }
  if (put.body.size() > config.max_entry) {
    d.why_not = "too large";
    return d;
  }
  Directives directives;
  for (const auto& [name, value] : put.headers) {
    if (!safe_header(name, value)) {
      d.why_not = "malformed header";
      return d;
    }
    if (iequals(name, "cache-control")) read_directives(value, directives);
    else if (iequals(name, "set-cookie")) {
      d.why_not = "Set-Cookie";
      return d;
    } else if (iequals(name, "pragma") && has_token(value, "no-cache")) {
      d.why_not = "Pragma: no-cache";
      return d;
    } else if (iequals(name, "vary")) {
      bool other = false;
      for_each_element(value, [&](std::string_view e) {
        if (iequals(e, "accept-encoding")) d.vary_encoding = true;
        else other = true;  // `*` too
      });
      if (other) {
        d.why_not = "Vary";
        return d;
      }
    }
  }
  if (directives.refuses) {
    d.why_not = "Cache-Control";
    return d;
  }
  std::optional<std::int64_t> ttl_seconds;
  if (put.ttl) ttl_seconds = *put.ttl;  // the app said so (res.cacheDuration): it wins
  else if (directives.is_public) ttl_seconds = directives.s_maxage ? directives.s_maxage : directives.max_age;
  std::chrono::milliseconds ttl = ttl_seconds ? std::chrono::seconds(std::min<std::int64_t>(*ttl_seconds, 1LL << 31))
                                              : std::chrono::milliseconds{0};
  if (!ttl_seconds && directives.is_public) ttl = config.default_ttl;
  if (ttl.count() <= 0) {
    d.why_not = "no lifetime";
    return d;
  }
  d.store = true;
  d.ttl = ttl;
  return d;
}

void primary_key(std::string_view host, std::string_view target, std::string& out) {
  out.resize(host.size() + 1 + target.size());
  std::transform(host.begin(), host.end(), out.begin(), lower);
  out[host.size()] = '\0';
  std::copy(target.begin(), target.end(), out.begin() + static_cast<std::ptrdiff_t>(host.size() + 1));
}

void variant_key(std::string_view primary, std::string_view accept_encoding, std::string& out) {
  out.assign(primary);
  out.push_back('\0');
  out.append(accept_encoding);
}

bool kept_header(std::string_view name) {
  return std::none_of(kNotKept.begin(), kNotKept.end(), [&](std::string_view n) { return iequals(n, name); });
}

bool safe_header(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  for (char c : name)
    if (!kTokenChars[static_cast<unsigned char>(c)]) return false;
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

}  // namespace handoff::cache

namespace handoff::cache {

std::string http_date(std::chrono::system_clock::time_point when) {
  using namespace std::chrono;
  static constexpr std::string_view kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto day = floor<days>(when);
  const year_month_day ymd{day};
  const hh_mm_ss time{std::chrono::floor<std::chrono::seconds>(when - day)};
  const auto two = [](unsigned n) { return std::string{static_cast<char>('0' + n / 10), static_cast<char>('0' + n % 10)}; };
  std::string out;
  out.reserve(29);
  out.append(kDays[weekday{day}.c_encoding()]).append(", ").append(two(static_cast<unsigned>(ymd.day()))).append(" ");
  out.append(kMonths[static_cast<unsigned>(ymd.month()) - 1]).append(" ").append(std::to_string(static_cast<int>(ymd.year())));
  out.append(" ").append(two(static_cast<unsigned>(time.hours().count()))).append(":");
  out.append(two(static_cast<unsigned>(time.minutes().count()))).append(":");
  out.append(two(static_cast<unsigned>(time.seconds().count()))).append(" GMT");
  return out;
}

}  // namespace handoff::cache
