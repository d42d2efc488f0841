#include "engine/report/progress.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <ostream>
#include <sys/ioctl.h>
#include <unistd.h>
#include <utility>

namespace sgan {
namespace {

// Return to column 0; erase from the cursor to the end of the line (ANSI, every terminal today).
constexpr std::string_view carriage_return = "\r";
constexpr std::string_view erase_to_end = "\033[K";

int decimal_digits(std::int64_t n) {
  int digits = 1;
  for (; n >= 10; n /= 10) ++digits;
  return digits;
}

int terminal_columns(int fd) {
  winsize size{};
  if (fd < 0 || ::ioctl(fd, TIOCGWINSZ, &size) != 0) return 0;
  return size.ws_col;
}

} // namespace

double steady_clock_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds)) return "-:--:--";
  const long long total = std::llround(std::max(seconds, 0.0));
  return fmt::format("{}:{:02}:{:02}", total / 3600, total / 60 % 60, total % 60);
}

std::string format_rate(double per_second) {
  if (!std::isfinite(per_second)) return "?";
  if (per_second < 10) return fmt::format("{:.2f}", per_second);
  if (per_second < 100) return fmt::format("{:.1f}", per_second);
  return fmt::format("{:.0f}", per_second);
}

Progress::Progress(std::int64_t total, std::FILE* out, ProgressOptions options, ProgressClock clock)
    : Progress(
          total,
          [out](std::string_view text) {
            std::fwrite(text.data(), 1, text.size(), out);
            std::fflush(out);
          },
          ::isatty(::fileno(out)) != 0, ::fileno(out), options, std::move(clock)) {}

Progress::Progress(std::int64_t total, std::ostream& out, bool is_terminal, ProgressOptions options,
                   ProgressClock clock)
    : Progress(
          total, [&out](std::string_view text) { out << text << std::flush; }, is_terminal, -1,
          options, std::move(clock)) {}

Progress::Progress(std::int64_t total, std::function<void(std::string_view)> write,
                   bool is_terminal, int terminal_fd, ProgressOptions options, ProgressClock clock)
    : total_(std::max<std::int64_t>(total, 1)), write_(std::move(write)), is_terminal_(is_terminal),
      terminal_fd_(terminal_fd), options_(options), clock_(std::move(clock)),
      start_seconds_(clock_()), last_output_seconds_(-std::numeric_limits<double>::infinity()) {}

Progress::~Progress() {
  try {
    if (line_on_screen_) write_("\n");
  } catch (...) {
    // A destructor must not throw; a lost newline only misplaces the next message.
  }
}

void Progress::update(std::int64_t step, std::vector<ProgressField> fields) {
  const double now = clock_();
  step_ = step;
  if (!fields.empty()) fields_ = std::move(fields);
  state_printed_ = false;
  record_sample(now);
  if (is_terminal_) {
    if (now - last_output_seconds_ >= options_.redraw_seconds || step_ >= total_) draw(now);
  } else if (now - last_output_seconds_ >= options_.plain_seconds) {
    print_plain(now);
  }
}

void Progress::log(std::string_view message) {
  if (!message.empty() && message.back() == '\n') message.remove_suffix(1);
  if (!is_terminal_) {
    write_(fmt::format("{}\n", message));
    return;
  }
  const bool redraw = line_on_screen_;
  write_(fmt::format("{}{}{}\n", carriage_return, message, erase_to_end));
  line_on_screen_ = false;
  if (redraw) draw(clock_());
}

void Progress::finish() {
  const double now = clock_();
  if (is_terminal_) {
    draw(now);
    write_("\n");
    line_on_screen_ = false;
  } else if (!state_printed_) {
    print_plain(now);
  }
}

// Keeps a sample every 1/16 of the window and drops those older than the window, except the one
// just before it, so the rate always spans about one window (or everything since the start).
void Progress::record_sample(double now) {
  if (samples_.empty() || now - samples_.back().seconds >= options_.rate_window_seconds / 16)
    samples_.push_back({now, step_});
  while (samples_.size() >= 2 && samples_[1].seconds <= now - options_.rate_window_seconds)
    samples_.pop_front();
}

double Progress::steps_per_second(double now) const {
  const Sample& oldest = samples_.front();
  if (now <= oldest.seconds || step_ <= oldest.step)
    return std::numeric_limits<double>::quiet_NaN();
  return static_cast<double>(step_ - oldest.step) / (now - oldest.seconds);
}

// "  23%   2300/10000  41.7 it/s  elapsed 0:00:55  ETA 0:03:05  D loss 0.512"
std::string Progress::status(double now) const {
  const double rate = steps_per_second(now);
  const double remaining = step_ >= total_ ? 0.0 : static_cast<double>(total_ - step_) / rate;
  std::string line = fmt::format("{:3}%  {:>{}}/{}  {} it/s  elapsed {}  ETA {}",
                                 std::min<std::int64_t>(100 * step_ / total_, 100), step_,
                                 decimal_digits(total_), total_, format_rate(rate),
                                 format_duration(now - start_seconds_), format_duration(remaining));
  for (const ProgressField& field : fields_)
    line += fmt::format("  {} {}", field.name, field.value);
  return line;
}

std::string Progress::terminal_line(double now) const {
  const std::int64_t filled =
      std::clamp<std::int64_t>(options_.bar_width * step_ / total_, 0, options_.bar_width);
  std::string line = fmt::format(
      "[{}{}] {}", std::string(static_cast<std::size_t>(filled), '#'),
      std::string(static_cast<std::size_t>(options_.bar_width - filled), '-'), status(now));
  // Writing into the last column makes some terminals wrap, and a wrapped line cannot be redrawn.
  const int columns =
      options_.max_columns > 0 ? options_.max_columns : terminal_columns(terminal_fd_);
  if (columns > 1 && line.size() >= static_cast<std::size_t>(columns))
    line.resize(static_cast<std::size_t>(columns - 1));
  return line;
}

void Progress::draw(double now) {
  write_(fmt::format("{}{}{}", carriage_return, terminal_line(now), erase_to_end));
  line_on_screen_ = true;
  last_output_seconds_ = now;
}

void Progress::print_plain(double now) {
  write_(fmt::format("{}\n", status(now)));
  state_printed_ = true;
  last_output_seconds_ = now;
}

} // namespace sgan
