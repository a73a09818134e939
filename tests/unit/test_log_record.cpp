// core/log_record.h: every line of the log in logfmt and JSON; logfmt quoting read back by
// a logfmt reader, numbers as numbers, a worker's JSON line nested as an object.
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "supervisor/core/log_record.h"
#include "supervisor/core/log_tail.h"

using namespace handoff;
using nlohmann::json;

namespace {

constexpr std::string_view kTs = "2026-11-23T20:40:00.123Z";
const OutputSource kSource{"hello", 2, 4242, "stdout"};

std::string logfmt_value(std::string_view v) {
  std::string out;
  append_logfmt_value(out, v);
  return out;
}

}  // namespace

TEST_CASE("timestamps are UTC with milliseconds") {
  using namespace std::chrono;
  const sys_days day = year{2026} / November / 23;
  CHECK(format_timestamp(day + hours(20) + minutes(4) + seconds(5) + milliseconds(7)) == "2026-11-23T20:04:05.007Z");
}

TEST_CASE("logfmt quotes a value only when it must, and escapes inside quotes") {
  CHECK(logfmt_value("hello") == "hello");
  CHECK(logfmt_value("a/b:c,d") == "a/b:c,d");
  CHECK(logfmt_value("") == "\"\"");
  CHECK(logfmt_value("two words") == "\"two words\"");
  CHECK(logfmt_value("k=v") == "\"k=v\"");
  CHECK(logfmt_value("say \"hi\"") == R"("say \"hi\"")");
  CHECK(logfmt_value("C:\\dir") == R"("C:\\dir")");
  CHECK(logfmt_value("a\nb\tc\rd") == R"("a\nb\tc\rd")");
  CHECK(logfmt_value(std::string("bell\x07", 5)) == R"("bell\u0007")");
  CHECK(logfmt_value("caf\xc3\xa9") == "caf\xc3\xa9");  // UTF-8 as it is
}

TEST_CASE("a lifecycle event in logfmt, numbers bare") {
  const auto line = format_log_line(LogFormat::logfmt, kTs, "ready",
                                    {{"app", "hello"}, {"slot", 1}, {"pid", 4242}, {"generation", 1}, {"startup_ms", 2LL}});
  CHECK(line == "ts=2026-11-23T20:40:00.123Z event=ready app=hello slot=1 pid=4242 generation=1 startup_ms=2");
}

TEST_CASE("a lifecycle event in JSON: numbers are numbers, text is text") {
  const auto line = format_log_line(LogFormat::json, kTs, "exit",
                                    {{"app", "hello"}, {"slot", 2}, {"pid", 4242}, {"status", "killed by signal 9"},
                                     {"uptime_ms", 61123LL}, {"name", "123"}, {"planned", true}});
  CHECK(line ==
        R"({"ts":"2026-11-23T20:40:00.123Z","event":"exit","app":"hello","slot":2,"pid":4242,"status":"killed by signal 9","uptime_ms":61123,"name":"123","planned":true})");
  const auto j = json::parse(line);
  CHECK(j["pid"].is_number_integer());
  CHECK(j["name"].is_string());  // a text that looks like a number stays text
  CHECK(j["planned"] == true);
  CHECK(format_log_line(LogFormat::logfmt, kTs, "drain", {{"handback", false}}).ends_with(" handback=false"));
}

TEST_CASE("a worker's line in logfmt: timestamp, event=output, its source, the line quoted") {
  const auto line = format_output_line(LogFormat::logfmt, kTs, kSource, R"(GET /a?b=1 200 "curl")");
  CHECK(line == R"(ts=2026-11-23T20:40:00.123Z event=output app=hello slot=2 pid=4242 stream=stdout line="GET /a?b=1 200 \"curl\"")");
  const auto pairs = parse_logfmt(line);
  REQUIRE(pairs);
  REQUIRE(pairs->size() == 7);
  CHECK((*pairs)[6].first == "line");
  CHECK((*pairs)[6].second == R"(GET /a?b=1 200 "curl")");
  CHECK(format_output_line(LogFormat::logfmt, kTs, kSource, "plain") ==
        "ts=2026-11-23T20:40:00.123Z event=output app=hello slot=2 pid=4242 stream=stdout line=plain");
  CHECK(format_output_line(LogFormat::logfmt, kTs, kSource, "").ends_with(" line=\"\""));
  CHECK(format_output_line(LogFormat::logfmt, kTs, kSource, "crlf\r").ends_with(" line=crlf"));
}

TEST_CASE("logfmt round-trips through a logfmt reader, whatever the bytes") {
  const std::string hard[] = {"", " ", "=", "\"", "\\", "a b=c \"d\" \\e", "\\\"", "x\ny", std::string("\0\x01\x1f\x7f", 4),
                              "{\"level\":30,\"msg\":\"hi there\"}", "trailing\\"};
  for (const auto& text : hard) {
    const auto line = format_log_line(LogFormat::logfmt, kTs, "notice", {{"msg", text}, {"n", 5}});
    const auto pairs = parse_logfmt(line);
    REQUIRE_MESSAGE(pairs, line);
    REQUIRE(pairs->size() == 4);
    CHECK((*pairs)[2].second == text);
    CHECK((*pairs)[3].second == "5");
  }
  CHECK_FALSE(parse_logfmt("[hello/1/42] text"));
  CHECK_FALSE(parse_logfmt("a=\"unterminated"));
}

