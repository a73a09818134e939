#include "supervisor/slot.h"

#include <csignal>
#include <variant>

#include "supervisor/app.h"
#include "supervisor/log.h"
#include "supervisor/worker_env.h"

namespace handoff {

template <class... Ts>
struct overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
overloaded(Ts...) -> overloaded<Ts...>;

Slot::Slot(App& app, int number) : app_(app), number_(number) {
  restart_timer_ = UvHandle<uv_timer_t>::make();
  uv_timer_init(app_.loop(), restart_timer_.get());
  restart_timer_.mark_initialized();
  restart_timer_->data = this;
}

Slot::~Slot() = default;

std::string Slot::name() const { return app_.config().name + "/" + std::to_string(number_); }

void Slot::apply(SlotEvent event) {
  const bool was_accepting = accepting();
  const auto [next, action] = transition(state_, event);
  state_ = next;
  switch (action) {
    case SlotAction::none: break;
    case SlotAction::spawn: spawn(); break;
    case SlotAction::arm_restart_timer:
      log_line(name() + ": restarting in " + std::to_string(kRestartDelay.count()) + " ms");
      uv_timer_start(
          restart_timer_.get(),
          [](uv_timer_t* t) {
            if (auto* me = static_cast<Slot*>(t->data)) me->apply(SlotEvent::timer);
          },
          static_cast<uint64_t>(kRestartDelay.count()), 0);
      break;
    case SlotAction::terminate:
      if (process_) process_->signal(SIGTERM);
      break;
    case SlotAction::report_stopped:
      uv_timer_stop(restart_timer_.get());
      app_.slot_stopped();
      return;
  }
  if (was_accepting != accepting()) app_.slot_changed();
}

void Slot::spawn() {
  ++generation_;
  const auto& app = app_.config();
  SpawnSpec spec;
  spec.argv = app.command;
  spec.cwd = app.cwd;
  spec.env = worker_environment(app_.inherited_environment(), {app, number_, generation_});
  spec.log_prefix = "[" + name() + "] ";
  spec.max_message = app_.whole_config().ipc_max_message;
  process_.reset();  // the previous generation has exited; its pipes are done
  std::string error;
  process_ = WorkerProcess::spawn(app_.loop(), spec, *this, error);
  if (!process_) {
    log_line(name() + ": cannot start " + app.command.front() + ": " + error);
    apply(SlotEvent::spawn_failed);
    return;
  }
  log_line(name() + ": started pid " + std::to_string(process_->pid()) + " (generation " +
           std::to_string(generation_) + ")");
  if (app.ready == ReadyMode::on_spawn) apply(SlotEvent::ready);
}

void Slot::enqueue(ConnectionPtr connection) {
  if (queue_.size() >= kMaxQueued) {
    reject(std::move(connection), "503 Service Unavailable");
    return;
  }
  queue_.push(std::move(connection));
  pump();
}

void Slot::pump() {
  if (!accepting()) return;
  if (queue_.begin_send()) send_in_flight();
}

void Slot::send_in_flight() {
  Connection& c = **queue_.in_flight();
  const int rc = process_->send(
      ipc::Handle{{c.id, c.address_text, c.port, std::string(c.listener)}}, c.socket.stream());
  // A broken channel is reported by its read side; the exit re-dispatches this one.
  if (rc != 0) log_line(name() + ": cannot send a connection: " + uv_strerror(rc));
}

void Slot::on_message(const ipc::Message& message) {
  std::visit(overloaded{
                 [&](const ipc::Hello& hello) {
                   if (hello.version != ipc::kVersion)
                     log_line(name() + ": worker speaks protocol version " + std::to_string(hello.version) +
                              ", we speak " + std::to_string(ipc::kVersion));
                   process_->send(ipc::Welcome{app_.config().name, number_, app_.config().workers, generation_});
                 },
                 [&](const ipc::Ready&) {
                   if (state_ != SlotState::starting) return;
                   log_line(name() + ": ready (pid " + std::to_string(process_->pid()) + ", generation " +
                            std::to_string(generation_) + ")");
                   apply(SlotEvent::ready);
                   pump();
                 },
                 [&](const ipc::HandleAck&) {
                   queue_.ack();  // the returned connection closes our copy as it goes
                   pump();
                 },
                 [&](const ipc::HandleNack&) {
                   if (queue_.nack()) {
                     send_in_flight();
                   } else if (auto lost = queue_.give_up()) {
                     log_line(name() + ": the worker refused connection " + std::to_string((*lost)->id) +
                              " " + std::to_string(HandoffQueue<ConnectionPtr>::kMaxNacks + 1) + " times");
                     reject(std::move(*lost), "503 Service Unavailable");
                     pump();
                   }
                 },
                 [](const auto&) {},  // unknown or not for the master: ignored
             },
             message);
}

void Slot::on_channel_lost() {
  if (state_ == SlotState::stopping || state_ == SlotState::stopped) return;
  // A worker that closed its channel can never get another connection; replace it.
  log_line(name() + ": pid " + std::to_string(process_->pid()) + " closed its channel; stopping it");
  process_->signal(SIGTERM);
  app_.slot_changed();
}

void Slot::on_exit(std::int64_t exit_status, int term_signal) {
  std::string how = term_signal ? "killed by signal " + std::to_string(term_signal)
                                : "exited with code " + std::to_string(exit_status);
  log_line(name() + ": pid " + std::to_string(process_->pid()) + " " + how);
  apply(SlotEvent::exited);
  // Whatever the worker had not acknowledged goes out again; nothing is dropped.
  auto unacknowledged = queue_.take_all();
  if (!unacknowledged.empty()) app_.redispatch(std::move(unacknowledged));
}

void Slot::kill() {
  if (process_) process_->signal(SIGKILL);
}

}  // namespace handoff
