#include "supervisor/edge/log_follower.h"

#include "uvglue/uv_write.h"

namespace handoff {

LogFollower::LogFollower(UvHandle<uv_pipe_t> pipe, std::string app, std::function<void(LogFollower*)> gone)
    : pipe_(std::move(pipe)), app_(std::move(app)), gone_(std::move(gone)) {
  pipe_->data = this;
  // Nothing more is expected from the client: reading only tells when it hangs up.
  uv_read_start(
      pipe_.stream(),
      [](uv_handle_t* h, size_t, uv_buf_t* buf) {
        auto* me = static_cast<LogFollower*>(h->data);
        *buf = uv_buf_init(me->buffer_, sizeof me->buffer_);
      },
      [](uv_stream_t* s, ssize_t n, const uv_buf_t*) {
        auto* me = static_cast<LogFollower*>(s->data);
        if (me && n < 0) me->lost();
      });
  add_log_reader(this);
}

LogFollower::~LogFollower() { remove_log_reader(this); }

void LogFollower::lost() {
  if (broken_) return;
  broken_ = true;
  uv_read_stop(pipe_.stream());
  if (gone_) std::exchange(gone_, nullptr)(this);  // last: it destroys this
}

void LogFollower::on_log_line(std::string_view app, std::string_view line) {
  if (broken_ || (!app_.empty() && app != app_)) return;
  if (queued_ + line.size() > kMaxQueued) {
    ++dropped_;
    return;
  }
  report_dropped();
  send(std::string(line));
}

void LogFollower::report_dropped() {
  if (!dropped_ || broken_) return;
  // Said once the client has room again, in the log's own format, before what follows.
  std::string note = format_log_line(log_format(), format_timestamp(std::chrono::system_clock::now()), "log_dropped",
                                     {{"lines", dropped_}, {"reason", "the follower reads too slowly"}});
  note.push_back('\n');
  dropped_ = 0;
  send(std::move(note));
}

void LogFollower::send(std::string bytes) {
  queued_ += bytes.size();
  auto write = std::make_unique<UvWrite>(std::move(bytes));
  const int rc = UvWrite::start(std::move(write), pipe_.stream(), [](UvWrite& written, int status) {
    // Through the stream's data: UvHandle clears it before the pipe closes.
    auto* me = static_cast<LogFollower*>(written.stream()->data);
    if (!me) return;
    me->queued_ -= written.size();
    if (status != 0) return me->lost();
    if (me->queued_ == 0) me->report_dropped();  // caught up: no need to wait for a next line
  });
  // Never here: a reader must not log, nor be destroyed while the log calls it. The next
  // read callback (EOF, error) or the owner's close ends it.
  if (rc != 0) broken_ = true;
}

void LogFollowers::add(UvHandle<uv_pipe_t> pipe, std::string app) {
  list_.push_back(std::make_unique<LogFollower>(std::move(pipe), std::move(app), [this](LogFollower* gone) {
    std::erase_if(list_, [gone](const auto& f) { return f.get() == gone; });
  }));
}

}  // namespace handoff
