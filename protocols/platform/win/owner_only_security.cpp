#include "protocols/platform/win/owner_only_security.h"

#include <aclapi.h>
#include <sddl.h>

#include <memory>

namespace handoff::win {
namespace {

std::string last_error(const char* what) { return std::string(what) + " failed: error " + std::to_string(GetLastError()); }

// The string SID of the user this process runs as ("S-1-5-21-..."), "" on failure.
std::string current_user_sid(std::string& error) {
  HANDLE token = nullptr;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) {
    error = last_error("OpenProcessToken");
    return {};
  }
  DWORD length = 0;
  GetTokenInformation(token, TokenUser, nullptr, 0, &length);
  auto buffer = std::make_unique<unsigned char[]>(length ? length : 1);
  std::string sid;
  if (GetTokenInformation(token, TokenUser, buffer.get(), length, &length)) {
    LPSTR text = nullptr;
    if (ConvertSidToStringSidA(reinterpret_cast<TOKEN_USER*>(buffer.get())->User.Sid, &text)) {
      sid = text;
      LocalFree(text);
    } else {
      error = last_error("ConvertSidToStringSid");
    }
  } else {
    error = last_error("GetTokenInformation");
  }
  CloseHandle(token);
  return sid;
}

}  // namespace

OwnerOnlySecurity::OwnerOnlySecurity() {
  const std::string sid = current_user_sid(error_);
  if (sid.empty()) return;
  // P: protected (nothing inherited); one ACE: allow the user generic-all.
  sddl_ = "D:P(A;;GA;;;" + sid + ")";
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorA(sddl_.c_str(), SDDL_REVISION_1, &descriptor_, nullptr)) {
    error_ = last_error("ConvertStringSecurityDescriptorToSecurityDescriptor");
    descriptor_ = nullptr;
    return;
  }
  attributes_.nLength = sizeof attributes_;
  attributes_.lpSecurityDescriptor = descriptor_;
  attributes_.bInheritHandle = FALSE;
}

OwnerOnlySecurity::~OwnerOnlySecurity() {
  if (descriptor_) LocalFree(descriptor_);
}

PACL OwnerOnlySecurity::dacl() const {
  if (!descriptor_) return nullptr;
  BOOL present = FALSE, defaulted = FALSE;
  PACL acl = nullptr;
  if (!GetSecurityDescriptorDacl(descriptor_, &present, &acl, &defaulted) || !present) return nullptr;
  return acl;
}

std::string dacl_of(HANDLE object) {
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  if (GetSecurityInfo(object, SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION, nullptr, nullptr, nullptr, nullptr,
                      &descriptor) != ERROR_SUCCESS)
    return {};
  std::string out;
  LPSTR text = nullptr;
  if (ConvertSecurityDescriptorToStringSecurityDescriptorA(descriptor, SDDL_REVISION_1, DACL_SECURITY_INFORMATION, &text,
                                                           nullptr)) {
    out = text;
    LocalFree(text);
  }
  LocalFree(descriptor);
  return out;
}

}  // namespace handoff::win
