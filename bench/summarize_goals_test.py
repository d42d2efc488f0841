#!/usr/bin/env python3
"""ctest: bench/summarize.py's goals and candidate table on rows whose answers are worked out by
hand here (the smoke test, bench/summarize_test.sh, has no GPU rows to judge), and its reading of
a benchmark report cut off mid-write.

    bench/summarize_goals_test.py
"""
import importlib.util
import math
import sys
import unittest
from pathlib import Path

spec = importlib.util.spec_from_file_location("summarize", Path(__file__).with_name("summarize.py"))
summarize = importlib.util.module_from_spec(spec)
spec.loader.exec_module(summarize)


def row(name, **counters):
    """A Google Benchmark row as sgan_bench_kernels writes it, suffixes included."""
    return dict(name=f"{name}/iterations:51/manual_time", run_type="iteration", **counters)


def step_row(recipe, batch, engine, it_per_s):
    return dict(name=f"step/{recipe}/n{batch}/{engine}/iterations:20/manual_time",
                run_type="iteration", it_per_s=it_per_s)


def line_with(lines, start):
    found = [line for line in lines if line.startswith(start)]
    assert len(found) == 1, (start, lines)
    return found[0]


class GoalsTest(unittest.TestCase):
    def test_convolution_goal_takes_the_default_rows_only(self):
        kernels = [
            row("conv2d/fwd/article.D.conv1/n192", ratio=0.5, ours_us=10.0),
            row("conv_transpose2d/bwd_data/article.G.deconv1/n64", ratio=2.0, ours_us=40.0),
            # A candidate is not what the engine runs: it must not move the goal.
            row("candidate/contiguous_fragments/conv2d/fwd/article.D.conv1/n192", ratio=0.01,
                ours_us=5.0),
            row("dense/fwd/improved.D.fc1/n192", ratio=9.0),  # not a convolution
            # Nor is the opt-in TF32 precision: the goals are FP32's.
            row("tf32/conv2d/fwd/article.D.conv1/n192", ratio=9.0, ours_us=2.0),
        ]
        lines = summarize.goals(kernels, [], [])
        conv = line_with(lines, "* Convolutions")
        # sqrt(0.5 * 2.0) = 1.0 <= 1.0; the worst, 2.0, is over 1.5.
        self.assertIn("geometric mean 1 over 2 cases (goal <= 1.0): met", conv)
        self.assertIn("worst 2, conv_transpose2d/bwd_data/article.G.deconv1/n64", conv)
        self.assertIn("(goal <= 1.5): **not met**", conv)

    def test_bandwidth_goals_split_large_and_sgan_sizes(self):
        kernels = [
            row("adam/update/large", ours_roofline_pct=85.0),
            row("relu/fwd/large/n32768", ours_roofline_pct=70.0, ratio=0.5),
            row("batchnorm2d/bwd/article.G.bn3/n64", ratio=1.25, ours_roofline_pct=5.0),
            row("tanh/fwd/article.G.to_image/n64", ratio=0.8),
            row("dropout/fwd/improved.D.fc1/n192", ratio=7.0),  # not one of the goal's ops
        ]
        lines = summarize.goals(kernels, [], [])
        large = line_with(lines, "* Memory-bound ops at the large sizes")
        self.assertIn("1 of 2 cases **not met**", large)
        self.assertIn("lowest 70, relu/fwd/large/n32768", large)
        small = line_with(lines, "* Memory-bound ops at the SGAN sizes")
        self.assertIn("1 of 2 cases **not met**", small)
        self.assertIn("worst 1.25, batchnorm2d/bwd/article.G.bn3/n64", small)

    def test_iteration_and_epoch_goals(self):
        step = [step_row("article", 64, "sgan-cuda-graph", 935.0),
                step_row("article", 64, "sgan-cuda", 500.0)]
        pytorch = [dict(recipe="article", batch_size=64, engine="pytorch-eager", it_per_s=400.0),
                   dict(recipe="article", batch_size=64, engine="pytorch-compile", it_per_s=600.0),
                   dict(recipe="article", batch_size=64, engine="pytorch-compile-cudagraphs",
                        it_per_s=800.0)]
        lines = summarize.goals([], step, pytorch)
        iteration = line_with(lines, "* Iteration, article at batch 64")
        # 935 / 400 = 2.34 >= 2; against the faster compile, 935 / 800 = 1.17 < 1.3.
        self.assertIn("2.34x PyTorch eager (goal >= 2.0): met", iteration)
        self.assertIn("1.17x the faster torch.compile (goal >= 1.3): **not met**", iteration)
        epoch = line_with(lines, "* An epoch of the article recipe at batch 64")
        # 59900 // 64 = 935 iterations at 935/s: 1 s.
        self.assertIn("(935 iterations at 935/s): 1 s (goal <= 2 s): met", epoch)

    def test_missing_rows_are_named_not_judged(self):
        lines = summarize.goals([], [], [])
        self.assertFalse(any("met" in line for line in lines), lines)


