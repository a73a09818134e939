#include "httpsys_server.h"

#include <cstdio>
#include <exception>

#include "worker-sdk/cpp/src/cache_note.h"
#include "worker-sdk/cpp/src/response_writer.h"

#include "responder_state.h"

namespace handoff {

HttpSysServer::HttpSysServer(uv_loop_t* loop, HttpSession::AnyHandler handler, Callbacks callbacks)
    : loop_(loop), handler_(std::move(handler)), callbacks_(std::move(callbacks)) {}

HttpSysServer::~HttpSysServer() {
  receiver_.reset();  // joins the thread before the handle it wakes goes
  in_flight_.clear();
}

bool HttpSysServer::start(const ipc::HttpSys& queue, std::size_t max_body, std::optional<ipc::CacheOffer> cache,
                          std::string& error) {
  auto wakeup = UvHandle<uv_async_t>::make();
  if (int rc = uv_async_init(loop_, wakeup.get(), [](uv_async_t* a) {
        if (auto* self = static_cast<HttpSysServer*>(a->data)) self->on_async();
      });
      rc != 0) {
    error = std::string("uv_async_init: ") + uv_strerror(rc);
    return false;
  }
  wakeup.mark_initialized();
  wakeup->data = this;
  wakeup_ = std::move(wakeup);
  uv_async_t* async = wakeup_.get();
  receiver_ = platform::HttpSysReceiver::start(
      queue.queue, max_body,
      [this, async](platform::HttpSysRequest request) {
        {
          std::lock_guard lock(mutex_);
          arrived_.push_back(std::move(request));
        }
        uv_async_send(async);
      },
      [this, async](std::string why) {
        {
          std::lock_guard lock(mutex_);
          receiver_stopped_ = true;
          stop_reason_ = std::move(why);
        }
        uv_async_send(async);
      },
      error);
  if (!receiver_) {
    wakeup_.reset();
    return false;
  }
  receiving_ = true;
  prefix_ = queue.prefix;
  cache_ = cache;
  return true;
}

void HttpSysServer::drain() {
  if (receiver_) receiver_->stop();  // on_stopped follows, through on_async
}

void HttpSysServer::stop() {
  receiver_.reset();
  receiving_ = false;
  in_flight_.clear();
  wakeup_.reset();
}

void HttpSysServer::on_async() {
  std::deque<platform::HttpSysRequest> batch;
  bool stopped = false;
  std::string why;
  {
    std::lock_guard lock(mutex_);
    batch.swap(arrived_);
    stopped = std::exchange(receiver_stopped_, false);
    why = stop_reason_;
  }
  for (auto& request : batch) dispatch(std::move(request));
  if (stopped && receiving_) {
    receiving_ = false;
    if (!why.empty()) std::fprintf(stderr, "handoff worker: HTTP.SYS %s: %s\n", prefix_.c_str(), why.c_str());
    if (in_flight_.empty()) wakeup_.reset();
    if (idle() && callbacks_.idle) callbacks_.idle();
  }
}

void HttpSysServer::dispatch(platform::HttpSysRequest request) {
  const std::uint64_t id = request.id;
  if (request.too_large) {
    return answer(id, error_text(413), false);
  }
  const bool may_cache = cache_ && kernel_cacheable_request(request.request);
  if (auto* sync = std::get_if<Handler>(&handler_)) {
    Response response;
    try {
      response = (*sync)(request.request);
    } catch (const std::exception&) {
      return answer(id, error_text(500), false);
    }
    return answer(id, response, may_cache);
  }
  auto state = std::make_shared<Responder::State>();
  state->elsewhere = [this, id, may_cache](Response response) {
    in_flight_.erase(id);  // destroys this function's State: nothing of it is used after
    answer(id, response, may_cache);
  };
  in_flight_[id] = state;
  try {
    std::get<AsyncHandler>(handler_)(request.request, Responder(state));
  } catch (const std::exception&) {
    if (in_flight_.erase(id) != 0) answer(id, error_text(500), false);
  }
}

void HttpSysServer::answer(std::uint64_t id, const Response& response, bool may_cache) {
  std::string why;
  const auto cache_seconds = may_cache ? kernel_cache_seconds(response, *cache_) : std::nullopt;
  if (receiver_ && !receiver_->respond(id, response, cache_seconds, why))
    std::fprintf(stderr, "handoff worker: HTTP.SYS response: %s\n", why.c_str());
  if (callbacks_.responses) callbacks_.responses(1);
  if (idle()) {
    wakeup_.reset();
    if (callbacks_.idle) callbacks_.idle();
  }
}

}  // namespace handoff
