#!/usr/bin/env python3
"""One line per profiled launch, out of Nsight Compute's details page (what bench/run_on_gpu.sh's
profile stage exports as <stamp>-profile.csv), as a markdown table: where each kernel's time goes.

    bench/profile_table.py PROFILE.csv > PROFILE.md

Per launch: the kernel (namespaces, `void` and the parameter list dropped), grid and block, the
registers a thread, the duration, the share of issue slots used, the achieved occupancy, the warp
cycles per issued instruction, and, where the profile stage asked ncu for them (`--metrics`, since
2026-12-05), the share of FFMAs among the instructions executed and the three stall reasons that
cost the most cycles per issued instruction. A profile without those metrics (2026-12-04's) gives
"-" in their columns. Standard library only.
"""
import argparse
import csv
import re
import sys
from collections import OrderedDict

# ncu's own names for the "Metric Name" column of the sections the profile stage collects.
DURATION = "Duration"
ISSUE_BUSY = "Issue Slots Busy"
OCCUPANCY = "Achieved Occupancy"
REGISTERS = "Registers Per Thread"
CYCLES_PER_ISSUE = "Warp Cycles Per Issued Instruction"
# The metrics the profile stage adds with --metrics: warp instructions executed, thread-level
# FFMAs, and the cycles per issued instruction a warp spends in each stall reason.
INSTRUCTIONS = "smsp__inst_executed.sum"
THREAD_FFMAS = "smsp__sass_thread_inst_executed_op_ffma_pred_on.sum"
STALL = re.compile(r"^smsp__average_warps_issue_stalled_(\w+?)_per_issue_active\.ratio$")
# "selected" is the cycle a warp issues (1 per instruction): not a stall.
NOT_A_STALL = {"selected"}
TOP_STALLS = 3

TIME_UNITS = {"ns": 1e-3, "nsecond": 1e-3, "us": 1.0, "usecond": 1.0, "ms": 1e3, "msecond": 1e3,
              "s": 1e6, "second": 1e6}


def number(text):
    """A metric value as ncu prints it ("1,189,582", "43.25"); None where it is not a number."""
    try:
        return float(text.replace(",", ""))
    except (AttributeError, ValueError):
        return None


def short_kernel_name(name):
    """`void conv::conv_gemm_kernel<conv::Tile<64, 64, 16, 4, 4, 1>, conv::ForwardProblem>(T2,
    ...)` -> `conv_gemm_kernel<Tile<64, 64, 16, 4, 4, 1>, ForwardProblem>`."""
    name = re.sub(r"^void ", "", name.strip())
    # An anonymous namespace, which ncu prints as "unnamed>::" (its "<" lost).
    name = re.sub(r"^(<?unnamed>|\(anonymous namespace\))::", "", name)
    depth = 0
    for i, c in enumerate(name):  # cut the parameter list: the first "(" outside <...>
        if c == "<":
            depth += 1
        elif c == ">":
            depth -= 1
        elif c == "(" and depth == 0:
            name = name[:i]
            break
    return re.sub(r"\b\w+::", "", name)


def launches(rows):
    """The launches in the order profiled: ID -> {kernel, grid, block, metrics: {name: (unit,
    value)}}."""
    found = OrderedDict()
    for r in rows:
        launch = found.setdefault(r["ID"], {"kernel": short_kernel_name(r["Kernel Name"]),
                                            "grid": r["Grid Size"], "block": r["Block Size"],
                                            "metrics": {}})
        if r.get("Metric Name"):
            launch["metrics"][r["Metric Name"]] = (r.get("Metric Unit") or "",
                                                   number(r.get("Metric Value")))
    return found


def value(metrics, name):
    """A launch's metric as a number; None where ncu gave none (or not a number)."""
    return metrics.get(name, ("", None))[1]


def duration_us(metrics):
    unit, time = metrics.get(DURATION, ("", None))
    scale = TIME_UNITS.get(unit)
    return None if time is None or scale is None else time * scale


def ffma_share(metrics):
    """FFMAs (thread-level count / 32) as a share of the warp instructions executed."""
    instructions = value(metrics, INSTRUCTIONS)
    ffmas = value(metrics, THREAD_FFMAS)
    if not instructions or ffmas is None:
        return None
    return ffmas / 32.0 / instructions


def top_stalls(metrics, count=TOP_STALLS):
    """[(reason, cycles per issued instruction)], the costliest first."""
    stalls = []
    for name, (_, cycles) in metrics.items():
        match = STALL.match(name)
        if match and match.group(1) not in NOT_A_STALL and cycles is not None:
            stalls.append((match.group(1), cycles))
    stalls.sort(key=lambda s: -s[1])
    return stalls[:count]


def cell(value, fmt):
    return "-" if value is None else format(value, fmt)


def table(found):
    lines = ["| # | kernel | grid | block | regs | us | issue busy % | occupancy % | "
             "cycles / issue | FFMA % of instr. | top stalls (cycles / issue) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for launch_id, launch in found.items():
        m = launch["metrics"]
        share = ffma_share(m)
        stalls = top_stalls(m)
        lines.append("| {} | `{}` | {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
            launch_id, launch["kernel"], launch["grid"], launch["block"],
            cell(value(m, REGISTERS), ".0f"), cell(duration_us(m), ".1f"),
            cell(value(m, ISSUE_BUSY), ".1f"), cell(value(m, OCCUPANCY), ".1f"),
            cell(value(m, CYCLES_PER_ISSUE), ".2f"),
            cell(None if share is None else 100.0 * share, ".1f"),
            ", ".join(f"{reason} {cycles:.2f}" for reason, cycles in stalls) or "-"))
    return lines


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csv", help="ncu --page details --csv output")
    args = parser.parse_args(argv)
    try:
        with open(args.csv, newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        sys.exit(f"profile_table.py: cannot read {args.csv}: {e.strerror}")
    needed = {"ID", "Kernel Name", "Grid Size", "Block Size", "Metric Name", "Metric Value"}
    if rows and not needed <= rows[0].keys():
        sys.exit(f"profile_table.py: {args.csv} is not an ncu details page: it lacks the columns "
                 f"{', '.join(sorted(needed - rows[0].keys()))}")
    found = launches(rows)
    print(f"# Profile: {len(found)} launches ({args.csv})\n")
    print("Issue busy: share of issue slots used; cycles / issue: warp cycles per issued "
          "instruction; FFMA %: thread FFMAs / 32 over warp instructions executed; stalls: the "
          "cycles per issued instruction a warp spent in each state (ncu's "
          "smsp__average_warps_issue_stalled_*).\n")
    print("\n".join(table(found)))


if __name__ == "__main__":
    main(sys.argv[1:])
