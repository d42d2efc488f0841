// The progress line, driven by an injected clock into a string: the numbers it shows for known
// times, in-place redraws throttled on a terminal, plain lines at the interval elsewhere, and
// messages that land on lines of their own. Terminal output is checked through a tiny terminal
// model (carriage return, erase to end of line, newline), i.e. by what a person would see.
#include "engine/report/progress.h"

#include <algorithm>
#include <cmath>
#include <gtest/gtest.h>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

namespace sgan {
namespace {

// The screen lines `output` leaves on a terminal that understands "\r", "\033[K" and "\n".
std::vector<std::string> render_terminal(const std::string& output) {
  std::vector<std::string> screen(1);
  std::size_t column = 0;
  for (std::size_t i = 0; i < output.size(); ++i) {
    std::string& line = screen.back();
    if (output.compare(i, 3, "\033[K") == 0) {
      line.resize(std::min(line.size(), column));
      i += 2;
    } else if (output[i] == '\r') {
      column = 0;
    } else if (output[i] == '\n') {
      screen.emplace_back();
      column = 0;
    } else {
      if (column < line.size())
        line[column] = output[i];
      else
        line.push_back(output[i]);
      ++column;
    }
  }
  return screen;
}

std::size_t count_of(const std::string& text, char c) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), c));
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// A clock the test sets by hand.
struct ManualClock {
  double now = 0;
  ProgressClock function() {
    return [this] { return now; };
  }
};

const std::vector<ProgressField> losses = {{"D loss", "0.6931"}, {"G loss", "1.2034"}};

TEST(ProgressFormatTest, DurationIsHoursMinutesSecondsRoundedToTheSecond) {
  EXPECT_EQ(format_duration(0), "0:00:00");
  EXPECT_EQ(format_duration(59.4), "0:00:59");
  EXPECT_EQ(format_duration(59.6), "0:01:00");
  EXPECT_EQ(format_duration(3723), "1:02:03");
  EXPECT_EQ(format_duration(100 * 3600 + 5), "100:00:05");
  EXPECT_EQ(format_duration(-3), "0:00:00");
  EXPECT_EQ(format_duration(std::numeric_limits<double>::infinity()), "-:--:--");
  EXPECT_EQ(format_duration(std::numeric_limits<double>::quiet_NaN()), "-:--:--");
}

TEST(ProgressFormatTest, RateKeepsAboutThreeSignificantDigits) {
  EXPECT_EQ(format_rate(0.5), "0.50");
  EXPECT_EQ(format_rate(4.172), "4.17");
  EXPECT_EQ(format_rate(41.72), "41.7");
  EXPECT_EQ(format_rate(1234.4), "1234");
  EXPECT_EQ(format_rate(std::numeric_limits<double>::quiet_NaN()), "?");
}

TEST(ProgressTest, TerminalLineShowsBarRateEtaAndFieldsForKnownTimes) {
  ManualClock clock;
  std::ostringstream out;
  Progress progress(1000, out, true, {.bar_width = 10}, clock.function());
  progress.update(1, losses);
  clock.now = 2; // 10 steps in 2 s: 5 it/s, and (1000 - 11) / 5 = 197.8 s left
  progress.update(11);
  EXPECT_EQ(render_terminal(out.str()),
            std::vector<std::string>{"[----------]   1%    11/1000  5.00 it/s  elapsed 0:00:02  "
                                     "ETA 0:03:18  D loss 0.6931  G loss 1.2034"});

  clock.now = 102; // the window now spans t = 2..102: 489 steps in 100 s, 500 / 4.89 = 102 s left
  progress.update(500, {{"D loss", "0.5000"}});
  EXPECT_EQ(render_terminal(out.str()),
            std::vector<std::string>{"[#####-----]  50%   500/1000  4.89 it/s  elapsed 0:01:42  "
                                     "ETA 0:01:42  D loss 0.5000"});
}

TEST(ProgressTest, RateIsMeasuredOverTheRecentWindow) {
  ManualClock clock;
  std::ostringstream out;
  Progress progress(100000, out, false, {.plain_seconds = 1000, .rate_window_seconds = 10},
                    clock.function());
  // 1 it/s for 100 s, then 100 it/s for 20 s: the window sees only the fast part.
  for (int t = 0; t <= 100; ++t) {
    clock.now = t;
    progress.update(t);
  }
  for (int t = 101; t <= 120; ++t) {
    clock.now = t;
    progress.update(100 + 100 * (t - 100));
  }
  progress.finish();
  const std::vector<std::string> lines = split_lines(out.str());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[1].find("  100 it/s  "), std::string::npos) << lines[1];
}

TEST(ProgressTest, UnknownRateShowsNoEta) {
  ManualClock clock;
  std::ostringstream out;
  Progress progress(10, out, false, {}, clock.function());
  progress.update(1);
  EXPECT_EQ(out.str(), " 10%   1/10  ? it/s  elapsed 0:00:00  ETA -:--:--\n");
}

