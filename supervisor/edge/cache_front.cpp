#include "supervisor/edge/cache_front.h"

#include <charconv>

#include "protocols/http_date.h"
#include "supervisor/core/routing/request_head.h"

#include "uvglue/uv_write.h"
#include "supervisor/platform/platform.h"

namespace handoff {
namespace {

void append_number(std::string& out, std::uint64_t n) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  out.append(digits, end);
}

// A connection going back through its listener's intake, as a worker's hand-back does: its
// PROXY header is long consumed and, idle, it closes without a word.
void ready_for_intake(Connection& c) {
  c.handed_back = true;
  c.asked = false;
  c.fill = false;
  c.accepted_at = {};
}

}  // namespace

CacheFront::CacheFront(uv_loop_t* loop, const CacheConfig& config, std::chrono::milliseconds idle_timeout,
                       std::unique_ptr<CacheSegment> table)
    : loop_(loop), cache_(config), table_(std::move(table)), timer_(loop), sweep_(loop), idle_timeout_(idle_timeout) {}

CacheFront::~CacheFront() = default;  // held and kept connections close

bool CacheFront::take(ConnectionPtr& connection, const RequestHead& head) {
  const auto request = cache::lookup_of(head);
  if (!request) return false;
  const auto now = cache::Clock::now();
  if (const cache::Entry* entry = cache_.find(*request, now)) {
    answer(std::move(connection), *entry, *request, head.bytes.size());
    return true;
  }
  switch (cache_.miss(*request, now)) {
    case cache::Miss::lead:
      connection->fill = true;
      connection->fill_host = request->host;
      connection->fill_target = request->target;
      arm_timer();
      return false;
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
    date_ = http_date(second);
  }
  return date_;
}

void CacheFront::answer(ConnectionPtr connection, const cache::Entry& entry, const cache::Lookup& request,
                        std::size_t head_bytes) {
  const long sent = send_answer(*connection, entry, request, head_bytes);
  if (sent < 0) return;  // the client is gone: closed
  if (static_cast<std::size_t>(sent) == answer_size_) return go_on(std::move(connection), request.keep_alive);
  finish_later(std::move(connection), static_cast<std::size_t>(sent), request.keep_alive);
}

long CacheFront::send_answer(Connection& c, const cache::Entry& entry, const cache::Lookup& request,
                             std::size_t head_bytes) {
  // The request is answered here: its bytes leave the stream, the worker never sees them.
  if (c.carried.size() >= head_bytes) {
    c.carried.erase(0, head_bytes);
  } else {
    const std::size_t in_kernel = head_bytes - c.carried.size();
    c.carried.clear();
    if (platform::discard_socket(c.socket.descriptor(), in_kernel) != static_cast<long>(in_kernel)) return -1;
  }
  extra_.assign("Age: ");
  append_number(extra_, static_cast<std::uint64_t>(cache::OutputCache::age_seconds(entry, cache::Clock::now())));
  extra_.append("\r\nDate: ").append(date(std::chrono::system_clock::now()));
  extra_.append("\r\nContent-Length: ");
  append_number(extra_, entry.body.size());
  if (!request.keep_alive) extra_.append("\r\nConnection: close");
  else if (request.http10) extra_.append("\r\nConnection: keep-alive");
  extra_.append("\r\n\r\n");
  pieces_[0] = entry.head;
  pieces_[1] = extra_;
  pieces_[2] = request.head_only ? std::string_view{} : std::string_view(entry.body);
  answer_size_ = pieces_[0].size() + pieces_[1].size() + pieces_[2].size();
  if (c.socket.has_handle()) return 0;  // libuv's: all of it through finish_later
  const long sent = platform::send_socket(c.socket.descriptor(), pieces_, 3);
  if (sent == UV_EAGAIN) return 0;
  return sent;
}

void CacheFront::go_on(ConnectionPtr connection, bool keep_alive) {
  if (!keep_alive) return;  // closed as it goes
  const Connection& c = *connection;
  // Waiting for its next request here: a hit is answered without the intake's set-up (a
  // poll handle made and closed per request). Where the master reads heads (Windows) or
  // holds bytes already, the intake takes it.
  if (!c.socket.has_handle() && c.carried.empty() && kept_.size() < kMaxKept) return keep(std::move(connection));
  reintake(std::move(connection));
}

void CacheFront::reintake(ConnectionPtr connection) {
  ready_for_intake(*connection);
  if (reintake_) reintake_(std::move(connection));
}

void CacheFront::finish_later(ConnectionPtr connection, std::size_t sent, bool keep_alive) {
  // The rest through libuv (a handle on Windows, or a full socket buffer), then on through
  // the intake. Copies the master's reintake, not this front, which an app's removal may
  // free while a write is under way.
  std::string rest;
  rest.reserve(answer_size_ - sent);
  std::size_t skip = sent;
  for (const auto& p : pieces_) {
    if (skip >= p.size()) {
      skip -= p.size();
      continue;
    }
    rest.append(p.substr(skip));
    skip = 0;
  }
  uv_stream_t* stream = connection->socket.stream();
  if (!stream) return;
  struct Pending {
    ConnectionPtr connection;
    bool keep_alive;
    std::function<void(ConnectionPtr)> reintake;
  };
  auto* pending = new Pending{std::move(connection), keep_alive, reintake_};
  stream->data = pending;
  if (UvWrite::start(std::make_unique<UvWrite>(std::move(rest)), stream, [](UvWrite& written, int status) {
        auto* p = static_cast<Pending*>(written.stream()->data);
        written.stream()->data = nullptr;
        if (status == 0 && p->keep_alive && p->reintake) {
          ready_for_intake(*p->connection);
          p->reintake(std::move(p->connection));
        }
        delete p;
      }) != 0) {
    stream->data = nullptr;
    delete pending;
  }
}

