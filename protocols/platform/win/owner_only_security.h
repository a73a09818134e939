// A security descriptor whose DACL admits only the user this process runs as (full
// access), protected from inheriting anything: no Everyone, no Administrators, no
// SYSTEM entry. For the scoreboard section and the control socket's named pipe, which
// Windows would otherwise give the token's default DACL (and a named pipe also read access
// for Everyone and Anonymous).
#pragma once

#include <windows.h>

#include <string>

namespace handoff::win {

class OwnerOnlySecurity {
 public:
  OwnerOnlySecurity();  // check ok() and error()
  ~OwnerOnlySecurity();
  OwnerOnlySecurity(const OwnerOnlySecurity&) = delete;
  OwnerOnlySecurity& operator=(const OwnerOnlySecurity&) = delete;

  bool ok() const { return descriptor_ != nullptr; }
  const std::string& error() const { return error_; }
  // "D:P(A;;GA;;;S-1-5-21-...)": what the DACL says, for logs and tests.
  const std::string& sddl() const { return sddl_; }
  SECURITY_ATTRIBUTES* attributes() { return ok() ? &attributes_ : nullptr; }
  PACL dacl() const;

 private:
  PSECURITY_DESCRIPTOR descriptor_ = nullptr;  // LocalAlloc'd by the SDDL conversion
  SECURITY_ATTRIBUTES attributes_{};
  std::string sddl_;
  std::string error_;
};

// The DACL of a kernel object (a pipe, a section) in SDDL, "" when it cannot be read.
std::string dacl_of(HANDLE object);

}  // namespace handoff::win