TEST(ProgressTest, TerminalRedrawsInPlaceAtMostTenTimesASecond) {
  ManualClock clock;
  std::ostringstream out;
  Progress progress(100000, out, true, {}, clock.function());
  for (int i = 1; i <= 1000; ++i) { // one update a millisecond for one second
    clock.now = i * 0.001;
    progress.update(i);
  }
  const std::string output = out.str();
  EXPECT_EQ(count_of(output, '\n'), 0u);
  EXPECT_GE(count_of(output, '\r'), 9u);
  EXPECT_LE(count_of(output, '\r'), 11u);
  EXPECT_EQ(render_terminal(output).size(), 1u);

  progress.finish();
  const std::vector<std::string> screen = render_terminal(out.str());
  ASSERT_EQ(screen.size(), 2u);
  EXPECT_NE(screen[0].find("  1000/100000  "), std::string::npos) << screen[0];
  EXPECT_EQ(screen[1], "");
}

TEST(ProgressTest, TerminalDrawsTheLastStepEvenWithinTheThrottle) {
  ManualClock clock;
  std::ostringstream out;
  Progress progress(3, out, true, {.bar_width = 3}, clock.function());
  for (int step = 1; step <= 3; ++step) progress.update(step);
  EXPECT_EQ(render_terminal(out.str())[0].substr(0, 14), "[###] 100%  3/");
}

TEST(ProgressTest, TerminalLineIsCutToTheWidth) {
  ManualClock clock;
  std::ostringstream out;
  Progress progress(10, out, true, {.bar_width = 4, .max_columns = 12}, clock.function());
  progress.update(5, losses);
  EXPECT_EQ(render_terminal(out.str()), std::vector<std::string>{"[##--]  50%"});
}

TEST(ProgressTest, PlainLinesComeAtTheIntervalAndAtFinish) {
  ManualClock clock;
  std::ostringstream out;
  Progress progress(100, out, false, {.plain_seconds = 10}, clock.function());
  for (int t = 0; t <= 35; ++t) { // one step a second
    clock.now = t;
    progress.update(t + 1, losses);
  }
  const std::string during = out.str();
  EXPECT_EQ(count_of(during, '\r'), 0u);
  const std::vector<std::string> lines = split_lines(during);
  ASSERT_EQ(lines.size(), 4u); // t = 0, 10, 20, 30
  EXPECT_EQ(lines[0],
            "  1%    1/100  ? it/s  elapsed 0:00:00  ETA -:--:--  D loss 0.6931  G loss 1.2034");
  EXPECT_EQ(lines[3].substr(0, 15), " 31%   31/100  ");

  progress.finish();
  const std::vector<std::string> after = split_lines(out.str());
  ASSERT_EQ(after.size(), 5u);
  EXPECT_EQ(after[4].substr(0, 15), " 36%   36/100  ");
  EXPECT_EQ(out.str().back(), '\n');
}

TEST(ProgressTest, PlainFinishDoesNotRepeatALineJustPrinted) {
  ManualClock clock;
  std::ostringstream out;
  Progress progress(100, out, false, {}, clock.function());
  progress.update(100);
  progress.finish();
  EXPECT_EQ(split_lines(out.str()).size(), 1u);
}

TEST(ProgressTest, TerminalLogPrintsAboveTheBarAndRedrawsIt) {
  ManualClock clock;
  std::ostringstream out;
  Progress progress(10, out, true, {.bar_width = 4}, clock.function());
  progress.update(5, losses);
  const std::string bar = render_terminal(out.str())[0];
  progress.log("epoch 1: test accuracy 91.20%\n");
  progress.log("checkpoint written");
  EXPECT_EQ(render_terminal(out.str()),
            (std::vector<std::string>{"epoch 1: test accuracy 91.20%", "checkpoint written", bar}));
  progress.finish();
  EXPECT_EQ(render_terminal(out.str()), (std::vector<std::string>{"epoch 1: test accuracy 91.20%",
                                                                  "checkpoint written", bar, ""}));
}

TEST(ProgressTest, PlainLogIsALineOfItsOwn) {
  ManualClock clock;
  std::ostringstream out;
  Progress progress(10, out, false, {}, clock.function());
  progress.update(5);
  progress.log("checkpoint written");
  const std::vector<std::string> lines = split_lines(out.str());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1], "checkpoint written");
}

TEST(ProgressTest, DestructorEndsAnUnfinishedTerminalLine) {
  ManualClock clock;
  std::ostringstream out;
  {
    Progress progress(10, out, true, {}, clock.function());
    progress.update(5);
  }
  EXPECT_EQ(out.str().back(), '\n');
}

} // namespace
} // namespace sgan