class CandidatesTest(unittest.TestCase):
    def test_candidate_beside_its_default(self):
        kernels = [
            row("conv2d/fwd/article.D.conv1/n192", ours_us=10.0, ratio=1.0),
            row("candidate/contiguous_fragments/conv2d/fwd/article.D.conv1/n192", ours_us=5.0,
                ratio=0.5, ours_roofline_pct=40.0),
            row("conv2d/bwd_data/article.D.conv2/n192", ours_us=30.0, ratio=1.5),
            row("candidate/contiguous_fragments/conv2d/bwd_data/article.D.conv2/n192",
                ours_us=40.0, ratio=2.0),
        ]
        lines = summarize.candidates(kernels)
        self.assertIn("| contiguous_fragments | conv2d/fwd/article.D.conv1/n192 | 10 | 5 | 2 | 0.5 | 40 |",
                      lines)
        self.assertIn("| contiguous_fragments | conv2d/bwd_data/article.D.conv2/n192 | 30 | 40 "
                      "| 0.75 | 2 |  |", lines)
        # sqrt(2 * 0.75) = 1.22
        expected = f"{math.sqrt(2 * 0.75):.3g}"
        self.assertIn(f"contiguous_fragments: geometric mean speed-up {expected} over 2 cases "
                      "(above 1: faster than the default).", lines)


class Tf32Test(unittest.TestCase):
    def test_tf32_beside_cudnn_tf32_and_our_fp32_default(self):
        kernels = [
            row("conv2d/fwd/article.D.conv2/n192", ours_us=30.0, ratio=1.5),
            row("tf32/conv2d/fwd/article.D.conv2/n192", ours_us=10.0, vendor_us=8.0, ratio=1.25),
            row("tf32/conv2d/bwd_data/article.D.conv2/n192", ours_us=12.0, vendor_us=15.0,
                ratio=0.8),
        ]
        lines = summarize.tf32(kernels)
        self.assertIn("| conv2d/fwd/article.D.conv2/n192 | 10 | 8 | 1.25 | 30 | 3 |", lines)
        # No FP32 row for bwd_data: its FP32 cells stay empty.
        self.assertIn("| conv2d/bwd_data/article.D.conv2/n192 | 12 | 15 | 0.8 |  |  |", lines)
        self.assertIn("TF32: geometric mean of ours/cuDNN time 1 over 2 cases; worst 1.25.", lines)
        self.assertEqual(summarize.tf32([kernels[0]])[-2], "(no TF32 cases)")


class TruncatedReportTest(unittest.TestCase):
    REPORT = ('{\n  "context": {"gpu": "H200", "mode": "measurement"},\n  "benchmarks": [\n'
              '    {"name": "a/iterations:51/manual_time", "run_type": "iteration", "ratio": 1.5},\n'
              '    {"name": "b/iterations:51/manual_time", "run_type": "iteration", "ratio": 0.5},\n'
              '    {"name": "c/iterations:51/manual_time", "run_type": "iteration", "ratio": 2.0}\n'
              '  ]\n}\n')

    def test_a_report_cut_mid_entry_keeps_its_complete_entries(self):
        cut = self.REPORT[:self.REPORT.index('"ratio": 2.0')]
        report = summarize.truncated_benchmark_report(cut)
        self.assertEqual(report["context"]["gpu"], "H200")
        self.assertEqual([b["name"].split("/")[0] for b in report["benchmarks"]], ["a", "b"])

    def test_a_whole_report_reads_as_json_does(self):
        report = summarize.truncated_benchmark_report(self.REPORT)
        self.assertEqual(len(report["benchmarks"]), 3)

    def test_a_report_cut_before_any_entry_is_none(self):
        self.assertIsNone(summarize.truncated_benchmark_report(self.REPORT[:40]))
        self.assertIsNone(summarize.truncated_benchmark_report("not a report"))


if __name__ == "__main__":
    sys.exit(unittest.main(argv=sys.argv[:1], exit=False).result.wasSuccessful() is False)