// ---- Keep-alive connections between hits ----

struct CacheFront::Kept {
  CacheFront* front = nullptr;
  ConnectionPtr connection;
  UvHandle<uv_poll_t> poll;
  std::chrono::steady_clock::time_point idle_since;
  std::list<Kept>::iterator at;
};

void CacheFront::keep(ConnectionPtr connection) {
  auto& k = kept_.emplace_back();
  k.at = std::prev(kept_.end());
  k.front = this;
  k.connection = std::move(connection);
  k.idle_since = std::chrono::steady_clock::now();
  k.poll = UvHandle<uv_poll_t>::make();
  if (uv_poll_init_socket(loop_, k.poll.get(), k.connection->socket.descriptor()) != 0) {
    k.poll = {};
    return release_kept(k);
  }
  k.poll.mark_initialized();
  k.poll->data = &k;
  if (uv_poll_start(k.poll.get(), UV_READABLE | UV_DISCONNECT, [](uv_poll_t* handle, int status, int) {
        auto& kept = *static_cast<Kept*>(handle->data);
        if (status < 0) return kept.front->drop_kept(kept);
        kept.front->next_request(kept);
      }) != 0)
    return release_kept(k);
  if (!sweeping_ && idle_timeout_.count() > 0) arm_sweep();  // 0: no keep-alive timeout
}

void CacheFront::next_request(Kept& k) {
  static std::string scratch;  // one loop thread; what is kept is what the parse points into now
  if (scratch.size() < kMaxKeptHead + 1) scratch.resize(kMaxKeptHead + 1);
  const long n = platform::peek_socket(k.connection->socket.descriptor(), scratch.data(), scratch.size());
  if (n == UV_EAGAIN) return;
  if (n <= 0) return drop_kept(k);  // closed by the client, or failed
  const auto parsed = parse_request_head(std::string_view(scratch.data(), static_cast<std::size_t>(n)), kMaxKeptHead);
  if (parsed.status == HeadStatus::complete) {
    const auto request = cache::lookup_of(parsed.head);
    const auto now = cache::Clock::now();
    const cache::Entry* entry = request ? cache_.find(*request, now) : nullptr;
    if (entry) {
      const long sent = send_answer(*k.connection, *entry, *request, parsed.head.bytes.size());
      if (sent < 0) return drop_kept(k);
      if (static_cast<std::size_t>(sent) == answer_size_) {
        if (!request->keep_alive) return drop_kept(k);
        k.idle_since = std::chrono::steady_clock::now();
        kept_.splice(kept_.end(), kept_, k.at);  // the most recently active last
        return;
      }
      const bool keep_alive = request->keep_alive;
      k.poll.reset();  // libuv's handle takes the descriptor for the rest
      ConnectionPtr c = std::move(k.connection);
      kept_.erase(k.at);
      return finish_later(std::move(c), static_cast<std::size_t>(sent), keep_alive);
    }
  }
  // Anything else (a miss, a request the cache does not answer, half a head, a malformed
  // one) is the intake's, with its rules and timeouts; the bytes are still in the kernel.
  release_kept(k);
}

void CacheFront::release_kept(Kept& k) {
  k.poll.reset();
  ConnectionPtr c = std::move(k.connection);
  kept_.erase(k.at);
  if (c) reintake(std::move(c));
}

void CacheFront::drop_kept(Kept& k) { kept_.erase(k.at); }  // closes the socket and the poll

void CacheFront::arm_sweep() {
  sweeping_ = true;
  sweep_.start<[](CacheFront& me) {
    // Idle past the app's keep-alive timeout: closed without a word, as the SDKs do.
    const auto due = std::chrono::steady_clock::now() - me.idle_timeout_;
    while (!me.kept_.empty() && me.kept_.front().idle_since <= due) me.drop_kept(me.kept_.front());
    me.sweeping_ = false;
    if (!me.kept_.empty()) me.arm_sweep();
  }>(this, 250);
}

void CacheFront::put(const ipc::CachePut& response) {
  const auto stored = cache_.put(response, cache::Clock::now());
  if (stored.entry && table_) publish(*stored.entry, stored.varies ? stored.primary : std::string_view());
  if (stored.ended_fill) release(stored.primary);
}

void CacheFront::publish(const cache::Entry& entry, std::string_view varying_primary) {
  const auto ms = [](cache::Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  };
  auto& writer = table_->writer();
  if (!varying_primary.empty()) writer.mark_varies(varying_primary, ms(entry.stored));
  writer.put(entry.key, entry.head, entry.body, ms(entry.stored), ms(entry.expires));
}

void CacheFront::pass(const ipc::CachePass& response) {
  if (const auto primary = cache_.pass(response.host, response.target, cache::Clock::now()); !primary.empty())
    release(primary);
}

void CacheFront::abandon(const ipc::CachePass& fill) {
  if (const auto primary = cache_.abandon(fill.host, fill.target); !primary.empty()) release(primary);
}

std::size_t CacheFront::purge(std::string_view prefix) {
  if (table_) table_->writer().purge(prefix);
  return cache_.purge(prefix);
}

void CacheFront::release(const std::string& primary) {
  auto it = waiting_.find(primary);
  if (it == waiting_.end()) return;
  auto held = std::move(it->second);
  waiting_.erase(it);
  // Each goes through the intake again: a hit now, or (a pass) to a worker.
  for (auto& c : held) reintake(std::move(c));
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
