// The pure parts of observability and control: the scoreboard layout and its writers, the
// status table and JSON, the Prometheus text, the histogram, restart reasons, the control
// protocol, the admin routes, and the config keys that turn them on.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include <cstring>
#include <variant>
#include <vector>

#include "protocols/build_info.h"
#include "protocols/scoreboard.h"
#include "supervisor/core/config_loader.h"
#include "tests/unit/support.h"
#include "supervisor/core/control/control_protocol.h"
#include "supervisor/core/observe/admin_routes.h"
#include "supervisor/core/observe/histogram.h"
#include "supervisor/core/observe/cpu_rate.h"
#include "supervisor/core/observe/metrics_text.h"
#include "supervisor/core/observe/restart_reasons.h"
#include "supervisor/core/observe/status_view.h"
#include "supervisor/core/worker_env.h"

using namespace handoff;
using namespace std::chrono_literals;
namespace sb = handoff::scoreboard;

namespace {

struct Board {
  explicit Board(std::uint32_t capacity = 8) : memory(sb::segment_bytes(capacity) / 8 + 1) {
    header = sb::format(memory.data(), memory.size() * 8, capacity, 4242, 1000);
  }
  std::vector<std::uint64_t> memory;  // 8-byte aligned
  sb::Header* header = nullptr;
};

}  // namespace

TEST_CASE("scoreboard: format, validate, allocate and release records") {
  Board b(4);
  REQUIRE(b.header);
  CHECK(sb::validate(b.memory.data(), b.memory.size() * 8) == b.header);
  CHECK(sb::validate(b.memory.data(), 16) == nullptr);  // too small
  CHECK(b.header->master_pid.load() == 4242);

  auto web1 = sb::allocate(b.header, "web", 1);
  auto web2 = sb::allocate(b.header, "web", 2);
  auto api1 = sb::allocate(b.header, "api", 1);
  auto last = sb::allocate(b.header, "api", 2);
  REQUIRE((web1 && web2 && api1 && last));
  CHECK_FALSE(sb::allocate(b.header, "api", 3));  // full

  auto all = sb::read_all(*b.header);
  REQUIRE(all.size() == 4);
  CHECK(all[0].app == "api");  // ordered by app, then slot
  CHECK(all[0].slot == 1);
  CHECK(all[2].app == "web");
  CHECK(all[3].state == SlotState::stopped);

  sb::release(*sb::record(b.header, *web2));
  CHECK(sb::read_all(*b.header).size() == 3);
  auto again = sb::allocate(b.header, "web", 5);
  CHECK(again == web2);  // the freed record is reused, cleared
  CHECK(sb::read(*sb::record(b.header, *again), *again).slot == 5);
}

TEST_CASE("scoreboard: a worker writes its counters only while it is the current generation") {
  Board b;
  auto index = *sb::allocate(b.header, "web", 1);
  sb::Record& r = *sb::record(b.header, index);
  CHECK(sb::describes(r, "web", 1));
  CHECK_FALSE(sb::describes(r, "web", 2));
  CHECK_FALSE(sb::describes(r, "api", 1));

  sb::begin_worker(r, 100, 1, 5000);
  sb::add(r, &sb::Record::connections, 1, 1);
  sb::add(r, &sb::Record::requests, 1, 3);
  sb::add(r, &sb::Record::bytes, 1, 300);
  sb::heartbeat(r, 1, 6000);
  auto s = sb::read(r, index);
  CHECK(s.pid == 100);
  CHECK(s.requests == 3);
  CHECK(s.connections == 1);
  CHECK(s.bytes == 300);
  CHECK(s.heartbeat_ms == 6000);
  // Self-reported: the master's copy of `stats` leaves the counters alone.
  sb::report_stats(r, 1, 99, 99, 99, 7000);
  CHECK(sb::read(r, index).requests == 3);

  // A replacement takes over: counters start again, the old worker's writes are ignored.
  sb::begin_worker(r, 200, 2, 8000);
  sb::add(r, &sb::Record::requests, 1, 10);
  sb::add(r, &sb::Record::connections, 1, -1);
  s = sb::read(r, index);
  CHECK(s.pid == 200);
  CHECK(s.generation == 2);
  CHECK(s.requests == 0);
  CHECK(s.connections == 0);
  // A worker that does not write itself (Node) is reported from its stats.
  sb::report_stats(r, 2, 7, 2, 512, 9000);
  sb::report_stats(r, 1, 1000, 1000, 1000, 9000);  // not the current one: ignored
  s = sb::read(r, index);
  CHECK(s.requests == 7);
  CHECK(s.connections == 2);
  CHECK(s.bytes == 512);
  CHECK(s.heartbeat_ms == 9000);

  sb::set_last_exit(r, "killed by signal 9");
  CHECK(sb::read(r, index).last_exit == "killed by signal 9");
  sb::set_last_exit(r, std::string(500, 'x'));  // cut to the field's size
  CHECK(sb::read(r, index).last_exit.size() == sb::kExitBytes - 1);
}

