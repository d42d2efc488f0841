#include "engine/report/metrics_log.h"

#include <cerrno>
#include <fcntl.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <system_error>
#include <unistd.h>

namespace sgan {
namespace {

std::string reason(int error) { return std::system_category().message(error); }

// Whether the file ends in something other than a newline: the tail of a line cut short.
bool ends_mid_line(int fd) {
  const off_t size = ::lseek(fd, 0, SEEK_END);
  if (size <= 0) return false;
  char last = '\n';
  return ::pread(fd, &last, 1, size - 1) == 1 && last != '\n';
}

} // namespace

MetricsLog::MetricsLog(const std::filesystem::path& path)
    : path_(path), fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0666)) {
  if (fd_ < 0)
    throw std::runtime_error(
        fmt::format("cannot open {} for appending: {}", path_.string(), reason(errno)));
  try {
    if (ends_mid_line(fd_)) write_all("\n");
  } catch (...) {
    ::close(fd_);
    throw;
  }
}

MetricsLog::~MetricsLog() { ::close(fd_); }

void MetricsLog::append(const nlohmann::json& record) {
  if (!record.is_object())
    throw std::invalid_argument(
        fmt::format("a metrics record must be a JSON object, got a JSON {}", record.type_name()));
  write_all(record.dump() + "\n");
}

void MetricsLog::write_all(const std::string& bytes) {
  for (std::size_t done = 0; done < bytes.size();) {
    const ssize_t written = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0)
      throw std::runtime_error(fmt::format("cannot append to {}: {}", path_.string(),
                                           reason(written < 0 ? errno : EIO)));
    done += static_cast<std::size_t>(written);
  }
}

} // namespace sgan
