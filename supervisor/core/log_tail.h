// The last lines of a log file, read from its end a chunk at a time, so `supervisor logs
// -n 50` of a 100 MiB file reads kilobytes. Pure: the caller reads the bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace handoff {

// `read(offset, size)`: those bytes of the file. The last `n` non-empty lines for which
// `wanted` is true, oldest first; a last line without its '\n' counts.
std::vector<std::string> last_lines(std::uint64_t file_size,
                                    const std::function<std::string(std::uint64_t offset, std::size_t size)>& read,
                                    std::size_t n, const std::function<bool(std::string_view line)>& wanted,
                                    std::size_t chunk = 64 * 1024);

}  // namespace handoff
