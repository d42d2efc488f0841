#!/usr/bin/env python3
"""ctest: bench/profile_table.py on an ncu details page written here, whose answers are worked out
by hand (units, thousands separators, the FFMA share, the stall ranking, ncu's mangled anonymous
namespace), and on the H200 profile of 2026-12-04, which predates the stall metrics.

    bench/profile_table_test.py
"""
import csv
import importlib.util
import io
import tempfile
import unittest
from contextlib import redirect_stdout
from pathlib import Path

HERE = Path(__file__).resolve().parent
spec = importlib.util.spec_from_file_location("profile_table", HERE / "profile_table.py")
profile_table = importlib.util.module_from_spec(spec)
spec.loader.exec_module(profile_table)

COLUMNS = ["ID", "Kernel Name", "Grid Size", "Block Size", "Section Name", "Metric Name",
           "Metric Unit", "Metric Value"]
GEMM = ("void conv::conv_gemm_kernel<conv::Tile<64, 64, 16, 4, 4, 1>, conv::ForwardProblem>"
        "(T2, const float *, Activation, float *)")
SUM = "unnamed>::sum_partials_kernel(long, int, const float *, float *)"
STALL = "smsp__average_warps_issue_stalled_{}_per_issue_active.ratio"


def details_page(path, launches):
    """launches: [(id, kernel, grid, [(metric, unit, value)])] as ncu --page details --csv."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f, quoting=csv.QUOTE_ALL)
        w.writerow(COLUMNS)
        for launch_id, kernel, grid, metrics in launches:
            for name, unit, value in metrics:
                w.writerow([launch_id, kernel, grid, "(256, 1, 1)", "section", name, unit, value])


def table_rows(path):
    out = io.StringIO()
    with redirect_stdout(out):
        profile_table.main([str(path)])
    return [line for line in out.getvalue().splitlines()
            if line.startswith("| ") and not line.startswith("| #")]


class ProfileTableTest(unittest.TestCase):
    def test_hand_worked_launches(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "profile.csv"
            details_page(path, [
                ("7", GEMM, "(147, 2, 1)", [
                    ("Duration", "ms", "1.25"),
                    ("Registers Per Thread", "register/thread", "57"),
                    ("Issue Slots Busy", "%", "49.42"),
                    ("Achieved Occupancy", "%", "27.19"),
                    ("Warp Cycles Per Issued Instruction", "cycle", "7.00"),
                    # 3,200,000 thread FFMAs = 100,000 warp FFMAs of 400,000 instructions: 25%.
                    ("smsp__inst_executed.sum", "inst", "400,000"),
                    ("smsp__sass_thread_inst_executed_op_ffma_pred_on.sum", "inst", "3,200,000"),
                    (STALL.format("selected"), "", "1.00"),  # issuing: never a stall
                    (STALL.format("barrier"), "", "1.50"),
                    (STALL.format("long_scoreboard"), "", "2.25"),
                    (STALL.format("mio_throttle"), "", "0.40"),
                    (STALL.format("short_scoreboard"), "", "0.75"),
                ]),
                ("8", SUM, "(3, 1, 1)", [("Duration", "us", "17.47")]),
            ])
            rows = table_rows(path)
        self.assertEqual(rows, [
            "| 7 | `conv_gemm_kernel<Tile<64, 64, 16, 4, 4, 1>, ForwardProblem>` | (147, 2, 1) | "
            "(256, 1, 1) | 57 | 1250.0 | 49.4 | 27.2 | 7.00 | 25.0 | "
            "long_scoreboard 2.25, barrier 1.50, short_scoreboard 0.75 |",
            "| 8 | `sum_partials_kernel` | (3, 1, 1) | (256, 1, 1) | - | 17.5 | - | - | - | - | - |",
        ])

    def test_the_first_h200_profile(self):
        csv_path = (HERE / "results/2026-12-04-6f1563c-NVIDIA-H200/"
                    "2026-12-04-6f1563c-NVIDIA-H200-profile.csv")
        rows = table_rows(csv_path)
        self.assertEqual(len(rows), 100)
        # Launch 64: G.to_image's forward on the 256 x 4 tile (README of that session: 601 us,
        # 18.8% achieved occupancy, 48 registers); no stall metrics were collected then.
        self.assertEqual(
            rows[64],
            "| 64 | `conv_gemm_kernel<Tile<256, 4, 16, 4, 1, 0>, ForwardProblem>` | (196, 1, 1) | "
            "(256, 1, 1) | 48 | 600.9 | 43.2 | 18.8 | 6.19 | - | - |")

    def test_not_a_details_page(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "other.csv"
            path.write_text('"a","b"\n"1","2"\n')
            with self.assertRaises(SystemExit) as e:
                profile_table.main([str(path)])
            self.assertIn("is not an ncu details page", str(e.exception.code))


if __name__ == "__main__":
    unittest.main()
