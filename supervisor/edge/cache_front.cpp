#include "supervisor/edge/cache_front.h"

#include <charconv>

#include "uvglue/uv_write.h"
#include "supervisor/platform/platform.h"

namespace handoff {
namespace {

void append_number(std::string& out, std::uint64_t n) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  out.append(digits, end);
}

}  // namespace

CacheFront::CacheFront(uv_loop_t* loop, const CacheConfig& config) : cache_(config), timer_(loop) {}

CacheFront::~CacheFront() = default;  // held connections close

bool CacheFront::take(ConnectionPtr& connection, const RequestHead& head) {
  const auto request = cache::lookup_of(head);
  if (!request) return false;
  const auto now = cache::Clock::now();
  if (const cache::Entry* entry = cache_.find(*request, now)) {
    answer(std::move(connection), *entry, *request, head.bytes.size());
    return true;
  }
  switch (cache_.miss(*request, now)) {
    case cache::Miss::lead: connection->fill = true; arm_timer(); return false;
    case cache::Miss::pass: return false;
    case cache::Miss::wait: {
      std::string primary;
      cache::primary_key(request->host, request->target, primary);
      auto& held = waiting_[primary];
      // A flood for one slow key holds descriptors until its fill: past this many, the
      // rest go to workers as they would without a cache.
      if (held.size() >= kMaxHeldPerKey) return false;
      held.push_back(std::move(connection));
      return true;
    }
  }
  return false;
}

const std::string& CacheFront::date(std::chrono::system_clock::time_point now) {
  const auto second = std::chrono::floor<std::chrono::seconds>(now);
  if (second != date_second_) {
    date_second_ = second;
    date_ = cache::http_date(second);
  }
  return date_;
}

void CacheFront::answer(ConnectionPtr connection, const cache::Entry& entry, const cache::Lookup& request,
                        std::size_t head_bytes) {
  Connection& c = *connection;
  // The request is answered here: its bytes leave the stream, the worker never sees them.
  if (c.carried.size() >= head_bytes) {
    c.carried.erase(0, head_bytes);
  } else {
    const std::size_t in_kernel = head_bytes - c.carried.size();
    c.carried.clear();
    if (platform::discard_socket(c.socket.descriptor(), in_kernel) != static_cast<long>(in_kernel)) return;  // gone
  }
  extra_.assign("Age: ");
  append_number(extra_, static_cast<std::uint64_t>(cache::OutputCache::age_seconds(entry, cache::Clock::now())));
  extra_.append("\r\nDate: ").append(date(std::chrono::system_clock::now()));
  extra_.append("\r\nContent-Length: ");
  append_number(extra_, entry.body.size());
  if (!request.keep_alive) extra_.append("\r\nConnection: close");
  else if (request.http10) extra_.append("\r\nConnection: keep-alive");
  extra_.append("\r\n\r\n");
  const std::string_view pieces[] = {entry.head, extra_, request.head_only ? std::string_view{} : entry.body};
  std::size_t total = 0;
  for (const auto& p : pieces) total += p.size();

  long sent = 0;
  if (!c.socket.has_handle()) {
    sent = platform::send_socket(c.socket.descriptor(), pieces, 3);
    if (sent < 0 && sent != UV_EAGAIN) return;  // the client is gone: closed
    if (sent < 0) sent = 0;
  }
  const bool keep_alive = request.keep_alive;
  // Copies the master's reintake, not this front, which an app's removal may free while a
  // write is under way.
  const auto go_on = [reintake = reintake_, keep_alive](ConnectionPtr done) {
    if (!keep_alive) return;  // closed as it goes
    done->handed_back = true;  // its PROXY header is long consumed; idle, it closes without a word
    done->asked = false;
    done->fill = false;
    done->accepted_at = {};
    if (reintake) reintake(std::move(done));
  };
  if (static_cast<std::size_t>(sent) == total) return go_on(std::move(connection));

  // The rest through libuv (a handle on Windows, or a full socket buffer), then on as above.
  std::string rest;
  rest.reserve(total - static_cast<std::size_t>(sent));
  std::size_t skip = static_cast<std::size_t>(sent);
  for (const auto& p : pieces) {
    if (skip >= p.size()) {
      skip -= p.size();
      continue;
    }
    rest.append(p.substr(skip));
    skip = 0;
  }
  uv_stream_t* stream = c.socket.stream();
  if (!stream) return;
  struct Pending {
    ConnectionPtr connection;
    std::function<void(ConnectionPtr)> go_on;
  };
  auto* pending = new Pending{std::move(connection), go_on};
  stream->data = pending;
  if (UvWrite::start(std::make_unique<UvWrite>(std::move(rest)), stream, [](UvWrite& written, int status) {
        auto* p = static_cast<Pending*>(written.stream()->data);
        written.stream()->data = nullptr;
        if (status == 0) p->go_on(std::move(p->connection));
        delete p;
      }) != 0) {
    stream->data = nullptr;
    delete pending;
  }
}

void CacheFront::put(const ipc::CachePut& response) {
  const auto stored = cache_.put(response, cache::Clock::now());
  if (stored.ended_fill) release(stored.primary);
}

void CacheFront::pass(const ipc::CachePass& response) {
  std::string primary;
  cache::primary_key(response.host, response.target, primary);
  if (cache_.pass(response.host, response.target, cache::Clock::now())) release(primary);
}

std::size_t CacheFront::purge(std::string_view prefix) { return cache_.purge(prefix); }

void CacheFront::release(const std::string& primary) {
  auto it = waiting_.find(primary);
  if (it == waiting_.end()) return;
  auto held = std::move(it->second);
  waiting_.erase(it);
  // Each goes through the intake again: a hit now, or (a pass) to a worker.
  for (auto& c : held) {
    c->accepted_at = {};
    c->handed_back = true;  // its PROXY header is consumed
    if (reintake_) reintake_(std::move(c));
  }
}

void CacheFront::arm_timer() {
  const auto next = cache_.next_fill_deadline();
  if (!next) return;
  const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(*next - cache::Clock::now());
  timer_.start<[](CacheFront& me) {
    for (const auto& primary : me.cache_.expire_fills(cache::Clock::now())) me.release(primary);
    me.arm_timer();
  }>(this, static_cast<std::uint64_t>(std::max<std::chrono::milliseconds::rep>(wait.count(), 0)) + 1);
}

}  // namespace handoff
