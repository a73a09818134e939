// Base64 for bytes that travel inside JSON messages (the head bytes a connection carries
// to its worker). Node's Buffer.from(s, 'base64') reads what encode() writes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace handoff::ipc {

std::string base64_encode(std::string_view bytes);
// nullopt when `text` is not padded base64.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace handoff::ipc
