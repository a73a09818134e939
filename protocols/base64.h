// Base64 for bytes that travel inside JSON messages (the head bytes a connection carries
// to its worker). Node's Buffer.from(s, 'base64') reads what encode() writes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace handoff::ipc {

std::string base64_encode(std::string_view bytes);
// Writes the encoding to `out`, which has room for (size + 2) / 3 * 4 characters; returns
// how many it wrote.
std::size_t base64_encode(std::string_view bytes, char* out);
// nullopt when `text` is not padded base64.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace handoff::ipc
