#include "supervisor/core/cache/output_cache.h"

#include <algorithm>

namespace handoff::cache {
namespace {

// What an entry costs besides its strings: the list node, the index slot, the key's view.
constexpr std::size_t kEntryOverhead = 160;

std::string_view status_line(int status) {
  switch (status) {
    case 200: return "HTTP/1.1 200 OK\r\n";
    case 301: return "HTTP/1.1 301 Moved Permanently\r\n";
    case 404: return "HTTP/1.1 404 Not Found\r\n";
    default: return {};  // decide() keeps the others out
  }
}

std::string_view target_of(std::string_view key) {
  const auto host_end = key.find('\0');
  auto target = key.substr(host_end + 1);
  return target.substr(0, target.find('\0'));
}

}  // namespace

void OutputCache::set_config(const CacheConfig& config) {
  config_ = config;
  make_room(0);
}

const std::string& OutputCache::key_of(const Lookup& request) {
  primary_key(request.host, request.target, primary_);
  if (varying_.empty() || !varying_.contains(primary_)) return primary_;
  variant_key(primary_, request.accept_encoding, key_);
  return key_;
}

const Entry* OutputCache::find(const Lookup& request, Clock::time_point now) {
  const auto it = index_.find(std::string_view(key_of(request)));
  if (it == index_.end()) return nullptr;
  const auto entry = it->second;
  if (entry->expires <= now) {
    if (now >= entry->expires + config_.stale_while_revalidate) {
      erase(entry);
      return nullptr;
    }
    // Stale, within stale_while_revalidate: it answers while a fill refreshes it; the
    // request that finds no fill under way becomes that fill (a miss, which leads).
    primary_key(request.host, request.target, primary_);
    if (!fills_.contains(primary_)) return nullptr;
    ++counters_.stale;
  }
  if (entry != entries_.begin()) entries_.splice(entries_.begin(), entries_, entry);
  ++counters_.hits;
  return &*entry;
}

Miss OutputCache::miss(const Lookup& request, Clock::time_point now) {
  ++counters_.misses;
  // A HEAD's answer has no body to store: it neither leads a fill nor waits for one.
  if (request.head_only) return Miss::pass;
  primary_key(request.host, request.target, primary_);
  if (const auto p = passing_.find(std::string_view(primary_)); p != passing_.end()) {
    if (p->second > now) return Miss::pass;
    passing_.erase(p);
  }
  if (const auto f = fills_.find(std::string_view(primary_)); f != fills_.end())
    // A variant of a stored key: its fill was of another encoding, which answers nobody here.
    return varying_.contains(primary_) ? Miss::pass : Miss::wait;
  fills_.emplace(primary_, now + config_.lock_timeout);
  return Miss::lead;
}

OutputCache::Stored OutputCache::put(const ipc::CachePut& response, Clock::time_point now) {
  Stored result;
  primary_key(response.host, response.target, primary_);
  result.primary = primary_;
  if (const auto f = fills_.find(std::string_view(primary_)); f != fills_.end()) {
    fills_.erase(f);
    result.ended_fill = true;
  }
  const auto decision = decide(response, config_);
  if (!decision.store) {
    // A fill answered with something not to keep: its key passes for a while.
    if (result.ended_fill) passing_[primary_] = now + config_.pass_ttl;
    return result;
  }
  passing_.erase(primary_);
  Entry e;
  result.varies = decision.vary_encoding;
  if (decision.vary_encoding) {
    varying_.insert(primary_);
    variant_key(primary_, response.accept_encoding, e.key);
  } else {
    // Variants stored before the response stopped varying are never looked up again.
    if (auto v = varying_.find(std::string_view(primary_)); v != varying_.end()) varying_.erase(v);
    e.key = primary_;
  }
  e.head.assign(status_line(response.status));
  for (const auto& [name, value] : response.headers)
    if (kept_header(name)) e.head.append(name).append(": ").append(value).append("\r\n");
  e.body = response.body;
  e.stored = now;
  e.expires = now + decision.ttl;
  e.bytes = e.key.size() + e.head.size() + e.body.size() + kEntryOverhead;
  if (const auto old = index_.find(std::string_view(e.key)); old != index_.end()) erase(old->second);
  if (e.bytes > config_.max_size) return result;
  make_room(e.bytes);
  entries_.push_front(std::move(e));
  index_.emplace(std::string_view(entries_.front().key), entries_.begin());
  counters_.bytes += entries_.front().bytes;
  ++counters_.entries;
  ++counters_.stores;
  result.entry = &entries_.front();
  return result;
}

std::string OutputCache::pass(std::string_view host, std::string_view target, Clock::time_point now) {
  primary_key(host, target, primary_);
  const auto f = fills_.find(std::string_view(primary_));
  if (f == fills_.end()) return {};
  fills_.erase(f);
  passing_[primary_] = now + config_.pass_ttl;
  return primary_;
}

std::string OutputCache::abandon(std::string_view host, std::string_view target) {
  primary_key(host, target, primary_);
  const auto f = fills_.find(std::string_view(primary_));
  if (f == fills_.end()) return {};
  fills_.erase(f);
  return primary_;
}

std::vector<std::string> OutputCache::expire_fills(Clock::time_point now) {
  std::vector<std::string> ended;
  for (auto it = fills_.begin(); it != fills_.end();) {
    if (it->second > now) {
      ++it;
      continue;
    }
    passing_[it->first] = now + config_.pass_ttl;
    ended.push_back(it->first);
    it = fills_.erase(it);
  }
  // Passes that ran out are forgotten here too, so that keys seen once do not pile up.
  std::erase_if(passing_, [&](const auto& p) { return p.second <= now; });
  return ended;
}

std::optional<Clock::time_point> OutputCache::next_fill_deadline() const {
  std::optional<Clock::time_point> next;
  for (const auto& [key, deadline] : fills_)
    if (!next || deadline < *next) next = deadline;
  return next;
}

std::size_t OutputCache::purge(std::string_view prefix) {
  std::size_t removed = 0;
  for (auto it = entries_.begin(); it != entries_.end();) {
    const auto next = std::next(it);
    if (target_of(it->key).starts_with(prefix)) {
      erase(it);
      ++removed;
    }
    it = next;
  }
  if (prefix.empty()) varying_.clear();
  return removed;
}

void OutputCache::erase(Entries::iterator it) {
  counters_.bytes -= it->bytes;
  --counters_.entries;
  index_.erase(std::string_view(it->key));
  entries_.erase(it);
}

void OutputCache::make_room(std::size_t bytes) {
  while (!entries_.empty() && counters_.bytes + bytes > config_.max_size) {
    erase(std::prev(entries_.end()));
    ++counters_.evictions;
  }
}

}  // namespace handoff::cache
