#pragma once

#include <span>
#include <string>
#include <string_view>

namespace handoff {

// The closest candidate to `word` by edit distance, or "" when none is close enough to
// be a plausible typo (distance above a third of the word's length, at least 1).
std::string did_you_mean(std::string_view word, std::span<const std::string_view> candidates);

}  // namespace handoff
