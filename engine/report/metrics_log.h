#pragma once
// metrics.jsonl: one JSON object per evaluation, one per line, e.g.
//   {"epoch":3,"step":1800,"d_loss":0.512,"g_loss":1.31,"test_accuracy":0.9712,"seconds":84.2}
// scripts/plot_metrics.py reads "epoch", "step", "test_accuracy" (a fraction, 0..1), "seconds" and
// draws every key ending in "_loss"; other keys are kept but not drawn. Non-finite numbers are
// written as null, which the script shows as gaps.
#include <filesystem>
#include <nlohmann/json_fwd.hpp>
#include <string>

namespace sgan {

class MetricsLog {
public:
  // Opens `path` for appending, creating it, so a resumed run adds to the lines already there.
  // A last line cut short (a run killed mid-write) is ended first, so it cannot swallow the next.
  // Throws std::runtime_error naming `path` when it cannot be opened.
  explicit MetricsLog(const std::filesystem::path& path);
  ~MetricsLog();
  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;

  // Appends `record` (a JSON object) as one line in one write, handed to the system at once, so a
  // run killed afterwards keeps it. Throws std::invalid_argument for a non-object and
  // std::runtime_error naming the file when the write fails (e.g. a full disk).
  void append(const nlohmann::json& record);

  const std::filesystem::path& path() const { return path_; }

private:
  void write_all(const std::string& bytes);

  std::filesystem::path path_;
  int fd_;
};

} // namespace sgan