TEST_CASE("status: table and JSON from the same snapshot") {
  Board b;
  auto i = *sb::allocate(b.header, "web", 1);
  sb::Record& r = *sb::record(b.header, i);
  sb::begin_worker(r, 321, 3, 10'000);
  r.state.store(static_cast<std::uint32_t>(SlotState::ready));
  r.requests.store(1500);
  r.rss.store(12 * 1024 * 1024);
  r.rate_milli.store(2500);
  r.restarts.store(2);
  sb::set_last_exit(r, "exit code 1");
  auto j = *sb::allocate(b.header, "web", 2);
  sb::record(b.header, j)->state.store(static_cast<std::uint32_t>(SlotState::backoff));

  r.cpu_ms.store(81'500);
  r.cpu_milli.store(250);
  sb::set_master_usage(*b.header, 2'000, 15, 8 * 1024 * 1024);
  StatusInput in = read_status(*b.header, 75'000);
  in.master_pid = 4242;
  in.master_started_ms = 1000;
  const auto json = status_json(in);
  CHECK(json["master"]["pid"] == 4242);
  // The master's build as its scoreboard header records it.
  CHECK(json["master"]["version"] == std::string(build::kVersion));
  CHECK(json["master"]["commit"] == std::string(build::kCommit));
  CHECK(json["master"]["uptime_ms"] == 74'000);
  CHECK(json["master"]["cpu_percent"] == doctest::Approx(1.5));
  CHECK(json["master"]["cpu_seconds"] == doctest::Approx(2.0));
  CHECK(json["master"]["rss"] == 8 * 1024 * 1024);
  REQUIRE(json["slots"].size() == 2);
  CHECK(json["slots"][0]["pid"] == 321);
  CHECK(json["slots"][0]["uptime_ms"] == 65'000);
  CHECK(json["slots"][0]["requests"] == 1500);
  CHECK(json["slots"][0]["requests_per_second"] == doctest::Approx(2.5));
  CHECK(json["slots"][0]["cpu_percent"] == doctest::Approx(25.0));
  CHECK(json["slots"][0]["cpu_seconds"] == doctest::Approx(81.5));
  CHECK(json["slots"][0]["last_exit"] == "exit code 1");
  CHECK(json["slots"][1]["state"] == "backoff");
  CHECK(json["slots"][1]["pid"] == 0);

  const std::string table = status_table(in);
  CHECK(table.find("APP       SLOT   PID  STATE    GEN  UPTIME  RESTARTS  CONNS  QUEUE  REQUESTS  REQ/S  CPU%    RSS  LAST EXIT\n") == 0);
  CHECK(table.find("(master)     -  4242  running    -   1m14s         -      -      -         -      -   1.5   8.0M  -\n") !=
        std::string::npos);
  CHECK(table.find("web          1   321  ready      3   1m05s         2      0      0      1500    2.5  25.0  12.0M  exit code 1") !=
        std::string::npos);
  CHECK(table.find("WARNING") == std::string::npos);
  CHECK(json["warnings"].empty());
  CHECK(json["slots"][0]["kernel_backlog"] == 0);
  CHECK(table.find("web          2     -  backoff") != std::string::npos);

  CHECK(format_uptime(0) == "-");
  CHECK(format_uptime(45'000) == "45s");
  CHECK(format_uptime(3 * 3600'000 + 12 * 60'000) == "3h12m");
  CHECK(format_uptime(2 * 86400'000LL + 3 * 3600'000) == "2d03h");
  CHECK(format_bytes(0) == "-");
  CHECK(format_bytes(1536) == "2K");
  CHECK(format_bytes(3ULL << 30) == "3.00G");
}

TEST_CASE("status and metrics: kernel dispatch's accept queues and strangers") {
  Board b;
  for (std::uint32_t n : {1u, 2u}) {
    sb::Record& r = *sb::record(b.header, *sb::allocate(b.header, "web", n));
    sb::begin_worker(r, 300 + n, 1, 10'000);
    r.state.store(static_cast<std::uint32_t>(SlotState::ready));
    r.kernel_queued.store(n == 1 ? 7 : 0);
    r.kernel_backlog.store(511);
    r.kernel_strangers.store(1);
    r.stranger_pid.store(999);
  }
  sb::Record& api = *sb::record(b.header, *sb::allocate(b.header, "api", 1));  // master dispatch
  api.queued.store(3);
  StatusInput in = read_status(*b.header, 75'000);
  const auto json = status_json(in);
  REQUIRE(json["slots"].size() == 3);
  CHECK(json["slots"][0]["app"] == "api");
  CHECK(json["slots"][0]["queued"] == 3);
  CHECK(json["slots"][0]["kernel_backlog"] == 0);
  CHECK(json["slots"][1]["kernel_queued"] == 7);
  CHECK(json["slots"][1]["kernel_backlog"] == 511);
  CHECK(json["slots"][1]["kernel_strangers"] == 1);
  CHECK(json["slots"][1]["stranger_pid"] == 999);
  REQUIRE(json["warnings"].size() == 1);  // one per app, not per slot
  CHECK(json["warnings"][0].get<std::string>().find("app web: 1 stranger") == 0);
  CHECK(json["warnings"][0].get<std::string>().find("(pid 999)") != std::string::npos);
  const std::string table = status_table(in);
  CHECK(table.find("\nWARNING: app web: 1 stranger") != std::string::npos);
  // QUEUE: what waits for the slot, wherever it waits.
  CHECK(table.find("api          1     -  stopped    0       -         0      0      3") != std::string::npos);

  MetricsInput m;
  m.slots = in.slots;
  AppMetrics web;
  web.name = "web";
  web.kernel_listener = "public";
  web.kernel_strangers = 1;
  AppMetrics api_metrics;
  api_metrics.name = "api";
  m.apps = {api_metrics, web};
  const std::string text = render_metrics(m);
  CHECK(text.find("handoff_kernel_queue_depth{app=\"web\",slot=\"1\"} 7\n") != std::string::npos);
  CHECK(text.find("handoff_kernel_queue_depth{app=\"web\",slot=\"2\"} 0\n") != std::string::npos);
  CHECK(text.find("handoff_kernel_queue_backlog{app=\"web\",slot=\"1\"} 511\n") != std::string::npos);
  CHECK(text.find("handoff_kernel_queue_depth{app=\"api\"") == std::string::npos);
  CHECK(text.find("handoff_kernel_group_strangers{app=\"web\",listener=\"public\"} 1\n") != std::string::npos);
  CHECK(text.find("handoff_kernel_group_strangers{app=\"api\"") == std::string::npos);
  CHECK(text.find("handoff_connections_queued{app=\"api\",slot=\"1\"} 3\n") != std::string::npos);

  // Master dispatch alone: none of these families.
  MetricsInput plain;
  plain.slots = {in.slots[0]};
  plain.apps = {api_metrics};
  CHECK(render_metrics(plain).find("handoff_kernel_") == std::string::npos);
}

TEST_CASE("histogram: cumulative buckets, sum and count") {
  Histogram h;
  h.observe(0.00005);  // first bucket
  h.observe(0.003);    // <= 0.005
  h.observe(99);       // +Inf only
  CHECK(h.count() == 3);
  CHECK(h.sum() == doctest::Approx(99.00305));
  CHECK(h.cumulative(0) == 1);
  CHECK(h.cumulative(4) == 1);  // 0.0025
  CHECK(h.cumulative(5) == 2);  // 0.005
  CHECK(h.cumulative(Histogram::kBounds.size() - 1) == 2);
  CHECK(h.cumulative(Histogram::kBounds.size()) == 3);
}

TEST_CASE("restart reasons from lifecycle events") {
  using namespace slot_event;
  RestartReasons r;
  const ExitStatus killed{0, 9, false};
  r.on_event(Exited::unplanned(1, killed, 1s));
  r.on_event(Backoff{});
  r.on_event(Killed{2, {KillReason::heartbeat_timeout, {}}});
  r.on_event(Exited::unplanned(2, killed, 1s));
  r.on_event(Backoff{});
  r.on_event(Killed{3, {KillReason::channel_closed, {}}});
  r.on_event(Exited::unplanned(3, killed, 1s));
  r.on_event(Backoff{});
  r.on_event(Recycling{4, RestartReason::max_rss});
  r.on_event(Recycling{5, RestartReason::reload});
  r.on_event(Exited::retired(4, {}));  // the drained one: nothing
  r.on_event(Killed{6, {KillReason::start_timeout, {}}});
  r.on_event(StartFailed{6, killed, Kill{KillReason::start_timeout, {}}, ""});
  r.on_event(Backoff{});
  r.on_event(Killed{7, {KillReason::protocol, "a listening socket"}});
  r.on_event(Exited::unplanned(7, killed, 1s));
  r.on_event(Backoff{});
  r.on_event(Killed{8, {KillReason::ack_timeout, {}}});
  r.on_event(Exited::unplanned(8, killed, 1s));
  r.on_event(Backoff{});
  const std::map<RestartReason, std::uint64_t> want{{RestartReason::crash, 2},         {RestartReason::hung, 2},
                                                    {RestartReason::max_rss, 1},       {RestartReason::reload, 1},
                                                    {RestartReason::start_timeout, 1}, {RestartReason::protocol, 1}};
  CHECK(r.counts() == want);
}

TEST_CASE("restart reasons: one list, each with its own label name") {
  std::set<std::string_view> names;
  for (RestartReason reason : kRestartReasons) names.insert(to_string(reason));
  CHECK(names.size() == kRestartReasons.size());
  CHECK(names.count("unknown") == 0);
  // Every value of the enum is in the list, in the enum's order (a map by reason iterates so).
  for (std::size_t i = 0; i < kRestartReasons.size(); ++i) CHECK(static_cast<std::size_t>(kRestartReasons[i]) == i);
  CHECK(to_string(static_cast<RestartReason>(kRestartReasons.size())) == "unknown");
  // The list is in the order of the names: /metrics lists them so.
  CHECK(std::is_sorted(kRestartReasons.begin(), kRestartReasons.end(),
                       [](RestartReason a, RestartReason b) { return to_string(a) < to_string(b); }));
}

TEST_CASE("metrics: Prometheus text with HELP, TYPE, escaped labels and a histogram") {
  Board b;
  auto i = *sb::allocate(b.header, "we\"b", 1);
  sb::Record& r = *sb::record(b.header, i);
  sb::begin_worker(r, 7, 1, 0);
  r.state.store(static_cast<std::uint32_t>(SlotState::ready));
  r.handed_off.store(12);
  MetricsInput in;
  in.master_started_ms = 1'700'000'000'123;
  in.slots = sb::read_all(*b.header);
  AppMetrics app;
  app.name = "we\"b";
  app.rejected[503] = 4;
  app.rejected[404] = 2;  // a path no app claims, on a port of this app alone
  app.handoff_latency.observe(0.0002);
  app.restarts[1][RestartReason::crash] = 3;
  app.restarts[2];  // a slot that never restarted
  app.ready_workers = 1;
  in.apps.push_back(app);
  in.listener_rejected["sh\"ared"][408] = 5;  // a listener of several apps, no app known
  const std::string text = render_metrics(in);
  auto has = [&](const std::string& line) {
    INFO(line);
    CHECK(text.find(line + "\n") != std::string::npos);
  };
  has("handoff_master_start_time_seconds 1700000000.123");
  has("handoff_build_info{version=\"" + std::string(build::kVersion) + "\",commit=\"" + std::string(build::kCommit) +
      "\"} 1");
  has("# TYPE handoff_connections_dispatched_total counter");
  has("handoff_connections_dispatched_total{app=\"we\\\"b\",slot=\"1\"} 12");
  has("handoff_slot_state{app=\"we\\\"b\",slot=\"1\",state=\"ready\"} 1");
  has("handoff_connections_rejected_total{app=\"we\\\"b\",status=\"503\"} 4");
  has("handoff_connections_rejected_total{app=\"we\\\"b\",status=\"408\"} 0");
  has("handoff_connections_rejected_total{app=\"we\\\"b\",status=\"431\"} 0");
  has("handoff_connections_rejected_total{app=\"we\\\"b\",status=\"400\"} 0");
  has("handoff_connections_rejected_total{app=\"we\\\"b\",status=\"404\"} 2");
  has("handoff_connections_rejected_total{listener=\"sh\\\"ared\",status=\"408\"} 5");
  CHECK(text.find("listener=\"sh\\\"ared\",status=\"503\"") == std::string::npos);  // only what was counted
  has("handoff_slot_restarts_total{app=\"we\\\"b\",slot=\"1\",reason=\"crash\"} 3");
  // Every reason of every slot from the start, at 0 until it happens.
  has("handoff_slot_restarts_total{app=\"we\\\"b\",slot=\"1\",reason=\"hung\"} 0");
  has("handoff_slot_restarts_total{app=\"we\\\"b\",slot=\"2\",reason=\"crash\"} 0");
  has("handoff_slot_restarts_total{app=\"we\\\"b\",slot=\"2\",reason=\"start_timeout\"} 0");
  has("# TYPE handoff_handoff_latency_seconds histogram");
  has("handoff_handoff_latency_seconds_bucket{app=\"we\\\"b\",le=\"0.0001\"} 0");
  has("handoff_handoff_latency_seconds_bucket{app=\"we\\\"b\",le=\"0.00025\"} 1");
  has("handoff_handoff_latency_seconds_bucket{app=\"we\\\"b\",le=\"+Inf\"} 1");
  has("handoff_handoff_latency_seconds_count{app=\"we\\\"b\"} 1");
  CHECK(escape_label("a\\b\nc") == "a\\\\b\\nc");
}

TEST_CASE("metrics: the master's process_* metrics, worker CPU, queue wait, and no series a worker kind never reports") {
  Board b;
  sb::Record& sdk = *sb::record(b.header, *sb::allocate(b.header, "sdk", 1));
  sb::begin_worker(sdk, 7, 1, 0);
  sdk.cpu_ms.store(2'500);
  sb::Record& plain = *sb::record(b.header, *sb::allocate(b.header, "plain", 1));
  sb::begin_worker(plain, 8, 1, 0);
  MetricsInput in;
  in.master_started_ms = 1'700'000'000'000;
  in.process = {.cpu_seconds = 1.25, .resident_memory_bytes = 4096, .virtual_memory_bytes = 8192, .open_fds = 12,
                .max_fds = 1024};
  in.slots = sb::read_all(*b.header);
  AppMetrics a;
  a.name = "sdk";
  a.queue_wait.observe(0);
  a.queue_wait.observe(3);
  AppMetrics p;
  p.name = "plain";
  p.worker_counters = false;  // ready: on_spawn
  in.apps = {a, p};
  const std::string text = render_metrics(in);
  auto has = [&](const std::string& line) {
    INFO(line);
    CHECK(text.find(line + "\n") != std::string::npos);
  };
  has("# TYPE process_cpu_seconds_total counter");
  has("process_cpu_seconds_total 1.25");
  has("process_resident_memory_bytes 4096");
  has("process_virtual_memory_bytes 8192");
  has("process_open_fds 12");
  has("process_max_fds 1024");
  has("process_start_time_seconds 1700000000.000");
  has("handoff_worker_cpu_seconds_total{app=\"sdk\",slot=\"1\"} 2.5");
  has("handoff_worker_cpu_seconds_total{app=\"plain\",slot=\"1\"} 0");
  has("handoff_worker_requests_total{app=\"sdk\",slot=\"1\"} 0");
  has("handoff_worker_response_bytes_total{app=\"sdk\",slot=\"1\"} 0");
  CHECK(text.find("handoff_worker_requests_total{app=\"plain\"") == std::string::npos);
  CHECK(text.find("handoff_worker_response_bytes_total{app=\"plain\"") == std::string::npos);
  CHECK(text.find("handoff_worker_connections{app=\"plain\"") == std::string::npos);
  has("# TYPE handoff_queue_wait_seconds histogram");
  has("handoff_queue_wait_seconds_bucket{app=\"sdk\",le=\"0.0001\"} 1");
  has("handoff_queue_wait_seconds_bucket{app=\"sdk\",le=\"2.5\"} 1");
  has("handoff_queue_wait_seconds_bucket{app=\"sdk\",le=\"5\"} 2");
  has("handoff_queue_wait_seconds_count{app=\"sdk\"} 2");
  // Windows has no virtual size nor descriptor limit: those families are left out.
  in.process.virtual_memory_bytes.reset();
  in.process.max_fds.reset();
  const std::string windows = render_metrics(in);
  CHECK(windows.find("process_max_fds") == std::string::npos);
  CHECK(windows.find("process_virtual_memory_bytes") == std::string::npos);
}

TEST_CASE("cpu rate: a core's thousandths between two readings of one process") {
  using namespace std::chrono_literals;
  CpuRate rate;
  const CpuRate::TimePoint t0{};
  CHECK(rate.sample(10, 5'000, t0) == 0);            // a first reading
  CHECK(rate.sample(10, 5'500, t0 + 1s) == 500);      // half a core
  CHECK(rate.sample(10, 7'500, t0 + 2s) == 2000);     // two cores
  CHECK(rate.sample(11, 100, t0 + 3s) == 0);          // another process: a first reading again
  CHECK(rate.sample(11, 100, t0 + 3s) == 0);          // no time passed
  CHECK(rate.sample(11, 350, t0 + 3500ms) == 500);
}

TEST_CASE("control protocol: one JSON line each way") {
  CHECK(control::encode(control::Request{control::Command::status, {}, 0}) == "{\"cmd\":\"status\"}\n");
  CHECK(control::encode(control::Request{control::Command::scale, "web", 4}) ==
        "{\"cmd\":\"scale\",\"app\":\"web\",\"workers\":4}\n");
  auto scale = control::decode_request(R"({"cmd":"scale","app":"web","workers":4})");
  REQUIRE(std::holds_alternative<control::Request>(scale));
  CHECK(std::get<control::Request>(scale).app == "web");
  CHECK(std::get<control::Request>(scale).workers == 4);

  auto error = [](std::string_view line) {
    auto r = control::decode_request(line);
    REQUIRE(std::holds_alternative<std::string>(r));
    return std::get<std::string>(r);
  };
  CHECK(error("not json") == "expected one JSON object");
  CHECK(error(R"({"cmd":"rollback"})") == "unknown command \"rollback\" (status, reload, restart, scale, stop, logs, cache_purge)");
  CHECK(error(R"({"cmd":"restart"})") == "restart needs \"app\"");
  CHECK(error(R"({"cmd":"cache_purge","prefix":1})") == "cache_purge: \"prefix\" must be a string");
  control::Request purge{control::Command::cache_purge, "web", 0};
  purge.prefix = "/img/";
  CHECK(control::encode(purge) == "{\"cmd\":\"cache_purge\",\"app\":\"web\",\"prefix\":\"/img/\"}\n");
  auto purged = control::decode_request(R"({"cmd":"cache_purge","app":"web","prefix":"/img/"})");
  REQUIRE(std::holds_alternative<control::Request>(purged));
  CHECK(std::get<control::Request>(purged).prefix == "/img/");
  CHECK(error(R"({"cmd":"reload","wait":1})") == "\"wait\" must be true or false");
  CHECK(error(R"({"cmd":"reload","timeout_ms":0})") == "\"timeout_ms\" must be a positive integer");
  CHECK(error(R"({"cmd":"scale","workers":2})") == "scale needs \"app\"");
  CHECK(error(R"({"cmd":"scale","app":"web","workers":"2"})") == "scale needs \"workers\", an integer");
  CHECK(error(R"({"cmd":"scale","app":"web","workers":0})") == "workers must be from 1 to 4096");

  // reload and restart: waiting for their rolls, or not (a bare reload, as before).
  control::Request reload{control::Command::reload, {}, 0};
  CHECK(control::encode(reload) == "{\"cmd\":\"reload\"}\n");
  reload.wait = true;
  reload.config_only = true;
  reload.timeout_ms = 5000;
  CHECK(control::encode(reload) == "{\"cmd\":\"reload\",\"wait\":true,\"config_only\":true,\"timeout_ms\":5000}\n");
  auto waiting = control::decode_request(R"({"cmd":"reload","wait":true,"config_only":true,"timeout_ms":5000})");
  REQUIRE(std::holds_alternative<control::Request>(waiting));
  CHECK(std::get<control::Request>(waiting).wait);
  CHECK(std::get<control::Request>(waiting).config_only);
  CHECK(std::get<control::Request>(waiting).timeout_ms == 5000);
  CHECK_FALSE(std::get<control::Request>(control::decode_request(R"({"cmd":"reload"})")).wait);
  auto restart = control::decode_request(R"({"cmd":"restart","app":"web","wait":true})");
  REQUIRE(std::holds_alternative<control::Request>(restart));
  CHECK(std::get<control::Request>(restart).command == control::Command::restart);
  CHECK(std::get<control::Request>(restart).app == "web");
  CHECK(control::encode(std::get<control::Request>(restart)) == "{\"cmd\":\"restart\",\"app\":\"web\",\"wait\":true}\n");

  control::Reply ok{true, "stopping", {}};
  auto back = control::decode_reply(control::encode(ok).substr(0, control::encode(ok).size() - 1));
  REQUIRE(std::holds_alternative<control::Reply>(back));
  CHECK(std::get<control::Reply>(back).ok);
  CHECK(std::get<control::Reply>(back).message == "stopping");
  auto refused = control::decode_reply(R"({"ok":false,"error":"permission denied"})");
  REQUIRE(std::holds_alternative<control::Reply>(refused));
  CHECK_FALSE(std::get<control::Reply>(refused).ok);
  CHECK(std::get<control::Reply>(refused).message == "permission denied");
}

namespace {
struct FakeSource final : AdminSource {
  bool is_ready = false;
  std::string metrics_text() override { return "m 1\n"; }
  std::string status_text() override { return "{}"; }
  bool healthy(std::string&) override { return true; }
  bool ready(std::string& detail) override {
    detail = "app web: 0 of 1 workers ready";
    return is_ready;
  }
};
}  // namespace

TEST_CASE("admin routes") {
  FakeSource source;
  CHECK(route_admin("GET", "/metrics", source).body == "m 1\n");
  CHECK(route_admin("GET", "/metrics?x=1", source).status == 200);
  CHECK(route_admin("GET", "/healthz", source).status == 200);
  auto readyz = route_admin("GET", "/readyz", source);
  CHECK(readyz.status == 503);
  CHECK(readyz.body == "app web: 0 of 1 workers ready\n");
  source.is_ready = true;
  CHECK(route_admin("GET", "/readyz", source).status == 200);
  CHECK(route_admin("GET", "/status", source).content_type == "application/json");
  CHECK(route_admin("POST", "/metrics", source).status == 405);
  CHECK(route_admin("GET", "/", source).status == 404);
  const auto bytes = serialize({200, "text/plain", "ok\n"}, false);
  CHECK(bytes == "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nCache-Control: no-store\r\n"
                 "Connection: close\r\n\r\nok\n");
  CHECK(serialize({200, "text/plain", "ok\n"}, true).find("ok\n") == std::string::npos);
}

TEST_CASE("config: admin, control_socket and min_ready") {
  const std::string base = "listeners:\n  - address: 127.0.0.1:8080\napps:\n  - name: web\n    command: w\n    workers: 2\n";
  auto parse = [](const std::string& text) { return parse_config(text, "/etc/handoff/cluster.yaml", "/etc/handoff", test::parsing_host()); };
  auto plain = std::get<Config>(parse(base));
  CHECK_FALSE(plain.admin.enabled);
  CHECK(std::filesystem::path(plain.control_socket).lexically_normal() == std::filesystem::path("/etc/handoff/cluster.sock").lexically_normal());
  CHECK(plain.apps[0].min_ready == 1);

  auto on = std::get<Config>(parse(base + "    min_ready: 2\nadmin: 127.0.0.1:9090\ncontrol_socket: run/ctl.sock\n"));
  CHECK(on.admin.enabled);
  CHECK(on.admin.host == "127.0.0.1");
  CHECK(on.admin.port == 9090);
  CHECK(std::filesystem::path(on.control_socket).lexically_normal() == std::filesystem::path("/etc/handoff/run/ctl.sock").lexically_normal());
  CHECK(on.apps[0].min_ready == 2);

  auto open = std::get<Config>(parse(base + "admin: {address: \"0.0.0.0:9090\", public: true}\n"));
  CHECK(open.admin.is_public);

  auto errors = [&](const std::string& text) {
    auto r = parse(text);
    REQUIRE(std::holds_alternative<ConfigErrors>(r));
    return std::get<ConfigErrors>(r).front().to_string();
  };
  CHECK(errors(base + "admin: 0.0.0.0:9090\n") ==
        "/etc/handoff/cluster.yaml:7:8: admin: the admin endpoint would listen on 0.0.0.0, which is not loopback; it "
        "has no authentication, so say `public: true` to mean it");
  CHECK(errors(base + "admin: {address: \"[::]:9090\", public: false}\n").find("not loopback") != std::string::npos);
  CHECK(errors(base + "admin: nowhere\n").find("admin: expected an IP address and port") != std::string::npos);
  CHECK(errors(base + "    min_ready: 3\n") ==
        "/etc/handoff/cluster.yaml:7:16: apps[0].min_ready: min_ready is 3 but the app has only 2 workers");
  CHECK(errors(base + "control_socket: /" + std::string(120, 'x') + "\n").find("longer than 107 bytes") !=
        std::string::npos);
}

TEST_CASE("worker environment: the scoreboard for C++ workers, no service manager variables") {
  AppConfig app;
  app.name = "web";
  auto env = worker_environment({{"NOTIFY_SOCKET", "/run/systemd/notify"}, {"WATCHDOG_USEC", "1"}, {"LISTEN_FDS", "1"}},
                                {app, 1, 1}, ScoreboardRef{"handoff-0123", 7});
  auto has = [&](const std::string& v) { return std::find(env.begin(), env.end(), v) != env.end(); };
  CHECK(has("HANDOFF_SCOREBOARD=handoff-0123"));
  CHECK(has("HANDOFF_SCOREBOARD_RECORD=7"));
  for (const auto& e : env) {
    CHECK(e.find("NOTIFY_SOCKET") == std::string::npos);
    CHECK(e.find("WATCHDOG_") == std::string::npos);
    CHECK(e.find("LISTEN_") == std::string::npos);
  }
}
