#pragma once
// Replacing a file so that a crash at any moment leaves either the old file or the complete new
// one.
#include <filesystem>
#include <functional>
#include <ostream>

namespace sgan {

// Writes `path` so that readers see either the old file or the complete new one: the bytes go to a
// temporary file in the same directory, which is flushed, fsync'ed, renamed over `path`, and the
// directory fsync'ed. If `write` throws, the temporary is removed and the old file is untouched.
// (A process killed mid-write leaves its temporary, ".<name>.tmp.<pid>.<n>", behind; `path` is
// still the old file.) Errors (creating the temporary, writing it, e.g. a full disk, renaming it)
// throw std::runtime_error naming the path and the system's reason.
void write_file_atomically(const std::filesystem::path& path,
                           const std::function<void(std::ostream&)>& write);

} // namespace sgan
