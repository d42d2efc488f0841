#include "engine/io/atomic_file.h"

#include <atomic>
#include <cerrno>
#include <fcntl.h>
#include <fmt/format.h>
#include <stdexcept>
#include <streambuf>
#include <string>
#include <system_error>
#include <unistd.h>
#include <utility>
#include <vector>

namespace sgan {
namespace {

std::string reason(int error) { return std::system_category().message(error); }

// An output stream buffer over a POSIX file descriptor that keeps the first write error (errno),
// so a failed write can say why, e.g. "No space left on device".
class FileDescriptorBuffer : public std::streambuf {
public:
  explicit FileDescriptorBuffer(int fd) : fd_(fd), buffer_(1 << 16) { reset(); }
  int error() const { return error_; }

protected:
  int_type overflow(int_type ch) override {
    if (!drain()) return traits_type::eof();
    if (traits_type::eq_int_type(ch, traits_type::eof())) return traits_type::not_eof(ch);
    *pptr() = traits_type::to_char_type(ch);
    pbump(1);
    return ch;
  }
  int sync() override { return drain() ? 0 : -1; }

private:
  void reset() { setp(buffer_.data(), buffer_.data() + buffer_.size()); }

  // Hands everything buffered to the system; false once any write has failed.
  bool drain() {
    if (error_ != 0) return false;
    for (const char* p = pbase(); p < pptr();) {
      const ssize_t written = ::write(fd_, p, static_cast<std::size_t>(pptr() - p));
      if (written < 0 && errno == EINTR) continue;
      if (written <= 0) {
        error_ = written < 0 ? errno : EIO;
        return false;
      }
      p += written;
    }
    reset();
    return true;
  }

  int fd_;
  std::vector<char> buffer_;
  int error_ = 0;
};

struct TemporaryFile {
  int fd;
  std::filesystem::path path;
};

// Creates ".<name>.tmp.<pid>.<n>" beside `path`, with the next n while a name is taken.
TemporaryFile create_temporary_beside(const std::filesystem::path& path) {
  static std::atomic<unsigned> counter{0};
  for (;;) {
    std::filesystem::path temporary =
        path.parent_path() /
        fmt::format(".{}.tmp.{}.{}", path.filename().string(), ::getpid(), counter++);
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) return {fd, std::move(temporary)};
    if (errno != EEXIST)
      throw std::runtime_error(fmt::format("cannot create a temporary file to write {}: {}",
                                           path.string(), reason(errno)));
  }
}

// Writes the temporary's bytes and forces them to disk; throws what `write` throws, or a
// runtime_error naming `path` if the system refuses.
void write_and_sync(const TemporaryFile& temporary, const std::filesystem::path& path,
                    const std::function<void(std::ostream&)>& write) {
  FileDescriptorBuffer buffer(temporary.fd);
  std::ostream out(&buffer);
  write(out);
  out.flush();
  if (buffer.error() != 0)
    throw std::runtime_error(
        fmt::format("cannot write {}: {}", path.string(), reason(buffer.error())));
  if (!out)
    throw std::runtime_error(
        fmt::format("cannot write {}: the output stream failed", path.string()));
  if (::fsync(temporary.fd) != 0)
    throw std::runtime_error(
        fmt::format("cannot flush {} to disk: {}", path.string(), reason(errno)));
}

// Makes the rename itself durable. File systems that cannot sync a directory say EINVAL; there
// the rename is as durable as the file system makes it.
void sync_directory_of(const std::filesystem::path& path) {
  const std::filesystem::path directory = path.has_parent_path() ? path.parent_path() : ".";
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const int error = fd < 0 ? errno : ::fsync(fd) != 0 ? errno : 0;
  if (fd >= 0) ::close(fd);
  if (error != 0 && error != EINVAL)
    throw std::runtime_error(fmt::format("wrote {} but cannot flush its directory to disk: {}",
                                         path.string(), reason(error)));
}

} // namespace

void write_file_atomically(const std::filesystem::path& path,
                           const std::function<void(std::ostream&)>& write) {
  if (!path.has_filename())
    throw std::invalid_argument(fmt::format("cannot write {}: it names no file", path.string()));
  const TemporaryFile temporary = create_temporary_beside(path);
  try {
    write_and_sync(temporary, path, write);
  } catch (...) {
    ::close(temporary.fd);
    ::unlink(temporary.path.c_str());
    throw;
  }
  if (::close(temporary.fd) != 0) {
    const int error = errno;
    ::unlink(temporary.path.c_str());
    throw std::runtime_error(fmt::format("cannot write {}: {}", path.string(), reason(error)));
  }
  if (::rename(temporary.path.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temporary.path.c_str());
    throw std::runtime_error(fmt::format("cannot rename {} to {}: {}", temporary.path.string(),
                                         path.string(), reason(error)));
  }
  sync_directory_of(path);
}

} // namespace sgan