TEST_CASE("a worker's JSON object line is nested as `json`, not encoded as a string") {
  const std::string pino = R"({"level":30,"time":1764794400123,"pid":77,"hostname":"h","msg":"request completed","res":{"statusCode":200}})";
  const auto line = format_output_line(LogFormat::json, kTs, kSource, pino);
  CHECK(line == R"({"ts":"2026-11-23T20:40:00.123Z","event":"output","app":"hello","slot":2,"pid":4242,"stream":"stdout","json":)" +
                    pino + "}");
  const auto j = json::parse(line);
  CHECK(j["json"]["level"] == 30);
  CHECK(j["json"]["res"]["statusCode"] == 200);
  CHECK(j["pid"] == 4242);  // ours; the worker's own pid stays inside `json`
  CHECK_FALSE(j.contains("line"));
  // Blanks and a CR around the object are trimmed.
  CHECK(json::parse(format_output_line(LogFormat::json, kTs, kSource, "  {\"a\":1} \r"))["json"]["a"] == 1);
}

TEST_CASE("a worker line that is not a JSON object stays a string under `line`") {
  const std::string not_objects[] = {"plain text", "{not json}", "{\"cut\":\"in the mid", "[1,2,3]", "42", "\"str\"",
                                     "{\"a\":1} trailing", "{\"bad\":\"\xff\xfe\"}", ""};
  for (const auto& text : not_objects) {
    const auto line = format_output_line(LogFormat::json, kTs, kSource, text);
    const auto j = json::parse(line, nullptr, false);
    REQUIRE_MESSAGE(!j.is_discarded(), line);
    CHECK(j["line"].is_string());
    CHECK_FALSE(j.contains("json"));
    CHECK(j["slot"] == 2);
  }
  // Bytes that are not UTF-8 are replaced, never make the line invalid JSON.
  CHECK(json::parse(format_output_line(LogFormat::json, kTs, kSource, "bad \xff byte"))["line"] == "bad \xef\xbf\xbd byte");
}

TEST_CASE("very long lines stay one line, in either form") {
  const std::string long_text(64 * 1024, 'x');
  const auto logfmt = format_output_line(LogFormat::logfmt, kTs, kSource, long_text + " \"q\"");
  CHECK(logfmt.find('\n') == std::string::npos);
  CHECK((*parse_logfmt(logfmt))[6].second == long_text + " \"q\"");
  const std::string big_object = "{\"msg\":\"" + long_text + "\"}";
  const auto j = json::parse(format_output_line(LogFormat::json, kTs, kSource, big_object));
  CHECK(j["json"]["msg"].get<std::string>().size() == long_text.size());
}

TEST_CASE("the app of a line, in either form") {
  CHECK(app_of_log_line(format_output_line(LogFormat::logfmt, kTs, kSource, "x app=other")) == "hello");
  CHECK(app_of_log_line(format_output_line(LogFormat::json, kTs, kSource, "{\"app\":\"other\"}")) == "hello");
  CHECK(app_of_log_line(format_log_line(LogFormat::logfmt, kTs, "ready", {{"app", "my app"}})) == "my app");
  CHECK_FALSE(app_of_log_line(format_log_line(LogFormat::logfmt, kTs, "notice", {{"msg", "app=hello"}})));
  CHECK_FALSE(app_of_log_line(format_log_line(LogFormat::json, kTs, "start", {{"pid", 1}})));
  CHECK_FALSE(app_of_log_line("[hello/1/42] an old line"));
  CHECK_FALSE(app_of_log_line("{broken"));
}

TEST_CASE("the last lines of a file, read from its end in chunks of any size") {
  const std::string file = "a1\nb2\n\na3\nb4 long line\na5\nb6";  // no final newline
  auto tail = [&](std::string_view text, std::size_t n, char only, std::size_t chunk) {
    return last_lines(
        text.size(), [&](std::uint64_t offset, std::size_t size) { return std::string(text.substr(offset, size)); }, n,
        [&](std::string_view line) { return only == 0 || line.front() == only; }, chunk);
  };
  using Lines = std::vector<std::string>;
  for (std::size_t chunk = 1; chunk <= file.size() + 1; ++chunk) {
    CAPTURE(chunk);
    CHECK(tail(file, 2, 0, chunk) == Lines{"a5", "b6"});
    CHECK(tail(file, 100, 0, chunk) == Lines{"a1", "b2", "a3", "b4 long line", "a5", "b6"});
    CHECK(tail(file, 2, 'b', chunk) == Lines{"b4 long line", "b6"});
    CHECK(tail(file, 5, 'a', chunk) == Lines{"a1", "a3", "a5"});
    CHECK(tail(file + "\n", 1, 0, chunk) == Lines{"b6"});
    CHECK(tail("\n\nonly\n", 3, 0, chunk) == Lines{"only"});
    CHECK(tail(file, 0, 0, chunk).empty());
  }
  CHECK(tail("", 3, 0, 4).empty());
}
