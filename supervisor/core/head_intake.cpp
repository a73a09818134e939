#include "supervisor/core/head_intake.h"

#include <algorithm>
#include <span>

namespace handoff {

void HeadIntake::added(IntakeId id, Arrival arrival, Clock::time_point now) {
  // Slowloris: the oldest connection still sending its head makes room for the new one.
  while (!entries_.empty() && entries_.size() >= settings_.max_classifying) close(entries_.front());
  auto& e = entries_.emplace_back();
  index_[id] = std::prev(entries_.end());
  e.id = id;
  e.taken = arrival.carried.size();
  // Carried bytes come after the PROXY header, which a worker never sees.
  e.proxy_done = !settings_.proxy_protocol || arrival.handed_back || !arrival.carried.empty();
  e.bytes = std::move(arrival.carried);
  e.handed_back = arrival.handed_back;
  e.deadline = now + settings_.head_timeout;
}

HeadIntake::Entry* HeadIntake::find(IntakeId id) {
  auto it = index_.find(id);
  return it == index_.end() ? nullptr : &*it->second;
}

void HeadIntake::peeked(IntakeId id, std::string_view view, bool ended) {
  Entry* e = find(id);
  if (!e) return;
  e->bytes.resize(e->taken);  // what is taken stays; the kernel's view replaces the rest
  e->bytes.append(view);
  e->ended = e->ended || ended;
  decide(*e);
}

void HeadIntake::arrived(IntakeId id, std::string_view bytes) {
  Entry* e = find(id);
  if (!e) return;
  e->bytes.resize(e->taken);
  e->bytes.append(bytes);
  e->taken = e->bytes.size();
  decide(*e);
}

void HeadIntake::peer_closed(IntakeId id) {
  Entry* e = find(id);
  if (!e) return;
  e->ended = true;
  decide(*e);
}

void HeadIntake::lost(IntakeId id) {
  if (Entry* e = find(id)) close(*e);
}

void HeadIntake::tick(Clock::time_point now) {
  while (!entries_.empty() && entries_.front().deadline <= now) reject(entries_.front(), 408);
}

std::size_t HeadIntake::peek_length(IntakeId id) const {
  auto it = index_.find(id);
  const std::size_t taken = it == index_.end() ? 0 : it->second->taken;
  // One byte past the limit tells a head that is too long from one that just fits.
  const std::size_t head = settings_.max_head + 1 > taken ? settings_.max_head + 1 - taken : 1;
  const bool proxy = it != index_.end() && !it->second->proxy_done;
  return head + (proxy ? kMaxProxyHeader : 0);
}

std::optional<HeadIntake::Clock::time_point> HeadIntake::next_deadline() const {
  if (entries_.empty()) return std::nullopt;
  return entries_.front().deadline;
}

std::vector<IntakeId> HeadIntake::idle_due(Clock::time_point now) const {
  std::vector<IntakeId> out;
  for (const auto& e : entries_) {
    if (e.deadline > now) break;
    if (e.handed_back && e.bytes.empty()) out.push_back(e.id);
  }
  return out;
}

bool HeadIntake::strip_proxy_header(Entry& e) {
  const auto parsed =
      parse_proxy_header(std::span<const std::byte>(reinterpret_cast<const std::byte*>(e.bytes.data()), e.bytes.size()));
  switch (parsed.status) {
    case ProxyStatus::incomplete:
      if (e.ended || e.bytes.size() >= kMaxProxyHeader) break;
      edge_.waiting(e.id, e.bytes.size() - e.taken);
      return false;
    case ProxyStatus::invalid: break;
    case ProxyStatus::complete: {
      const auto& h = parsed.header;
      const std::size_t from_taken = std::min(h.length, e.taken);
      if (!edge_.proxied(e.id, h, h.length - from_taken)) break;
      e.bytes.erase(0, h.length);
      e.taken -= from_taken;
      e.proxy_done = true;
      return true;
    }
  }
  // Without a valid header the connection did not come through our load balancer.
  close(e);
  return false;
}

void HeadIntake::decide(Entry& e) {
  if (!e.proxy_done && !strip_proxy_header(e)) return;
  if (!settings_.read_head) {
    auto done = take(e);
    edge_.classified(done.front().id, nullptr, std::string_view(done.front().bytes).substr(0, done.front().taken));
    return;
  }
  auto parsed = parse_request_head(e.bytes, settings_.max_head);
  switch (parsed.status) {
    case HeadStatus::complete: {
      auto done = take(e);  // keeps the bytes `head` points into alive during the call
      const Entry& d = done.front();
      edge_.classified(d.id, &parsed.head, std::string_view(d.bytes).substr(0, d.taken));
      return;
    }
    case HeadStatus::too_large: return reject(e, 431);
    case HeadStatus::malformed: return reject(e, 400);
    case HeadStatus::incomplete:
      // The client stopped sending in the middle of a head: nothing will complete it.
      if (e.ended) return e.bytes.empty() ? close(e) : reject(e, 400);
      return edge_.waiting(e.id, e.bytes.size() - e.taken);
  }
}

HeadIntake::Entries HeadIntake::take(Entry& e) {
  const auto at = index_.find(e.id);
  const auto position = at->second;
  index_.erase(at);
  Entries out;
  out.splice(out.begin(), entries_, position);
  return out;
}

void HeadIntake::close(Entry& e) {
  const IntakeId id = e.id;
  take(e);
  edge_.closed(id);
}

void HeadIntake::reject(Entry& e, int status) {
  // A socket a draining worker gave back idle whose client never spoke again ends like an
  // idle keep-alive connection: closed, no answer to a request nobody sent.
  if (e.handed_back && e.bytes.empty()) return close(e);
  const IntakeId id = e.id;
  take(e);
  edge_.rejected(id, status);
}

}  // namespace handoff
