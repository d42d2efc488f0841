#pragma once
// The progress line of a long run. On a terminal, one line redrawn in place:
//   [#######-----------------------]  23%   2300/10000  41.7 it/s  elapsed 0:00:55  ETA 0:03:05  D
//   loss 0.512
// elsewhere (a log file, a pipe), the same text without the bar as a plain line every few seconds.
// It knows nothing of training: the caller passes the step and already formatted name/value pairs.
#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace sgan {

struct ProgressField {
  std::string name;  // "D loss"
  std::string value; // already formatted: "0.5120", "98.71%"
};

struct ProgressOptions {
  int bar_width = 30;
  double redraw_seconds = 0.1;       // terminal: at most ~10 redraws a second
  double plain_seconds = 10.0;       // not a terminal: a line at most this often
  double rate_window_seconds = 10.0; // it/s is measured over about the last this many seconds
  int max_columns = 0; // terminal: cut the line to fit this width; 0: ask the terminal (FILE* form)
};

// Seconds on a clock that never goes back; injectable so tests control time.
using ProgressClock = std::function<double()>;
double steady_clock_seconds();

class Progress {
public:
  // Writes to `out`, drawing in place when isatty(fileno(out)).
  explicit Progress(std::int64_t total, std::FILE* out = stderr, ProgressOptions options = {},
                    ProgressClock clock = steady_clock_seconds);
  // Writes to `out`, drawing in place when `is_terminal`.
  Progress(std::int64_t total, std::ostream& out, bool is_terminal, ProgressOptions options = {},
           ProgressClock clock = steady_clock_seconds);
  // Ends a line left on the terminal, so what is printed next starts on a fresh one.
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // `step` iterations of `total` are done. Non-empty `fields` replace the ones shown; empty keeps
  // them, so a loop can report every step but read its losses only now and then.
  void update(std::int64_t step, std::vector<ProgressField> fields = {});
  // Prints `message` on a line of its own above the progress line.
  void log(std::string_view message);
  // Prints the final progress line and ends it with a newline.
  void finish();

private:
  struct Sample {
    double seconds;
    std::int64_t step;
  };

  Progress(std::int64_t total, std::function<void(std::string_view)> write, bool is_terminal,
           int terminal_fd, ProgressOptions options, ProgressClock clock);
  void record_sample(double now);
  double steps_per_second(double now) const;
  std::string status(double now) const;
  std::string terminal_line(double now) const;
  void draw(double now);
  void print_plain(double now);

  std::int64_t total_;
  std::function<void(std::string_view)> write_;
  bool is_terminal_;
  int terminal_fd_; // -1 where the width cannot be asked
  ProgressOptions options_;
  ProgressClock clock_;
  double start_seconds_;
  std::deque<Sample> samples_;
  std::int64_t step_ = 0;
  std::vector<ProgressField> fields_;
  double last_output_seconds_;
  bool line_on_screen_ = false; // terminal: a progress line is drawn and not yet ended
  bool state_printed_ = false;  // plain: the current step and fields are already on a line
};

// h:mm:ss of a duration rounded to the second ("1:02:03"); "-:--:--" when unknown (NaN, infinite).
std::string format_duration(double seconds);
// Iterations per second to about three significant digits ("4.17", "41.7", "417"); "?" when
// unknown.
std::string format_rate(double per_second);

} // namespace sgan
