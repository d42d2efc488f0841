#pragma once
// A whole training run as the sgan_train app performs it: choose the device, load and split the
// data, write the run's audit files, train with progress, evaluate, sample, checkpoint, and report.
#include <atomic>
#include <cstdio>

#include "engine/sgan/config.h"

namespace sgan {

// Exit codes of a run.
constexpr int exit_ok = 0, exit_failed = 1, exit_usage = 2, exit_interrupted = 130;

// Runs `config` to the end, or until *stop becomes true (Ctrl-C: a checkpoint is saved first).
// Messages go to `log`; returns one of the exit codes above. Errors in the configuration, the
// data or the output directory are reported as one sentence, never as a crash.
int run_training(TrainConfig config, const std::atomic<bool>* stop, std::FILE* log = stderr);

}  // namespace sgan
