#include "supervisor/edge/log_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "supervisor/platform/platform.h"

namespace handoff {

std::string LogFile::open(const LogFileConfig& config) {
  close();
  config_ = config;
  if (config_.path.empty()) return {};
  file_.reset(platform::open_log_append(config_.path));
  if (!file_) return "cannot open " + config_.path + ": " + std::strerror(errno);
  std::error_code ec;
  const auto size = std::filesystem::file_size(config_.path, ec);
  size_ = ec ? 0 : size;
  return {};
}

void LogFile::close() { file_.reset(); }

std::string LogFile::reopen() { return open(LogFileConfig(config_)); }

void LogFile::rotate() {
  file_.reset();
  const std::string& path = config_.path;
  std::error_code ec;
  if (config_.keep == 0) {
    std::filesystem::remove(path, ec);
  } else {
    std::filesystem::remove(path + "." + std::to_string(config_.keep), ec);
    for (int i = config_.keep - 1; i >= 1; --i) {
      const std::string from = path + "." + std::to_string(i);
      if (std::filesystem::exists(from, ec)) std::filesystem::rename(from, path + "." + std::to_string(i + 1), ec);
    }
    std::filesystem::rename(path, path + ".1", ec);
  }
  // On failure (a rename refused, the directory gone) the file is opened again as it is:
  // the log keeps its lines, only the rotation is late.
  file_.reset(platform::open_log_append(path));
  const auto size = std::filesystem::file_size(path, ec);
  size_ = ec ? 0 : size;
}

void LogFile::write(std::string_view line) {
  if (!file_) return;
  if (config_.max_size && size_ > 0 && size_ + line.size() > config_.max_size) {
    rotate();
    if (!file_) {
      ++failed_writes_;
      return;
    }
  }
  if (std::fwrite(line.data(), 1, line.size(), file_.get()) != line.size() || std::fflush(file_.get()) != 0) {
    ++failed_writes_;
    std::clearerr(file_.get());
    return;
  }
  size_ += line.size();
}

}  // namespace handoff
