// write_file_atomically: a new file appears whole, an old one is replaced whole, and the old file
// survives byte for byte a writer that throws, a process killed mid-write and a write the system
// refuses.
#include "engine/io/atomic_file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <signal.h>
#include <stdexcept>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace sgan {
namespace {

namespace fs = std::filesystem;

// A fresh directory for one test, removed with everything in it afterwards.
class AtomicFileTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "sgan_atomic_file_test_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr) << std::strerror(errno);
    directory = pattern;
  }
  void TearDown() override {
    fs::permissions(directory, fs::perms::owner_all, fs::perm_options::add);
    fs::remove_all(directory);
  }

  std::vector<std::string> listing() const {
    std::vector<std::string> names;
    for (const fs::directory_entry& e : fs::directory_iterator(directory))
      names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  fs::path directory;
};

// n bytes of a pattern that differs between seeds, so an old and a new file never agree.
std::string patterned_bytes(std::size_t n, unsigned seed) {
  std::string bytes(n, '\0');
  for (std::size_t i = 0; i < n; ++i) bytes[i] = static_cast<char>((i * 131 + seed * 17) % 251);
  return bytes;
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_plainly(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

template <class F> std::string error_message(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no exception)";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Status of a forked child that runs `body` and exits 0, or is killed on the way.
template <class F> int run_in_child(F&& body) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    body();
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

TEST_F(AtomicFileTest, WritesANewFileWhole) {
  // Larger than the 64 KiB stream buffer, so the bytes reach the file in several writes.
  const std::string bytes = patterned_bytes(200'000, 1);
  const fs::path path = directory / "new.bin";
  write_file_atomically(path, [&](std::ostream& out) { out << bytes; });
  EXPECT_EQ(read_bytes(path), bytes);
  EXPECT_EQ(listing(), std::vector<std::string>{"new.bin"});
}

TEST_F(AtomicFileTest, ReplacesAnExistingFileWhole) {
  const fs::path path = directory / "file.bin";
  write_plainly(path, patterned_bytes(5000, 1));
  const std::string shorter = patterned_bytes(300, 2);
  write_file_atomically(path, [&](std::ostream& out) { out << shorter; });
  EXPECT_EQ(read_bytes(path), shorter);
  EXPECT_EQ(listing(), std::vector<std::string>{"file.bin"});
}

TEST_F(AtomicFileTest, WritesAnEmptyFile) {
  const fs::path path = directory / "empty.bin";
  write_file_atomically(path, [](std::ostream&) {});
  EXPECT_TRUE(fs::exists(path));
  EXPECT_EQ(fs::file_size(path), 0u);
}

TEST_F(AtomicFileTest, WriterThatThrowsLeavesTheOldFileAndNoTemporary) {
  const fs::path path = directory / "file.bin";
  const std::string old_bytes = patterned_bytes(100'000, 1);
  write_plainly(path, old_bytes);
  const std::string message = error_message([&] {
    write_file_atomically(path, [&](std::ostream& out) {
      out << patterned_bytes(150'000, 2);
      out.flush();
      throw std::logic_error("the writer gave up");
    });
  });
  EXPECT_EQ(message, "the writer gave up"); // the writer's own exception, passed on unchanged
  EXPECT_EQ(read_bytes(path), old_bytes);
  EXPECT_EQ(listing(), std::vector<std::string>{"file.bin"});
}

TEST_F(AtomicFileTest, ProcessKilledBeforeTheRenameLeavesTheOldFile) {
  const fs::path path = directory / "file.bin";
  const std::string old_bytes = patterned_bytes(300'000, 1);
  const std::string new_bytes = patterned_bytes(400'000, 2);
  // Killed after writing half of the new bytes, and after writing all of them.
  for (std::size_t written : {new_bytes.size() / 2, new_bytes.size()}) {
    SCOPED_TRACE(written);
    write_plainly(path, old_bytes);
    const int status = run_in_child([&] {
      write_file_atomically(path, [&](std::ostream& out) {
        out.write(new_bytes.data(), static_cast<std::streamsize>(written));
        out.flush();
        ::raise(SIGKILL);
      });
    });
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
    EXPECT_EQ(read_bytes(path), old_bytes);
    // The dead writer's temporary holds what it wrote: proof that it died mid-write.
    const std::vector<std::string> names = listing();
    ASSERT_EQ(names.size(), 2u);
    const fs::path temporary = directory / (names[0] == "file.bin" ? names[1] : names[0]);
    EXPECT_EQ(temporary.filename().string().rfind(".file.bin.tmp.", 0), 0u) << temporary;
    EXPECT_EQ(read_bytes(temporary), new_bytes.substr(0, written));
    fs::remove(temporary);
  }
}

// A file size limit (RLIMIT_FSIZE) makes write() fail with EFBIG, as a full disk fails it with
// ENOSPC; the child reports the exception's message through a pipe.
TEST_F(AtomicFileTest, WriteTheSystemRefusesThrowsWithTheReasonAndKeepsTheOldFile) {
  const fs::path path = directory / "file.bin";
  const std::string old_bytes = patterned_bytes(1000, 1);
  write_plainly(path, old_bytes);
  int pipe_ends[2];
  ASSERT_EQ(::pipe(pipe_ends), 0);
  const int status = run_in_child([&] {
    ::close(pipe_ends[0]);
    ::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{4096, 4096};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    const std::string message = error_message([&] {
      write_file_atomically(path, [](std::ostream& out) { out << patterned_bytes(100'000, 2); });
    });
    if (::write(pipe_ends[1], message.data(), message.size()) < 0) ::_exit(1);
  });
  ::close(pipe_ends[1]);
  std::string message;
  char chunk[256];
  for (ssize_t n; (n = ::read(pipe_ends[0], chunk, sizeof chunk)) > 0;) message.append(chunk, n);
  ::close(pipe_ends[0]);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  EXPECT_TRUE(contains(message, "cannot write " + path.string())) << message;
  EXPECT_TRUE(contains(message, std::strerror(EFBIG))) << message;
  EXPECT_EQ(read_bytes(path), old_bytes);
  EXPECT_EQ(listing(), std::vector<std::string>{"file.bin"});
}

TEST_F(AtomicFileTest, MissingDirectoryGivesAClearError) {
  const fs::path path = directory / "no_such_directory" / "file.bin";
  const std::string message =
      error_message([&] { write_file_atomically(path, [](std::ostream& out) { out << "x"; }); });
  EXPECT_TRUE(contains(message, path.string())) << message;
  EXPECT_TRUE(contains(message, std::strerror(ENOENT))) << message;
}

TEST_F(AtomicFileTest, ReadOnlyDirectoryGivesAClearErrorAndKeepsTheOldFile) {
  if (::geteuid() == 0) GTEST_SKIP() << "running as root, which may write into any directory";
  const fs::path path = directory / "file.bin";
  write_plainly(path, "old");
  fs::permissions(directory, fs::perms::owner_read | fs::perms::owner_exec);
  const std::string message =
      error_message([&] { write_file_atomically(path, [](std::ostream& out) { out << "new"; }); });
  EXPECT_TRUE(contains(message, path.string())) << message;
  EXPECT_TRUE(contains(message, std::strerror(EACCES))) << message;
  EXPECT_EQ(read_bytes(path), "old");
}

} // namespace
} // namespace sgan
