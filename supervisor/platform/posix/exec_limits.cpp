// POSIX: what execve takes before it fails with E2BIG. Linux (fs/exec.c) copies the
// program's path and every argv and envp string, each with its NUL, onto the new stack,
// and counts a pointer to each of the strings too; the total is bounded, and so is each
// string alone (MAX_ARG_STRLEN).
#include <unistd.h>

#include <algorithm>

#include "supervisor/platform/platform.h"

namespace handoff::platform {
namespace {

struct Limit {
  std::size_t bytes;
  const char* what;  // where it comes from, for the message
};

// sysconf(_SC_ARG_MAX) is a quarter of the stack's rlimit (glibc). Linux also caps the
// total at 3/4 of _STK_LIM (8 MiB), which sysconf does not know, e.g. under
// `ulimit -s unlimited`. nullopt when the system names no limit.
std::optional<Limit> total_limit() {
  const long arg_max = ::sysconf(_SC_ARG_MAX);
  if (arg_max <= 0) return std::nullopt;
  Limit limit{static_cast<std::size_t>(arg_max), "sysconf(_SC_ARG_MAX), a quarter of the stack limit: ulimit -s"};
#ifdef __linux__
  constexpr std::size_t kLinuxCap = 6u << 20;
  if (limit.bytes > kLinuxCap) limit = {kLinuxCap, "Linux's cap, 3/4 of _STK_LIM"};
#endif
  return limit;
}

// MAX_ARG_STRLEN is 32 pages (linux/binfmts.h, whose PAGE_SIZE userspace does not have).
std::optional<std::size_t> string_limit() {
#ifdef __linux__
  return 32 * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
#else
  return std::nullopt;  // the BSDs and macOS bound only the total
#endif
}

std::string variable_name(const std::string& assignment) { return assignment.substr(0, assignment.find('=')); }

}  // namespace

std::optional<ExecOverflow> exec_overflow(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  if (const auto most = string_limit()) {
    const auto too_long = [&](const std::string& s) { return s.size() + 1 > *most; };
    const auto is = [&](const std::string& s) {
      return " is " + std::to_string(s.size() + 1) + " bytes with its NUL; execve accepts at most " +
             std::to_string(*most) + " for one string (MAX_ARG_STRLEN)";
    };
    for (std::size_t i = 0; i < argv.size(); ++i)
      if (too_long(argv[i])) return ExecOverflow{i, std::nullopt, "argument " + std::to_string(i) + is(argv[i])};
    for (std::size_t i = 0; i < env.size(); ++i)
      if (too_long(env[i])) return ExecOverflow{std::nullopt, i, "the variable " + variable_name(env[i]) + is(env[i])};
  }
  const auto limit = total_limit();
  if (!limit) return std::nullopt;
  // The program's path (argv[0], as the supervisor execs it) is copied once more, without a pointer.
  std::size_t total = argv.empty() ? 0 : argv.front().size() + 1;
  for (const auto* strings : {&argv, &env})
    for (const auto& s : *strings) total += s.size() + 1 + sizeof(char*);
  if (total <= limit->bytes) return std::nullopt;
  return ExecOverflow{std::nullopt, std::nullopt,
                      "the command and the environment come to " + std::to_string(total) +
                          " bytes (each string with its NUL and a pointer); execve accepts at most " +
                          std::to_string(limit->bytes) + " (" + limit->what + ")"};
}

}  // namespace handoff::platform
