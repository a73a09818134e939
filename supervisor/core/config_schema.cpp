#include "supervisor/core/config_schema.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <filesystem>
#include <optional>
#include <set>
#include <span>
#include <string_view>
#include <vector>

#include "supervisor/core/address.h"
#include "supervisor/core/command_line.h"
#include "supervisor/core/config_values.h"
#include "supervisor/core/did_you_mean.h"
#include "supervisor/core/dispatch_mode.h"
#include "supervisor/core/routing/dispatch_policy.h"
#include "supervisor/core/routing/httpsys_prefix.h"

namespace handoff {
namespace {

Location location_of(const YAML::Node& node) {
  const auto mark = node.Mark();
  if (mark.is_null()) return {};
  return {mark.line + 1, mark.column + 1};
}

struct Context {
  const std::string& file;
  const std::string& base_dir;
  const HostFacts& host;
  ConfigErrors& errors;

  void error(const YAML::Node& node, const std::string& field, std::string message) const {
    errors.push_back({file, location_of(node), field, std::move(message)});
  }
};

// How messages name a value: the key `workers` of `apps[0]` is "apps[0].workers".
std::string key_field(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }
std::string item_field(const std::string& path, std::size_t index) { return path + "[" + std::to_string(index) + "]"; }

bool is_control(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

// A control character as C and YAML write it in double quotes: "\t", "\x01".
std::string escaped(char c) {
  if (c == '\t') return "\\t";
  if (c == '\n') return "\\n";
  if (c == '\r') return "\\r";
  constexpr char kHex[] = "0123456789abcdef";
  const auto byte = static_cast<unsigned char>(c);
  return std::string("\\x") + kHex[byte >> 4] + kHex[byte & 0xf];
}

// A value as messages show it: in double quotes, its control characters made visible, so
// the message stays one line and shows what was written.
std::string in_quotes(std::string_view text) {
  std::string out = "\"";
  for (char c : text) out += is_control(c) ? escaped(c) : std::string(1, c);
  return out + "\"";
}

// Names and paths end up in log lines, metrics labels, HTTP headers, URLs and file names,
// where a control character splits a line, breaks a label or names something else.
std::optional<std::string> control_character_problem(std::string_view name) {
  const auto bad = std::find_if(name.begin(), name.end(), is_control);
  if (bad == name.end()) return std::nullopt;
  return "control character " + escaped(*bad) + " in " + in_quotes(name) + " (not allowed in names and paths)";
}

std::string describe(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsScalar()) return in_quotes(node.Scalar());
  if (node.IsSequence()) return "a list";
  return "a mapping";
}

// ---- Scalar readers: each returns nullopt after reporting what was wrong. ----------

std::optional<std::string> read_string(const YAML::Node& node, Context& ctx, const std::string& field) {
  if (!node.IsScalar() || node.Scalar().empty()) {
    ctx.error(node, field, "expected a non-empty string, got " + describe(node));
    return std::nullopt;
  }
  return node.Scalar();
}

// A string that names something (an app, a listener, a user, a file): no control characters.
std::optional<std::string> read_name(const YAML::Node& node, Context& ctx, const std::string& field) {
  auto text = read_string(node, ctx, field);
  if (!text) return std::nullopt;
  if (auto problem = control_character_problem(*text)) {
    ctx.error(node, field, *problem);
    return std::nullopt;
  }
  return text;
}

// `alternative`: another value the key takes, named in the message ("`auto`").
std::optional<long long> read_integer(const YAML::Node& node, Context& ctx, const std::string& field, long long min,
                                      long long max, std::string_view alternative = {}) {
  std::string range = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  if (!alternative.empty()) range += " or " + std::string(alternative);
  if (!node.IsScalar()) {
    ctx.error(node, field, "expected " + range + ", got " + describe(node));
    return std::nullopt;
  }
  const std::string& text = node.Scalar();
  long long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
    ctx.error(node, field, "expected " + range + ", got " + describe(node));
    return std::nullopt;
  }
  return value;
}

std::optional<Milliseconds> read_duration(const YAML::Node& node, Context& ctx, const std::string& field) {
  if (node.IsScalar())
    if (auto d = parse_duration(node.Scalar())) return d;
  ctx.error(node, field, "expected a duration such as 500ms, 30s, 5m or 1h, got " + describe(node));
  return std::nullopt;
}

std::optional<std::uint64_t> read_size(const YAML::Node& node, Context& ctx, const std::string& field) {
  if (node.IsScalar())
    if (auto n = parse_size(node.Scalar())) return n;
  ctx.error(node, field, "expected a size in bytes such as 1048576, 512MiB or 2G, got " + describe(node));
  return std::nullopt;
}

std::optional<bool> read_boolean(const YAML::Node& node, Context& ctx, const std::string& field) {
  if (node.IsScalar()) {
    if (node.Scalar() == "true") return true;
    if (node.Scalar() == "false") return false;
  }
  ctx.error(node, field, "expected true or false, got " + describe(node));
  return std::nullopt;
}

template <class Enum>
struct Choice {
  std::string_view name;
  Enum value;
};

// "unknown value "x" (one of: a, b); did you mean "a"?"
std::string unknown_choice(std::string_view what, const std::string& text, std::span<const std::string_view> names) {
  std::string all;
  for (auto n : names) all += (all.empty() ? "" : ", ") + std::string(n);
  std::string message = "unknown " + std::string(what) + " " + in_quotes(text) + " (one of: " + all + ")";
  if (auto close = did_you_mean(text, names); !close.empty()) message += "; did you mean \"" + close + "\"?";
  return message;
}

template <class Enum, std::size_t N>
std::optional<Enum> read_choice(const YAML::Node& node, Context& ctx, const std::string& field,
                                const Choice<Enum> (&choices)[N]) {
  auto text = read_string(node, ctx, field);
  if (!text) return std::nullopt;
  std::vector<std::string_view> names;
  for (const auto& c : choices) {
    if (c.name == *text) return c.value;
    names.push_back(c.name);
  }
  ctx.error(node, field, unknown_choice("value", *text, names));
  return std::nullopt;
}

using ReadString = std::optional<std::string> (*)(const YAML::Node&, Context&, const std::string&);

// A list of strings, each read by `read_item` (read_string, or read_name for names).
std::optional<std::vector<std::string>> read_string_list(const YAML::Node& node, Context& ctx, const std::string& field,
                                                         ReadString read_item) {
  if (!node.IsSequence()) {
    ctx.error(node, field, "expected a list of strings, got " + describe(node));
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (std::size_t i = 0; i < node.size(); ++i) {
    auto item = read_item(node[i], ctx, item_field(field, i));
    if (!item) return std::nullopt;
    out.push_back(*item);
  }
  return out;
}

// ---- Sections ---------------------------------------------------------------------

template <class T>
struct Field {
  std::string_view key;
  std::string_view type;
  std::string_view fallback;  // the default, as documentation; "" when required
  std::string_view help;
  bool required;
  void (*read)(const YAML::Node& value, T& out, Context& ctx, const std::string& field);
};

template <class T>
void read_section(const YAML::Node& node, std::span<const Field<T>> fields, T& out, Context& ctx,
                  const std::string& path) {
  if (!node.IsMap()) {
    ctx.error(node, path, "expected a mapping of keys, got " + describe(node));
    return;
  }
  std::vector<std::string_view> keys;
  for (const auto& f : fields) keys.push_back(f.key);
  std::set<std::string_view> seen;
  for (const auto& entry : node) {
    const std::string key = entry.first.as<std::string>("");
    const std::string field = key_field(path, key);
    const Field<T>* spec = nullptr;
    for (const auto& f : fields)
      if (f.key == key) spec = &f;
    if (!spec) {
      std::string message = "unknown key";
      if (auto close = did_you_mean(key, keys); !close.empty()) message += " (did you mean '" + close + "'?)";
      ctx.error(entry.first, field, message);
      continue;
    }
    seen.insert(spec->key);
    spec->read(entry.second, out, ctx, field);
  }
  for (const auto& f : fields)
    if (f.required && !seen.contains(f.key))
      ctx.error(node, path, "missing required key '" + std::string(f.key) + "'");
}

template <class T>
void read_list(const YAML::Node& node, std::span<const Field<T>> fields, std::vector<T>& out, Context& ctx,
               const std::string& field, void (*defaults)(T&, const YAML::Node&, Context&)) {
  if (!node.IsSequence() || node.size() == 0) {
    ctx.error(node, field, "expected a non-empty list, got " + describe(node));
    return;
  }
  for (std::size_t i = 0; i < node.size(); ++i) {
    T item;
    defaults(item, node[i], ctx);
    read_section<T>(node[i], fields, item, ctx, item_field(field, i));
    out.push_back(std::move(item));
  }
}

// A duration member of T, read by a captureless lambda (the table needs plain pointers).
#define HANDOFF_DURATION(T, member)                                                \
  [](const YAML::Node& v, T& out, Context& ctx, const std::string& field) {        \
    if (auto d = read_duration(v, ctx, field)) out.member = *d;                    \
  }

// A duration member of T for which 0s means nothing that can run; `zero_would` says what it
// would do instead (a duration whose 0s means "off" or "at once" uses HANDOFF_DURATION and
// says so in its help).
#define HANDOFF_POSITIVE_DURATION(T, member, zero_would)                                \
  [](const YAML::Node& v, T& out, Context& ctx, const std::string& field) {            \
    auto d = read_duration(v, ctx, field);                                             \
    if (d && d->count() == 0)                                                          \
      ctx.error(v, field, std::string("must be longer than 0s: ") + (zero_would));     \
    else if (d)                                                                        \
      out.member = *d;                                                                 \
  }

// A name member of T.
#define HANDOFF_NAME(T, member)                                             \
  [](const YAML::Node& v, T& out, Context& ctx, const std::string& field) { \
    if (auto text = read_name(v, ctx, field)) out.member = *text;           \
  }

const std::string kBacklogText = std::to_string(ListenerConfig{}.backlog);  // documented from the value
const std::string kLogMaxSizeText = format_size(LogFileConfig{}.max_size);
const std::string kLogKeepText = std::to_string(LogFileConfig{}.keep);

const Field<ListenerConfig> kListenerFields[] = {
    {"address", "string", "", "`host:port` to listen on; IPv6 in brackets, as `[::1]:8080`. Required, unless `httpsys`.",
     false,
     [](const YAML::Node& v, ListenerConfig& l, Context& ctx, const std::string& field) {
       auto text = read_name(v, ctx, field);
       if (!text) return;
       auto parsed = parse_host_port(*text);
       if (!parsed) {
         ctx.error(v, field, "expected an IP address and port, as 127.0.0.1:8080 or [::1]:8080, got \"" + *text + "\"");
         return;
       }
       l.host = parsed->host;
       l.port = parsed->port;
       l.where = location_of(v);
       if (l.name.empty()) l.name = *text;
     }},
    {"name", "string", "the address", "How apps refer to this listener.", false, HANDOFF_NAME(ListenerConfig, name)},
    {"httpsys", "string", "none",
     "Windows only: an HTTP.SYS URL prefix, as `http://+:8080/`, instead of `address` (and without `backlog`, "
     "`proxy_protocol`, `head_timeout`, `max_head`, `max_classifying`, which belong to sockets). Slot N of an app "
     "binds its own request queue to `<url><route>N/` (`http://+:8080/3/` without `routes`), the routing of "
     "`url_segment: {index: 1, direct: true}`; the queue belongs to the supervisor and outlives worker restarts. "
     "C++ SDK workers only (docs/windows.md, \"HTTP.SYS mode\").",
     false,
     [](const YAML::Node& v, ListenerConfig& l, Context& ctx, const std::string& field) {
       auto text = read_name(v, ctx, field);
       if (!text) return;
       if (auto problem = httpsys_url_problem(*text)) {
         ctx.error(v, field, *problem);
         return;
       }
       l.httpsys = *text;
       l.httpsys_where = location_of(v);
       if (l.name.empty()) l.name = *text;
     }},
    {"backlog", "integer", kBacklogText, "Length of the kernel's accept queue.", false,
     [](const YAML::Node& v, ListenerConfig& l, Context& ctx, const std::string& field) {
       if (auto n = read_integer(v, ctx, field, 1, 65535)) l.backlog = static_cast<int>(*n);
     }},
    {"proxy_protocol", "boolean", "false",
     "Connections start with a PROXY protocol v1 or v2 header (from HAProxy, nginx or a cloud load balancer): it is "
     "consumed, and its source address is the client address rules and workers see. A connection without a valid "
     "header is closed.",
     false,
     [](const YAML::Node& v, ListenerConfig& l, Context& ctx, const std::string& field) {
       if (auto b = read_boolean(v, ctx, field)) l.proxy_protocol = *b;
     }},
    {"head_timeout", "duration", "10s",
     "Where the master reads the request head (L7 rules, shared ports, PROXY protocol): a head not complete in this "
     "time gets `408` and the connection is closed.",
     false, HANDOFF_POSITIVE_DURATION(ListenerConfig, head_timeout, "at 0s any head not read at once would get 408")},
    {"max_head", "size", "16KiB", "A request head longer than this gets `431`.", false,
     [](const YAML::Node& v, ListenerConfig& l, Context& ctx, const std::string& field) {
       if (auto n = read_size(v, ctx, field)) {
         if (*n < 256 || *n > 1024 * 1024) ctx.error(v, field, "expected a size from 256 bytes to 1MiB");
         else l.max_head = static_cast<std::size_t>(*n);
       }
     }},
    {"max_classifying", "integer", "1024",
     "Connections whose head is being read at once; past this the oldest are closed first, so clients that send "
     "slowly (slowloris) cannot keep others out.",
     false,
     [](const YAML::Node& v, ListenerConfig& l, Context& ctx, const std::string& field) {
       if (auto n = read_integer(v, ctx, field, 1, 1'000'000)) l.max_classifying = static_cast<std::size_t>(*n);
     }},
};

constexpr Choice<DispatchMode> kDispatchModes[] = {{"kernel", DispatchMode::kernel}, {"master", DispatchMode::master}};
constexpr Choice<ReadyMode> kReadyModes[] = {{"sdk", ReadyMode::sdk}, {"on_spawn", ReadyMode::on_spawn}};
constexpr Choice<Unavailable> kUnavailable[] = {
    {"queue", Unavailable::queue}, {"rehash", Unavailable::rehash}, {"reject", Unavailable::reject}};
constexpr Choice<bool> kBooleans[] = {{"true", true}, {"false", false}};
constexpr Choice<LogFormat> kLogFormats[] = {{"logfmt", LogFormat::logfmt}, {"json", LogFormat::json}};

const Field<LifecyclePolicy> kRestartFields[] = {
    {"min_delay", "duration", "100ms", "Delay before the first restart after a crash; doubles with each crash in a row.",
     false,
     HANDOFF_POSITIVE_DURATION(LifecyclePolicy, min_delay, "the backoff doubles from it, so at 0s it would never grow")},
    {"max_delay", "duration", "30s", "Longest delay between restarts, and the delay of a slot in crash loop.", false,
     HANDOFF_POSITIVE_DURATION(LifecyclePolicy, max_delay, "at 0s a slot in crash_loop would restart at once, forever")},
    {"stable_after", "duration", "10s", "A worker up this long has its crash count and backoff reset.", false,
     HANDOFF_POSITIVE_DURATION(LifecyclePolicy, stable_after,
                               "at 0s every crash of a ready worker would reset the backoff, and crash_loop would "
                               "never come")},
    {"crash_loop_exits", "integer", "5", "This many crashes within `crash_loop_window` put the slot in `crash_loop`.",
     false,
     [](const YAML::Node& v, LifecyclePolicy& p, Context& ctx, const std::string& field) {
       if (auto n = read_integer(v, ctx, field, 1, 1000)) p.crash_loop_exits = static_cast<int>(*n);
     }},
    {"crash_loop_window", "duration", "60s", "The window in which crashes are counted.", false,
     HANDOFF_POSITIVE_DURATION(LifecyclePolicy, crash_loop_window,
                               "at 0s no two crashes would fall in it, and crash_loop would never come")},
};

const Field<LifecyclePolicy> kHeartbeatFields[] = {
    {"interval", "duration", "1s", "How often SDK workers send `stats`.", false,
     HANDOFF_POSITIVE_DURATION(LifecyclePolicy, heartbeat_interval,
                               "at 0s SDK workers send no heartbeat, and each would be killed as hung")},
    {"timeout", "duration", "10s",
     "An SDK worker silent this long is hung: it is killed (SIGKILL) and replaced. Workers without the SDK are not "
     "checked. `0s` turns the check off.",
     false, HANDOFF_DURATION(LifecyclePolicy, heartbeat_timeout)},
};

const Field<QueuePolicy> kQueueFields[] = {
    {"max", "integer", "5000",
     "Connections a slot holds while it has no ready worker; more get `503`. Under kernel dispatch it is the "
     "backlog of each slot's socket (the kernel caps it at `net.core.somaxconn`; past it new connections wait for "
     "room, their clients resending the SYN).",
     false,
     [](const YAML::Node& v, QueuePolicy& q, Context& ctx, const std::string& field) {
       if (auto n = read_integer(v, ctx, field, 0, 1'000'000)) q.max = static_cast<std::size_t>(*n);
     }},
    {"timeout", "duration", "30s", "How long a connection may wait in the queue; then `503`.", false,
     HANDOFF_POSITIVE_DURATION(QueuePolicy, timeout,
                               "at 0s any connection that waits, even behind one being handed to the worker, "
                               "would get 503")},
};

const Field<CacheConfig> kCacheFields[] = {
    {"max_size", "size", "64MiB",
     "Memory the entries may take (keys, heads and bodies); past it the least recently used go. Not on an "
     "HTTP.SYS app (HTTP.SYS sizes its cache itself).",
     false,
     [](const YAML::Node& v, CacheConfig& c, Context& ctx, const std::string& field) {
       auto n = read_size(v, ctx, field);
       if (n && (*n < 4096 || *n > (1ull << 40))) ctx.error(v, field, "expected a size from 4KiB to 1TiB");
       else if (n) c.max_size = *n;
     }},
    {"max_entry", "size", "512KiB",
     "The largest body stored; a larger response is served by the worker every time. At most a quarter of "
     "`max_size`, and it must fit in an IPC message (`ipc_max_message`, base64). Not on an HTTP.SYS app (HTTP.SYS "
     "has its own limit, `UriMaxUriBytes`).",
     false,
     [](const YAML::Node& v, CacheConfig& c, Context& ctx, const std::string& field) {
       if (auto n = read_size(v, ctx, field)) c.max_entry = *n;
     }},
    {"default_ttl", "duration", "0s",
     "How long a `Cache-Control: public` response without `max-age`/`s-maxage` is kept. `0s`: only responses "
     "that say how long (or set `res.cacheDuration`) are stored. On an HTTP.SYS app too (in whole seconds, "
     "rounded up).",
     false, HANDOFF_DURATION(CacheConfig, default_ttl)},
    {"lock_timeout", "duration", "5s",
     "Requests for a key whose first miss is with a worker wait for its answer (one request fills the entry, as "
     "nginx's `proxy_cache_lock`); after this long they go to workers themselves. Not on an HTTP.SYS app.",
     false, HANDOFF_POSITIVE_DURATION(CacheConfig, lock_timeout, "no request could wait for a fill")},
    {"pass_ttl", "duration", "10s",
     "A key whose answer was not cacheable is not held again for this long: its requests go straight to "
     "workers (Varnish's hit-for-pass). Not on an HTTP.SYS app.",
     false, HANDOFF_DURATION(CacheConfig, pass_ttl)},
    {"stale_while_revalidate", "duration", "0s",
     "An entry past its lifetime still answers for this long while one request goes to a worker to refresh it "
     "(RFC 5861; nginx's `proxy_cache_use_stale updating`). `0s`: an expired entry is a miss. Not on an HTTP.SYS "
     "app.",
     false, HANDOFF_DURATION(CacheConfig, stale_while_revalidate)},
};

// `policy: ip_hash`, or a mapping with one key naming the rule and its parameters:
// `{url_segment: {index: 1, direct: true}}`, `{header: X-Room}`, `{plugin: {path: ..., config: ...}}`.
const Field<RuleConfig> kUrlSegmentFields[] = {
    {"index", "integer", "1", "Which path segment is the key, from 1: `/a/b` has `a` at 1.", false,
     [](const YAML::Node& v, RuleConfig& r, Context& ctx, const std::string& field) {
       if (auto n = read_integer(v, ctx, field, 1, 64)) r.index = static_cast<int>(*n);
     }},
    {"direct", "boolean", "false",
     "A number addresses a slot directly (`/3/...` goes to slot 3); otherwise keys map to slots by consistent hash.",
     false,
     [](const YAML::Node& v, RuleConfig& r, Context& ctx, const std::string& field) {
       if (auto b = read_boolean(v, ctx, field)) r.direct = *b;
     }},
};

const Field<RuleConfig> kPluginFields[] = {
    {"path", "string", "", "The plugin's shared library; relative to the config file's directory.", true,
     [](const YAML::Node& v, RuleConfig& r, Context& ctx, const std::string& field) {
       if (auto s = read_name(v, ctx, field))
         r.plugin_path = (std::filesystem::path(ctx.base_dir) / *s).lexically_normal().string();
     }},
    {"config", "string", "\"\"", "A string given to the plugin's `create()`.", false,
     [](const YAML::Node& v, RuleConfig& r, Context& ctx, const std::string& field) {
       if (!v.IsScalar()) ctx.error(v, field, "expected a string, got " + describe(v));
       else r.plugin_config = v.Scalar();
     }},
};

std::vector<std::string_view> policy_names() {
  std::vector<std::string_view> names;
  for (const auto& p : policy_registry()) names.push_back(p.name);
  return names;
}

void read_rule(const YAML::Node& name_node, const YAML::Node* parameters, const YAML::Node& v, AppConfig& a,
               Context& ctx, const std::string& field);

void read_policy(const YAML::Node& v, AppConfig& a, Context& ctx, const std::string& field) {
  // (yaml-cpp's Node::operator= writes through to the document: nodes are only bound, never assigned.)
  if (!v.IsMap()) return read_rule(v, nullptr, v, a, ctx, field);
  if (v.size() != 1) {
    ctx.error(v, field, "expected one rule, as `ip_hash` or `{header: X-Room}`, got " + describe(v));
    return;
  }
  const auto entry = *v.begin();
  const YAML::Node value = entry.second;
  read_rule(entry.first, &value, v, a, ctx, field);
}

void read_rule(const YAML::Node& name_node, const YAML::Node* parameters, const YAML::Node& v, AppConfig& a,
               Context& ctx, const std::string& field) {
  auto name = read_string(name_node, ctx, field);
  if (!name) return;
  const PolicyEntry* entry = find_policy(*name);
  if (!entry) {
    ctx.error(name_node, field, unknown_choice("policy", *name, policy_names()));
    return;
  }
  RuleConfig rule;
  rule.name = *name;
  rule.missing_key = a.policy.missing_key;
  const std::string sub = field + "." + *name;
  switch (entry->parameters) {
    case RuleParameters::none:
      if (parameters && !parameters->IsNull())
        ctx.error(*parameters, sub, "this rule takes no parameters; write `policy: " + *name + "`");
      break;
    case RuleParameters::name:
      if (!parameters) {
        ctx.error(v, field, "this rule needs a name: `policy: {" + *name + ": NAME}`");
        return;
      }
      if (auto key = read_name(*parameters, ctx, sub)) rule.key_name = *key;
      break;
    case RuleParameters::url_segment:
      if (parameters && !parameters->IsNull()) read_section<RuleConfig>(*parameters, kUrlSegmentFields, rule, ctx, sub);
      break;
    case RuleParameters::plugin:
      if (!parameters) {
        ctx.error(v, field, "this rule needs its library: `policy: {plugin: {path: ./affinity.so}}`");
        return;
      }
      read_section<RuleConfig>(*parameters, kPluginFields, rule, ctx, sub);
      break;
  }
  a.policy = rule;
  a.policy_where = location_of(v);
}

// Node's timers and the C++ SDK's take at most this.
constexpr Milliseconds kMaxHttpTimeout{24 * 3'600'000};

#define HANDOFF_HTTP_TIMEOUT(member)                                                         \
  [](const YAML::Node& v, HttpPolicy& h, Context& ctx, const std::string& field) {           \
    auto d = read_duration(v, ctx, field);                                                   \
    if (d && *d > kMaxHttpTimeout) ctx.error(v, field, "at most 24h (0s: no timeout)");      \
    else if (d) h.member = static_cast<std::uint64_t>(d->count());                           \
  }

// The keys are the settings' own (protocols/http_settings.h); the documented defaults are
// made from the values themselves (from protocols/defaults.h), so the reference cannot
// drift from what applies.
constexpr std::string_view http_key(std::uint64_t HttpPolicy::*field) { return http_setting(field).config; }
const struct {
  std::string keep_alive_timeout = format_duration(Milliseconds(HttpPolicy{}.keep_alive_timeout_ms));
  std::string headers_timeout = format_duration(Milliseconds(HttpPolicy{}.headers_timeout_ms));
  std::string request_timeout = format_duration(Milliseconds(HttpPolicy{}.request_timeout_ms));
  std::string max_header_size = format_size(HttpPolicy{}.max_header_size);
  std::string max_body_size = format_size(HttpPolicy{}.max_body_size);
} kHttpDefaultText;

const Field<HttpPolicy> kHttpFields[] = {
    {http_key(&HttpPolicy::keep_alive_timeout_ms), "duration", kHttpDefaultText.keep_alive_timeout,
     "An idle keep-alive connection (its last response written, no byte of a next request) is closed quietly "
     "after this long; announced as `Keep-Alive: timeout=<seconds>`. Never applies while a request is in "
     "progress. `0s`: idle connections stay open.",
     false, HANDOFF_HTTP_TIMEOUT(keep_alive_timeout_ms)},
    {http_key(&HttpPolicy::headers_timeout_ms), "duration", kHttpDefaultText.headers_timeout,
     "A request whose head is not complete this long after its first byte (a connection's first request: after "
     "the connection reached the worker) gets `408` and the connection closes. A new connection that sends "
     "nothing at all is closed without a response. `0s`: none.",
     false, HANDOFF_HTTP_TIMEOUT(headers_timeout_ms)},
    {http_key(&HttpPolicy::request_timeout_ms), "duration", kHttpDefaultText.request_timeout,
     "A request not received whole (head and body) this long after its first byte gets `408` and the "
     "connection closes. `0s`: none.",
     false, HANDOFF_HTTP_TIMEOUT(request_timeout_ms)},
    {http_key(&HttpPolicy::max_requests_per_socket), "integer", "0",
     "Requests served on one connection; the last response says `Connection: close`. `0`: no limit.", false,
     [](const YAML::Node& v, HttpPolicy& h, Context& ctx, const std::string& field) {
       if (auto n = read_integer(v, ctx, field, 0, 1LL << 31)) h.max_requests_per_socket = static_cast<std::uint64_t>(*n);
     }},
    {http_key(&HttpPolicy::max_header_size), "size", kHttpDefaultText.max_header_size, "Largest request line plus headers; a larger head gets `431`.", false,
     [](const YAML::Node& v, HttpPolicy& h, Context& ctx, const std::string& field) {
       auto n = read_size(v, ctx, field);
       if (n && (*n < 1024 || *n > (64u << 20))) ctx.error(v, field, "expected a size from 1KiB to 64MiB");
       else if (n) h.max_header_size = *n;
     }},
    {http_key(&HttpPolicy::max_body_size), "size", kHttpDefaultText.max_body_size,
     "Largest request body (after chunked decoding); a larger one gets `413` (at once when its Content-Length "
     "says so). The C++ SDK holds a body in memory: this bounds it. There is no unlimited.",
     false,
     [](const YAML::Node& v, HttpPolicy& h, Context& ctx, const std::string& field) {
       auto n = read_size(v, ctx, field);
       if (n && *n == 0) ctx.error(v, field, "expected a size of at least 1 byte (there is no unlimited)");
       else if (n) h.max_body_size = *n;
     }},
};

const Field<AppConfig> kAppFields[] = {
    {"name", "string", "", "Name of the app, in logs, `HANDOFF_APP` and the workers' header.", true,
     HANDOFF_NAME(AppConfig, name)},
    {"command", "string or list", "",
     "The worker's command: an argv list, or a string split on spaces (quotes group words). "
     "No shell is involved. A relative program path is resolved against `cwd`, a bare name against `PATH`.",
     true,
     [](const YAML::Node& v, AppConfig& a, Context& ctx, const std::string& field) {
       a.command_where = location_of(v);
       if (v.IsSequence()) {
         if (auto list = read_string_list(v, ctx, field, read_string)) a.command = *list;
       } else if (auto text = read_string(v, ctx, field)) {
         auto argv = split_command_line(*text);
         if (!argv) ctx.error(v, field, "unbalanced quote in command");
         else a.command = *argv;
       }
       if (a.command.empty() && (v.IsSequence() || v.IsScalar())) ctx.error(v, field, "the command is empty");
       // The program is a file name, and in the log's spawn lines; its arguments are the program's business.
       if (!a.command.empty())
         if (auto problem = control_character_problem(a.command.front()))
           ctx.error(v.IsSequence() ? v[0] : v, field, *problem);
     }},
    {"workers", "integer or `auto`", "1",
     "Number of worker processes (slots 1..N). `auto`: one per CPU the supervisor may run on (its CPU affinity, "
     "which `taskset` or a cgroup cpuset narrows), counted when the config is loaded and again on each reload; "
     "`status` shows the number.",
     false,
     [](const YAML::Node& v, AppConfig& a, Context& ctx, const std::string& field) {
       if (v.IsScalar() && v.Scalar() == "auto") {
         a.workers = std::clamp(ctx.host.usable_cpu_count(), 1, kMaxWorkers);
         return;
       }
       if (auto n = read_integer(v, ctx, field, 1, kMaxWorkers, "`auto`")) a.workers = static_cast<int>(*n);
     }},
    {"policy", "string or mapping", "round_robin", "", false, &read_policy},
    {"missing_key", "404 | round_robin | least_connections | ip_hash", "404",
     "For rules with a key: a request without one, or with a direct slot number out of range, gets `404`, or goes "
     "where this rule without a key sends it.",
     false,
     [](const YAML::Node& v, AppConfig& a, Context& ctx, const std::string& field) {
       auto text = read_string(v, ctx, field);
       if (!text) return;
       const PolicyEntry* p = find_policy(*text);
       if (*text == "404" || (p && !p->needs_head)) {
         a.policy.missing_key = *text;
         return;
       }
       std::vector<std::string_view> names{"404"};
       for (const auto& e : policy_registry())
         if (!e.needs_head) names.push_back(e.name);
       ctx.error(v, field, unknown_choice("value", *text, names));
     }},
    {"ready", "sdk | on_spawn", "sdk",
     "When a worker starts receiving connections: `sdk` after it sends `ready` (both SDKs do), `on_spawn` "
     "at once, for plain programs without the SDK.",
     false,
     [](const YAML::Node& v, AppConfig& a, Context& ctx, const std::string& field) {
       if (auto mode = read_choice(v, ctx, field, kReadyModes)) a.ready = *mode;
     }},
    {"dispatch", "kernel | master", "see meaning",
     "Who accepts the app's connections. `kernel` (Linux): each slot has a listening socket of its own on the "
     "app's listener (an SO_REUSEPORT group the master creates and keeps, so a slot's queue outlives its workers); "
     "the slot's worker accepts from it itself, and the master does no work per connection. round_robin is the "
     "kernel's own spread by the connection's addresses and ports (no program); ip_hash is a classic BPF program "
     "the master attaches to the group, which sends each client address to the slot the master's ip_hash would "
     "pick (the same hash, recomputed for each worker count). `master`: the master accepts each connection and "
     "hands it to the slot's worker. Default: `kernel` for SDK workers (`ready: sdk`) whose rule is round_robin "
     "or ip_hash on a listener of their own without `proxy_protocol` or `routes`; "
     "`master` otherwise, and for plain workers unless they ask. Asking for `kernel` where it cannot apply "
     "(least_connections, whose counts the kernel cannot see; an L7 rule, `routes` or a plugin; a PROXY protocol "
     "listener; a listener shared by several apps; several listeners; listeners from the service manager "
     "(`LISTEN_FDS`); Windows) is an error.",
     false,
     [](const YAML::Node& v, AppConfig& a, Context& ctx, const std::string& field) {
       if (auto mode = read_choice(v, ctx, field, kDispatchModes)) {
         a.dispatch_asked = *mode;
         a.dispatch_where = location_of(v);
       }
     }},
    {"env", "mapping", "{}", "Extra environment variables for the workers, on top of the supervisor's own.", false,
     [](const YAML::Node& v, AppConfig& a, Context& ctx, const std::string& field) {
       if (!v.IsMap()) {
         ctx.error(v, field, "expected a mapping of NAME: value, got " + describe(v));
         return;
       }
       a.env_where = location_of(v);
       for (const auto& entry : v) {
         const std::string name = entry.first.as<std::string>("");
         if (!entry.second.IsScalar()) {
           ctx.error(entry.second, field + "." + name, "expected a string value, got " + describe(entry.second));
           continue;
         }
         a.env[name] = entry.second.Scalar();
       }
     }},
    {"cwd", "string", "the config file's directory",
     "Working directory of the workers; relative to the config file's directory.", false,
     [](const YAML::Node& v, AppConfig& a, Context& ctx, const std::string& field) {
       if (auto s = read_name(v, ctx, field))
         a.cwd = (std::filesystem::path(ctx.base_dir) / *s).lexically_normal().string();
     }},
    {"listeners", "list of strings", "every listener", "Names of the listeners whose connections this app serves.",
     false,
     [](const YAML::Node& v, AppConfig& a, Context& ctx, const std::string& field) {
       if (auto list = read_string_list(v, ctx, field, read_name)) a.listeners = *list;
     }},
    {"routes", "list of strings", "every path",
     "URL prefixes this app serves when apps share a listener, as `[\"/chat/\", \"/api/\"]`: the longest prefix of "
     "the request's path picks the app; a path no app claims gets `404`.",
     false,
     [](const YAML::Node& v, AppConfig& a, Context& ctx, const std::string& field) {
       auto list = read_string_list(v, ctx, field, read_name);
       if (!list) return;
       for (std::size_t i = 0; i < list->size(); ++i)
         if ((*list)[i].front() != '/')
           ctx.error(v[i], item_field(field, i), "a route is a path prefix and starts with '/'");
       a.routes = *list;
     }},
    {"restart", "mapping", "see below", "Restart backoff and crash-loop detection.", false,
     [](const YAML::Node& v, AppConfig& a, Context& ctx, const std::string& field) {
       read_section<LifecyclePolicy>(v, kRestartFields, a.lifecycle, ctx, field);
     }},
    {"heartbeat", "mapping", "see below", "Liveness checks of SDK workers.", false,
     [](const YAML::Node& v, AppConfig& a, Context& ctx, const std::string& field) {
       read_section<LifecyclePolicy>(v, kHeartbeatFields, a.lifecycle, ctx, field);
     }},
    {"queue", "mapping", "see below", "Bounds of each slot's queue of waiting connections.", false,
     [](const YAML::Node& v, AppConfig& a, Context& ctx, const std::string& field) {
       read_section<QueuePolicy>(v, kQueueFields, a.queue, ctx, field);
     }},
    {"http", "mapping", "see below",
     "Keep-alive, timeouts and limits of the workers' HTTP servers (both SDKs), sent in `welcome`. A change rolls "
     "the workers on reload.",
     false,
     [](const YAML::Node& v, AppConfig& a, Context& ctx, const std::string& field) {
       read_section<HttpPolicy>(v, kHttpFields, a.http, ctx, field);
     }},
    {"cache", "mapping", "off",
     "The app's output cache (docs/cache.md): the master answers `GET`/`HEAD` requests whose response a worker "
     "marked cacheable, without waking a worker. Needs master dispatch. Emptied when the app's workers roll. On an "
     "HTTP.SYS listener (Windows) it is HTTP.SYS's kernel cache instead, which the C++ SDK fills "
     "(`HTTP_CACHE_POLICY`); only `default_ttl` applies there.",
     false,
     [](const YAML::Node& v, AppConfig& a, Context& ctx, const std::string& field) {
       a.cache.enabled = true;
       a.cache.where = {v.Mark().line + 1, v.Mark().column + 1};
       if (v.IsNull()) return;  // `cache: {}` or `cache:` alone: the defaults
       read_section<CacheConfig>(v, kCacheFields, a.cache, ctx, field);
     }},
    {"on_unavailable", "queue | rehash | reject", "queue",
     "A connection whose slot has no ready worker: waits for it (`queue`, keeps affinity), goes to another ready "
     "slot (`rehash`), or gets `503` at once (`reject`). Under kernel dispatch the same holds: a down slot's "
     "connections wait in its kernel queue (`queue`, with `ip_hash`), and the master takes that queue over for "
     "`rehash`, `reject`, `round_robin` (which never waits for one slot) and once `queue.timeout` has passed; with "
     "`ip_hash` and `rehash` the kernel's program also sends the slot's new clients to the next ready slot (README, "
     "\"Kernel dispatch or master dispatch\").",
     false,
     [](const YAML::Node& v, AppConfig& a, Context& ctx, const std::string& field) {
       if (auto c = read_choice(v, ctx, field, kUnavailable)) a.on_unavailable = *c;
     }},
    {"start_timeout", "duration", "30s",
     "A new worker that is not ready this long after its start is killed: a start failure.", false,
     HANDOFF_POSITIVE_DURATION(AppConfig, lifecycle.start_timeout,
                               "at 0s every worker would be killed before it could be ready")},
    {"ack_timeout", "duration", "5s",
     "A worker that has not acknowledged a connection this long after it was sent is hung: it is killed and "
     "replaced, and the connection goes to the head of its slot's queue for the replacement. Also for workers "
     "without the SDK (Node acknowledges every handle itself).",
     false,
     HANDOFF_POSITIVE_DURATION(AppConfig, lifecycle.ack_timeout,
                               "at 0s every worker would be killed as hung with the first connection it is sent")},
    {"drain_timeout", "duration", "30s",
     "A worker being retired (reload, recycling) gets this long to finish its requests; then SIGKILL. `0s`: SIGKILL "
     "at once.",
     false,
     HANDOFF_DURATION(AppConfig, lifecycle.drain_timeout)},
    {"max_rss", "size", "none",
     "A worker whose resident memory (read by the master from the OS) exceeds this is replaced gracefully.", false,
     [](const YAML::Node& v, AppConfig& a, Context& ctx, const std::string& field) {
       if (auto n = read_size(v, ctx, field)) a.lifecycle.max_rss = *n;
     }},
    {"max_requests", "integer", "none", "A worker is replaced gracefully after serving this many requests.", false,
     [](const YAML::Node& v, AppConfig& a, Context& ctx, const std::string& field) {
       if (auto n = read_integer(v, ctx, field, 1, 1LL << 50)) a.lifecycle.max_requests = static_cast<std::uint64_t>(*n);
     }},
    {"max_requests_jitter", "integer", "0",
     "Each worker's quota is `max_requests` plus a random 0..jitter, so workers are not all replaced at once.", false,
     [](const YAML::Node& v, AppConfig& a, Context& ctx, const std::string& field) {
       if (auto n = read_integer(v, ctx, field, 0, 1LL << 50))
         a.lifecycle.max_requests_jitter = static_cast<std::uint64_t>(*n);
     }},
    {"user", "string", "the supervisor's",
     "Run the workers as this user (the supervisor must be root, or hold CAP_SETUID and CAP_SETGID as under "
     "the systemd unit).",
     false,
     HANDOFF_NAME(AppConfig, run_as.user)},
    {"min_ready", "integer", "1",
     "`/readyz` answers 200 only while this app has at least this many ready workers (and systemd hears "
     "`READY=1` once every app has).",
     false,
     [](const YAML::Node& v, AppConfig& a, Context& ctx, const std::string& field) {
       if (auto n = read_integer(v, ctx, field, 0, kMaxWorkers)) a.min_ready = static_cast<int>(*n);
     }},
    {"group", "string", "the user's group", "Run the workers with this group.", false,
     HANDOFF_NAME(AppConfig, run_as.group)},
};

// `admin: 127.0.0.1:8081` is short for `admin: {address: 127.0.0.1:8081}`.
void read_admin_address(const YAML::Node& v, AdminConfig& a, Context& ctx, const std::string& field) {
  auto text = read_name(v, ctx, field);
  if (!text) return;
  auto parsed = parse_host_port(*text);
  if (!parsed) {
    ctx.error(v, field, "expected an IP address and port, as 127.0.0.1:8081 or [::1]:8081, got \"" + *text + "\"");
    return;
  }
  a.enabled = true;
  a.host = parsed->host;
  a.port = parsed->port;
  a.where = location_of(v);
}

const Field<AdminConfig> kAdminFields[] = {
    {"address", "string", "", "`host:port` of the admin HTTP endpoint.", true, read_admin_address},
    {"public", "boolean", "false",
     "Must be `true` for an address other than loopback (127.0.0.0/8, ::1): the endpoint has no authentication.",
     false,
     [](const YAML::Node& v, AdminConfig& a, Context& ctx, const std::string& field) {
       if (auto b = read_choice(v, ctx, field, kBooleans)) a.is_public = *b;
     }},
};

const Field<Config> kTopFields[] = {
    {"listeners", "list", "", "The sockets the supervisor listens on (see below).", true,
     [](const YAML::Node& v, Config& c, Context& ctx, const std::string& field) {
       read_list<ListenerConfig>(v, kListenerFields, c.listeners, ctx, field,
                                 [](ListenerConfig&, const YAML::Node&, Context&) {});
     }},
    {"apps", "list", "", "The groups of identical workers (see below).", true,
     [](const YAML::Node& v, Config& c, Context& ctx, const std::string& field) {
       read_list<AppConfig>(v, kAppFields, c.apps, ctx, field, [](AppConfig& a, const YAML::Node& n, Context& cx) {
         a.cwd = cx.base_dir;
         a.where = location_of(n);
       });
     }},
    {"ipc_max_message", "integer (bytes)", "1048576",
     "Longest IPC message line accepted from a worker; a longer one is dropped and logged.", false,
     [](const YAML::Node& v, Config& c, Context& ctx, const std::string& field) {
       if (auto n = read_integer(v, ctx, field, 1024, 1LL << 30)) c.ipc_max_message = static_cast<std::size_t>(*n);
     }},
    {"shutdown_timeout", "duration", "30s",
     "On SIGTERM or SIGINT, how long workers get to finish their requests before SIGKILL. `0s`: SIGKILL at once.",
     false,
     HANDOFF_DURATION(Config, shutdown_timeout)},
    {"log_format", "logfmt | json", "logfmt",
     "Format of the supervisor's log (its events and its workers' lines, on stderr and in `log_file`).", false,
     [](const YAML::Node& v, Config& c, Context& ctx, const std::string& field) {
       if (auto f = read_choice(v, ctx, field, kLogFormats)) c.log_format = *f;
     }},
    {"log_file", "string", "none",
     "Also write the log to this file (relative to the config file's directory), rotated by size; SIGUSR1 "
     "reopens it (logrotate's convention; not on Windows). `supervisor logs` reads it.",
     false,
     [](const YAML::Node& v, Config& c, Context& ctx, const std::string& field) {
       if (auto s = read_name(v, ctx, field)) {
         c.log_file.path = (std::filesystem::path(ctx.base_dir) / *s).lexically_normal().string();
         c.log_file.where = location_of(v);
       }
     }},
    {"log_max_size", "size", kLogMaxSizeText,
     "A line that would take `log_file` past this size first renames it to `PATH.1` (`PATH.1` to `PATH.2`, ...) "
     "and starts a new file. `0`: never rotated by size.",
     false,
     [](const YAML::Node& v, Config& c, Context& ctx, const std::string& field) {
       if (auto n = read_size(v, ctx, field)) c.log_file.max_size = *n;
     }},
    {"log_keep", "integer", kLogKeepText, "Rotated log files kept (`PATH.1` is the newest); `0`: none.", false,
     [](const YAML::Node& v, Config& c, Context& ctx, const std::string& field) {
       if (auto n = read_integer(v, ctx, field, 0, 1000)) c.log_file.keep = static_cast<int>(*n);
     }},
    {"user", "string", "none", "After binding the listeners, the supervisor drops to this user.", false,
     HANDOFF_NAME(Config, run_as.user)},
    {"group", "string", "the user's group", "The group the supervisor drops to.", false,
     HANDOFF_NAME(Config, run_as.group)},
    {"control_socket", "string", "the config's path with `.sock`",
     "Unix socket (mode 0600) of `supervisor status|top|reload|restart|scale|stop`; relative to the config file's "
     "directory. Also names the scoreboard's shared-memory segment. On Windows the path names a named pipe "
     "`\\\\.\\pipe\\handoff-<hash of the path>` (docs/windows.md).",
     false,
     [](const YAML::Node& v, Config& c, Context& ctx, const std::string& field) {
       if (auto s = read_name(v, ctx, field))
         c.control_socket = (std::filesystem::path(ctx.base_dir) / *s).lexically_normal().string();
     }},
    {"admin", "string or mapping", "off",
     "The admin HTTP endpoint: `/metrics` (Prometheus), `/healthz`, `/readyz`, `/status`. `127.0.0.1:8081`, or "
     "a mapping (see below).",
     false,
     [](const YAML::Node& v, Config& c, Context& ctx, const std::string& field) {
       if (v.IsMap()) read_section<AdminConfig>(v, kAdminFields, c.admin, ctx, field);
       else read_admin_address(v, c.admin, ctx, field);
     }},
};

bool is_loopback(const std::string& host) {
  return host.starts_with("127.") || host == "::1" || host == "::ffff:127.0.0.1";
}

// Unix socket paths are short (sun_path); say so before anything starts.
constexpr std::size_t kMaxSocketPath = 107;

// An app on an HTTP.SYS listener: the kernel routes each request by URL prefix to its
// slot's queue, so the only rule it can honour is the slot number in the path
// (`url_segment: {index: K, direct: true}`, which the app gets when it names none, so its
// socket listeners route the same way). What happens while a slot has no worker is
// HTTP.SYS's too: requests wait in the slot's queue.
void check_httpsys_app(const YAML::Node& node, const Config& config, AppConfig& app, Context& ctx, std::size_t i) {
  const std::string field = "apps[" + std::to_string(i) + "]";
  const ListenerConfig* httpsys = nullptr;
  for (const auto& l : config.listeners)
    if (l.is_httpsys() && std::find(app.listeners.begin(), app.listeners.end(), l.name) != app.listeners.end()) {
      if (httpsys) {
        ctx.error(node, field + ".listeners",
                  "app \"" + app.name + "\" serves two HTTP.SYS listeners (\"" + httpsys->name + "\", \"" + l.name +
                      "\"); one at most");
        return;
      }
      httpsys = &l;
    }
  if (!httpsys) return;
  app.httpsys = httpsys->httpsys;
  const std::string why = "app \"" + app.name + "\" serves the HTTP.SYS listener \"" + httpsys->name + "\"";
  if (app.routes.size() > 1) {
    ctx.error(node["routes"], field + ".routes", why + ", where one route at most names its slots' prefixes");
    return;
  }
  const std::string route = app.routes.empty() ? "" : app.routes.front();
  const int index = httpsys_slot_segment(app.httpsys, route);
  const std::string rule = "`url_segment: {index: " + std::to_string(index) + ", direct: true}`";
  const bool same = app.policy.name == "url_segment" && app.policy.direct && app.policy.index == index;
  if (app.policy_where.line != 0 && !same)
    ctx.error(node["policy"], field + ".policy",
              why + ": HTTP.SYS routes each request to the slot named in its URL (" +
                  httpsys_slot_prefix(app.httpsys, route, 1) + " is slot 1), which is " + rule +
                  "; no other rule can be honoured there. Remove `policy` or write that rule");
  if (node["missing_key"].IsDefined())
    ctx.error(node["missing_key"], field + ".missing_key",
              why + ": a URL outside every slot's prefix is answered by HTTP.SYS itself (404), not routed");
  if (app.on_unavailable != Unavailable::queue)
    ctx.error(node["on_unavailable"], field + ".on_unavailable",
              why + ": while a slot has no worker its requests wait in the slot's HTTP.SYS queue; only `queue` applies");
  if (app.ready != ReadyMode::sdk)
    ctx.error(node["ready"], field + ".ready", why + ": its workers must be C++ SDK workers (`ready: sdk`)");
  if (app.policy_where.line == 0) {
    app.policy.name = "url_segment";
    app.policy.index = index;
    app.policy.direct = true;
  }
}

// `cache:` (after check_httpsys_app). On a socket listener the master's output cache: its
// entries must fit in its memory and in a `cache_put`. On an HTTP.SYS listener HTTP.SYS's
// kernel cache (docs/cache.md, "HTTP.SYS mode"): the workers say how long each response may
// be kept (`default_ttl` included, sent in welcome.cache) and HTTP.SYS stores and answers
// it, with its own limits; the master's settings would act on nothing, so they are refused.
void check_cache(const YAML::Node& node, const Config& config, const AppConfig& app, Context& ctx, std::size_t i) {
  const std::string field = "apps[" + std::to_string(i) + "].cache";
  if (!app.httpsys.empty()) {
    for (const auto& l : config.listeners)
      if (!l.is_httpsys() && std::find(app.listeners.begin(), app.listeners.end(), l.name) != app.listeners.end()) {
        ctx.error(node["cache"], field,
                  "app \"" + app.name + "\" serves both an HTTP.SYS listener and the socket listener \"" + l.name +
                      "\": `cache` would be HTTP.SYS's kernel cache on one and the master's on the other; serve "
                      "the app on one kind of listener, or remove `cache`");
        return;
      }
    const YAML::Node cache = node["cache"];
    if (!cache.IsMap()) return;
    static constexpr std::pair<std::string_view, std::string_view> kMasterOnly[] = {
        {"max_size", "HTTP.SYS sizes its cache itself (the registry's UriMaxCacheMegabyteCount)"},
        {"max_entry", "HTTP.SYS caches responses up to its own limit (the registry's UriMaxUriBytes, 256 KiB by default)"},
        {"lock_timeout", "HTTP.SYS does not hold requests while a response is being made"},
        {"pass_ttl", "HTTP.SYS keeps no record of responses it could not cache"},
        {"stale_while_revalidate", "HTTP.SYS never answers with an expired response"},
    };
    for (const auto& [key, why] : kMasterOnly) {
      const YAML::Node value = cache[std::string(key)];
      if (value.IsDefined())
        ctx.error(value, field + "." + std::string(key),
                  "app \"" + app.name + "\" serves an HTTP.SYS listener, where `cache` is HTTP.SYS's kernel cache and "
                  "only `default_ttl` applies: " + std::string(why) + "; remove `" + std::string(key) + "`");
    }
    return;
  }
  if (app.cache.max_entry * 4 > app.cache.max_size)
    ctx.error(node["cache"], field + ".max_entry", "max_entry is more than a quarter of max_size");
  else if ((app.cache.max_entry + 2) / 3 * 4 + 4096 > config.ipc_max_message)
    ctx.error(node["cache"], field + ".max_entry",
              "an entry of max_entry bytes would not fit in an IPC message (base64) of ipc_max_message bytes");
}

// Who accepts the app's connections (core/dispatch_mode.h); an explicit `dispatch: kernel`
// that cannot apply is an error at that key.
void check_dispatch(const YAML::Node& node, const Config& config, AppConfig& app, Context& ctx, std::size_t i) {
  std::vector<DispatchListener> listeners;
  for (const auto& l : config.listeners) {
    if (std::find(app.listeners.begin(), app.listeners.end(), l.name) == app.listeners.end()) continue;
    std::size_t served_by = 0;
    for (const auto& other : config.apps)
      served_by += std::count(other.listeners.begin(), other.listeners.end(), l.name);
    listeners.push_back({&l, served_by > 1});
  }
  const KernelDispatchFacts facts = ctx.host.kernel_dispatch ? ctx.host.kernel_dispatch() : KernelDispatchFacts{};
  auto choice = choose_dispatch(app, listeners, facts);
  if (app.dispatch_asked == DispatchMode::kernel && !choice.kernel_listener)
    ctx.error(node["dispatch"], "apps[" + std::to_string(i) + "].dispatch",
              "cannot dispatch app \"" + app.name + "\" in the kernel: " + choice.why_master);
  app.kernel_listener = std::move(choice.kernel_listener);
}

// Cross-field rules that no single key can check.
void check_references(const YAML::Node& root, Config& config, Context& ctx) {
  std::set<std::string> listener_names, addresses, app_names;
  for (std::size_t i = 0; i < config.listeners.size(); ++i) {
    const auto& l = config.listeners[i];
    const auto node = root["listeners"][i];
    const std::string field = "listeners[" + std::to_string(i) + "]";
    if (!listener_names.insert(l.name).second) ctx.error(node, field + ".name", "duplicate listener name \"" + l.name + "\"");
    if (l.is_httpsys()) {
      if (node["address"].IsDefined())
        ctx.error(node["address"], field + ".address", "a listener has either `address` (a socket) or `httpsys`, not both");
      for (const char* key : {"backlog", "proxy_protocol", "head_timeout", "max_head", "max_classifying"})
        if (node[key].IsDefined())
          ctx.error(node[key], field + "." + key,
                    std::string("`") + key + "` is for socket listeners; HTTP.SYS (`httpsys`) does its own accepting and parsing");
      if (!addresses.insert("httpsys|" + l.httpsys).second)
        ctx.error(node["httpsys"], field + ".httpsys", "another listener already uses this URL");
      continue;
    }
    if (!node["address"].IsDefined()) {
      ctx.error(node, field, "missing required key 'address' (or 'httpsys' for an HTTP.SYS listener on Windows)");
      continue;
    }
    if (!addresses.insert(l.host + "|" + std::to_string(l.port)).second)
      ctx.error(node, field + ".address", "another listener already uses this address");
  }
  for (std::size_t i = 0; i < config.apps.size(); ++i) {
    auto& app = config.apps[i];
    const auto node = root["apps"][i];
    const std::string field = "apps[" + std::to_string(i) + "]";
    if (!app.name.empty() && !app_names.insert(app.name).second)
      ctx.error(node, field + ".name", "duplicate app name \"" + app.name + "\"");
    if (app.listeners.empty()) {
      for (const auto& l : config.listeners) app.listeners.push_back(l.name);
    } else {
      for (std::size_t j = 0; j < app.listeners.size(); ++j)
        if (!listener_names.contains(app.listeners[j]))
          ctx.error(node["listeners"][j], field + ".listeners[" + std::to_string(j) + "]",
                    "no listener is named \"" + app.listeners[j] + "\"");
    }
    const auto& lc = app.lifecycle;
    if (lc.min_delay > lc.max_delay)
      ctx.error(node["restart"], field + ".restart", "min_delay is longer than max_delay");
    if (lc.heartbeat_timeout.count() > 0 && lc.heartbeat_timeout <= lc.heartbeat_interval)
      ctx.error(node["heartbeat"], field + ".heartbeat", "timeout must be longer than interval");
    // As Node's http.Server insists: the head is part of the request.
    if (const auto& h = app.http; h.headers_timeout_ms > 0 && h.request_timeout_ms > 0 &&
                                  h.headers_timeout_ms > h.request_timeout_ms)
      ctx.error(node["http"], field + ".http", "headers_timeout is longer than request_timeout");
    if (!config.run_as.user.empty() && !app.run_as.user.empty() && app.run_as.user != config.run_as.user)
      ctx.error(node["user"], field + ".user",
                "the supervisor drops to user \"" + config.run_as.user + "\", so it cannot start workers as \"" +
                    app.run_as.user + "\"");
  }
  if (config.admin.enabled && !config.admin.is_public && !is_loopback(config.admin.host))
    ctx.error(root["admin"], "admin",
              "the admin endpoint would listen on " + config.admin.host +
                  ", which is not loopback; it has no authentication, so say `public: true` to mean it");
  if (config.control_socket.size() > kMaxSocketPath)
    ctx.error(root["control_socket"].IsDefined() ? root["control_socket"] : root, "control_socket",
              "the control socket path \"" + config.control_socket + "\" is longer than " +
                  std::to_string(kMaxSocketPath) + " bytes; set a shorter `control_socket`");
  for (std::size_t i = 0; i < config.apps.size(); ++i) check_httpsys_app(root["apps"][i], config, config.apps[i], ctx, i);
  for (std::size_t i = 0; i < config.apps.size(); ++i) check_dispatch(root["apps"][i], config, config.apps[i], ctx, i);
  for (std::size_t i = 0; i < config.apps.size(); ++i)
    if (config.apps[i].cache.enabled) check_cache(root["apps"][i], config, config.apps[i], ctx, i);
  for (std::size_t i = 0; i < config.apps.size(); ++i)
    if (config.apps[i].min_ready > config.apps[i].workers)
      ctx.error(root["apps"][i]["min_ready"], "apps[" + std::to_string(i) + "].min_ready",
                "min_ready is " + std::to_string(config.apps[i].min_ready) + " but the app has only " +
                    std::to_string(config.apps[i].workers) + " workers");
  for (std::size_t i = 0; i < config.listeners.size(); ++i) {
    const auto& l = config.listeners[i];
    const std::string field = "listeners[" + std::to_string(i) + "]";
    std::vector<const AppConfig*> apps;
    for (const auto& app : config.apps)
      if (std::find(app.listeners.begin(), app.listeners.end(), l.name) != app.listeners.end()) apps.push_back(&app);
    if (apps.empty()) ctx.error(root["listeners"][i], field, "no app serves listener \"" + l.name + "\"");
    if (apps.size() < 2) continue;
    // A shared port: every app says which paths are its own, and no path is claimed twice.
    std::map<std::string, std::string> owner_of;
    for (const auto* app : apps) {
      if (app->routes.empty())
        ctx.error(root["listeners"][i], field,
                  "listener \"" + l.name + "\" is shared by several apps, so app \"" + app->name +
                      "\" needs `routes` (the URL prefixes it serves)");
      for (const auto& prefix : app->routes)
        if (auto [it, fresh] = owner_of.emplace(prefix, app->name); !fresh)
          ctx.error(root["listeners"][i], field,
                    "route \"" + prefix + "\" is claimed by both \"" + it->second + "\" and \"" + app->name + "\"");
    }
  }
}

// yaml-cpp (0.7, and upstream still: jbeder/yaml-cpp#60) keeps every entry of a mapping
// whose key repeats, with no option to refuse it: read_section would apply each in turn
// (the last wins) while node["key"] finds the first. YAML says keys are unique, so a
// repeated one is an error wherever it is, `env` included.
//
// An alias is the very node it names, at the anchor's position: each collection is walked
// once (so `&a [*a]` ends), looked up by its position, then by identity.
using Walked = std::map<int, std::vector<YAML::Node>>;

void check_unique_keys(const YAML::Node& node, const std::string& path, Context& ctx, Walked& walked) {
  if (!node.IsMap() && !node.IsSequence()) return;
  auto& here = walked[node.Mark().pos];
  for (const auto& w : here)
    if (w.is(node)) return;
  here.push_back(node);
  if (node.IsSequence()) {
    std::size_t i = 0;
    for (const auto& item : node) check_unique_keys(item, item_field(path, i++), ctx, walked);
    return;
  }
  std::map<std::string, Location> first_at;
  for (const auto& entry : node) {
    // A key that is not a scalar is no name at all; read_section says so.
    const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "";
    const std::string field = key_field(path, key);
    if (entry.first.IsScalar())
      if (auto [first, fresh] = first_at.emplace(key, location_of(entry.first)); !fresh)
        ctx.error(entry.first, field, "duplicate key (first at line " + std::to_string(first->second.line) + ")");
    check_unique_keys(entry.second, field, ctx, walked);
  }
}

template <class T>
std::string table(std::span<const Field<T>> fields, std::string_view policy_help = {}) {
  std::string out = "| key | type | default | meaning |\n|---|---|---|---|\n";
  for (const auto& f : fields) {
    std::string help(f.help);
    if (f.key == "policy") help = std::string(policy_help);
    out += "| `" + std::string(f.key) + "` | " + std::string(f.type) + " | " +
           (f.required ? std::string("required") : std::string(f.fallback)) + " | " + help + " |\n";
  }
  return out;
}

}  // namespace

void read_config(const YAML::Node& root, const std::string& file, const std::string& base_dir, const HostFacts& host,
                 Config& out, ConfigErrors& errors) {
  Context ctx{file, base_dir, host, errors};
  out.file = file;
  const std::size_t before = errors.size();
  Walked walked;
  check_unique_keys(root, "", ctx, walked);
  if (errors.size() != before) return;  // reading would take each of them in turn
  read_section<Config>(root, kTopFields, out, ctx, "");
  if (out.control_socket.empty())
    out.control_socket =
        (std::filesystem::path(base_dir) / (std::filesystem::path(file).stem().string() + ".sock")).lexically_normal().string();
  if (errors.size() == before) check_references(root, out, ctx);
}

std::string config_reference_markdown() {
  std::string policies = "How a connection picks its worker: ";
  bool first = true;
  for (const auto& p : policy_registry()) {
    policies += (first ? "" : "; ") + std::string("`") + std::string(p.name) + "`: " + std::string(p.help);
    first = false;
  }
  policies += ". Rules without parameters are written by name (`policy: ip_hash`), the others as a "
              "mapping with one key (`policy: {header: X-Room}`).";
  return "# Configuration reference\n\n"
         "Generated by `supervisor config-reference` from the schema in supervisor/core/config_schema.cpp;\n"
         "a unit test keeps this file in step with it. Unknown keys are errors.\n\n"
         "## Top level\n\n" +
         table<Config>(kTopFields) + "\n## `listeners[]`\n\n" + table<ListenerConfig>(kListenerFields) +
         "\n## `apps[]`\n\n" + table<AppConfig>(kAppFields, policies) +
         "\n## `apps[].policy: {url_segment: ...}`\n\n" + table<RuleConfig>(kUrlSegmentFields) +
         "\n## `apps[].policy: {plugin: ...}`\n\n" + table<RuleConfig>(kPluginFields) + "\n## `apps[].restart`\n\n" +
         table<LifecyclePolicy>(kRestartFields) + "\n## `apps[].heartbeat`\n\n" +
         table<LifecyclePolicy>(kHeartbeatFields) + "\n## `apps[].queue`\n\n" + table<QueuePolicy>(kQueueFields) +
         "\n## `apps[].http`\n\n" + table<HttpPolicy>(kHttpFields) +
         "\nUnder the supervisor these values win over the worker program's own (WorkerOptions in C++, the "
         "http.Server's properties in Node); an SDK names on stderr each value of the program's that it replaces. "
         "They apply to connections that reach a worker after its `welcome`.\n" +
         "\n## `apps[].cache`\n\n" + table<CacheConfig>(kCacheFields) +
         "\n## `admin`\n\n" + table<AdminConfig>(kAdminFields) +
         "\nDurations take a unit: `500ms`, `30s`, `5m`, `1h`; `0s` is refused unless the key says what it means. "
         "Sizes are bytes, or take a unit: `512MiB`, `2G`. Names and paths (of apps, listeners, routes, users, "
         "groups, rule keys, the program, `cwd`, `control_socket`, plugins) refuse control characters (below 0x20, "
         "and 0x7f): they end up in log lines, metrics labels, HTTP headers, URLs and file names.\n" +
         "\nEvery worker gets `NODE_CHANNEL_FD=3`, `NODE_CHANNEL_SERIALIZATION_MODE=json`, `HANDOFF_APP`, "
         "`HANDOFF_SLOT` (1-based), `HANDOFF_WORKERS` and `HANDOFF_GENERATION` in its environment; workers that "
         "may map the scoreboard also get `HANDOFF_SCOREBOARD` and `HANDOFF_SCOREBOARD_RECORD`. The service "
         "manager's `NOTIFY_SOCKET`, `WATCHDOG_*` and `LISTEN_*` are not passed on.\n";
}

}  // namespace handoff
