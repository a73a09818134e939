#include "supervisor/core/ip_text.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

namespace handoff {
namespace {

std::optional<unsigned> hex_digit(char c) {
  if (c >= '0' && c <= '9') return static_cast<unsigned>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<unsigned>(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return static_cast<unsigned>(c - 'A' + 10);
  return std::nullopt;
}

// One IPv6 group: 1-4 hex digits.
std::optional<std::uint16_t> parse_group(std::string_view text) {
  if (text.empty() || text.size() > 4) return std::nullopt;
  unsigned value = 0;
  for (const char c : text) {
    const auto digit = hex_digit(c);
    if (!digit) return std::nullopt;
    value = value * 16 + *digit;
  }
  return static_cast<std::uint16_t>(value);
}

// The groups of one side of "::" (or of an address without one), in order, as bytes;
// only the last piece of the whole address (`may_end_in_ipv4`) may be a dotted quad.
bool parse_groups(std::string_view text, bool may_end_in_ipv4, std::vector<unsigned char>& out) {
  if (text.empty()) return true;
  while (true) {
    const std::size_t colon = text.find(':');
    const std::string_view piece = text.substr(0, colon);
    if (colon == std::string_view::npos && may_end_in_ipv4 && piece.find('.') != std::string_view::npos) {
      const auto quad = parse_ipv4_text(piece);
      if (!quad) return false;
      out.insert(out.end(), quad->begin(), quad->end());
      return true;
    }
    const auto group = parse_group(piece);
    if (!group) return false;
    out.push_back(static_cast<unsigned char>(*group >> 8));
    out.push_back(static_cast<unsigned char>(*group & 0xff));
    if (colon == std::string_view::npos) return true;
    text.remove_prefix(colon + 1);
  }
}

struct OctetText {
  char digits[3];
  unsigned char length;
};
constexpr auto kOctetTexts = [] {
  std::array<OctetText, 256> texts{};
  for (unsigned v = 0; v < 256; ++v) {
    OctetText& t = texts[v];
    if (v >= 100) t.digits[t.length++] = static_cast<char>('0' + v / 100);
    if (v >= 10) t.digits[t.length++] = static_cast<char>('0' + v / 10 % 10);
    t.digits[t.length++] = static_cast<char>('0' + v % 10);
  }
  return texts;
}();

}  // namespace

std::optional<std::array<unsigned char, 4>> parse_ipv4_text(std::string_view text) {
  std::array<unsigned char, 4> out{};
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (i > 0) {
      if (text.empty() || text.front() != '.') return std::nullopt;
      text.remove_prefix(1);
    }
    std::size_t digits = 0;
    unsigned value = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9' && digits < 3)
      value = value * 10 + static_cast<unsigned>(text[digits++] - '0');
    // No digits, a leading zero ("01"), or over 255.
    if (digits == 0 || (digits > 1 && text.front() == '0') || value > 255) return std::nullopt;
    out[i] = static_cast<unsigned char>(value);
    text.remove_prefix(digits);
  }
  if (!text.empty()) return std::nullopt;  // a fourth digit, a fifth number, anything else
  return out;
}

std::optional<std::array<unsigned char, 16>> parse_ipv6_text(std::string_view text) {
  const std::size_t gap = text.find("::");
  std::vector<unsigned char> head;
  std::vector<unsigned char> tail;
  if (gap == std::string_view::npos) {
    if (!parse_groups(text, true, head) || head.size() != 16) return std::nullopt;
  } else {
    const std::string_view after = text.substr(gap + 2);
    // "::" stands for at least one zero group, and once.
    if (after.find("::") != std::string_view::npos || !parse_groups(text.substr(0, gap), false, head) ||
        !parse_groups(after, true, tail) || head.size() + tail.size() > 14)
      return std::nullopt;
    // A third colon (":::", "1:::2") or one at an end (":1::") leaves an empty group,
    // which parse_groups refuses.
  }
  std::array<unsigned char, 16> out{};
  std::copy(head.begin(), head.end(), out.begin());
  std::copy(tail.begin(), tail.end(), out.end() - static_cast<std::ptrdiff_t>(tail.size()));
  return out;
}

std::string ipv4_text(std::span<const unsigned char, 4> a) {
  char text[15];
  return std::string(text, static_cast<std::size_t>(write_ipv4_text(a, text) - text));
}

char* write_ipv4_text(std::span<const unsigned char, 4> a, char* p) {
  // From a table of the 256 octets' texts: the master formats every client address it
  // accepts (snprintf cost about 1,800 instructions, digit by digit about 80; callgrind,
  // bench/handoff-cost.sh). Three bytes are copied each time, the length advanced: the
  // last octet starts at most at 12, so 15 bytes hold it all.
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (i > 0) *p++ = '.';
    const OctetText& octet = kOctetTexts[a[i]];
    std::memcpy(p, octet.digits, 3);
    p += octet.length;
  }
  return p;
}

std::string ipv6_text(std::span<const unsigned char, 16> a) {
  std::uint16_t words[8];
  for (int i = 0; i < 8; ++i) words[i] = static_cast<std::uint16_t>(a[2 * i] << 8 | a[2 * i + 1]);
  // The longest run of zero groups; the first of equal ones; none shorter than two.
  int best = -1, best_length = 0;
  for (int i = 0; i < 8;) {
    if (words[i] != 0) {
      ++i;
      continue;
    }
    int end = i;
    while (end < 8 && words[end] == 0) ++end;
    if (end - i > best_length) best = i, best_length = end - i;
    i = end;
  }
  if (best_length < 2) best = -1;
  std::string out;
  for (int i = 0; i < 8; ++i) {
    if (best >= 0 && i >= best && i < best + best_length) {
      if (i == best) out += ':';
      continue;
    }
    if (i != 0) out += ':';
    // IPv4-compatible (::a.b.c.d) and IPv4-mapped (::ffff:a.b.c.d) addresses end in a dotted quad.
    if (i == 6 && best == 0 && (best_length == 6 || (best_length == 5 && words[5] == 0xffff))) {
      out += ipv4_text(a.subspan<12, 4>());
      return out;
    }
    char group[5];
    std::snprintf(group, sizeof group, "%x", static_cast<unsigned>(words[i]));
    out += group;
  }
  if (best >= 0 && best + best_length == 8) out += ':';
  return out;
}

}  // namespace handoff
