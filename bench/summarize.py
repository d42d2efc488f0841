#!/usr/bin/env python3
"""Merge one GPU session's benchmark outputs into one JSON file and a markdown report.

    bench/summarize.py MACHINE.txt KERNELS.json STEP.json PYTORCH.json [--json OUT.json] > OUT.md

MACHINE.txt is the "key: value" description bench/run_on_gpu.sh writes; KERNELS.json and STEP.json
are Google Benchmark JSON outputs of sgan_bench_kernels and sgan_bench_step; PYTORCH.json is what
bench/pytorch/sgan_torch.py time --all prints (a JSON list). A missing or empty input is reported
in the markdown and skipped, so a partial session still gives a report. Standard library only.
"""
import argparse
import json
import math
import sys
from pathlib import Path


def read_machine(path):
    facts = {}
    if Path(path).is_file():
        for line in Path(path).read_text().splitlines():
            key, sep, value = line.partition(":")
            if sep:
                facts.setdefault(key.strip(), value.strip())
    return facts


def read_json(path):
    p = Path(path)
    if not p.is_file() or p.stat().st_size == 0:
        return None
    try:
        return json.loads(p.read_text())
    except json.JSONDecodeError as e:
        print(f"warning: {path} is not valid JSON ({e}); skipped", file=sys.stderr)
        return None


def benchmark_rows(report):
    """The benchmark entries of a Google Benchmark report (aggregates left out)."""
    if not report:
        return []
    return [b for b in report.get("benchmarks", []) if b.get("run_type", "iteration") == "iteration"]


# Google Benchmark's own fields; everything else in an entry is one of our counters.
STANDARD_FIELDS = {
    "name", "family_index", "per_family_instance_index", "run_name", "run_type", "repetitions",
    "repetition_index", "threads", "iterations", "real_time", "cpu_time", "time_unit", "label",
    "aggregate_name", "aggregate_unit", "error_occurred", "error_message",
}


def fmt(value):
    if isinstance(value, float):
        if value == 0 or math.isnan(value):
            return f"{value:g}"
        return f"{value:.3g}" if abs(value) < 1e4 else f"{value:.0f}"
    return str(value)


def table(rows, title):
    """A markdown table: name, real time, then every counter the rows carry."""
    lines = [f"## {title}", ""]
    if not rows:
        return lines + ["(no results)", ""]
    counters = []
    for row in rows:
        for key in row:
            if key not in STANDARD_FIELDS and key not in counters:
                counters.append(key)
    lines.append("| " + " | ".join(["case", "time"] + counters) + " |")
    lines.append("|" + "---|" * (2 + len(counters)))
    for row in rows:
        time = f"{fmt(row.get('real_time', float('nan')))} {row.get('time_unit', '')}"
        name = row["name"] + (f" ({row['label']})" if row.get("label") else "")
        cells = [name, time] + [fmt(row[c]) if c in row else "" for c in counters]
        lines.append("| " + " | ".join(cells) + " |")
    return lines + [""]


def geometric_mean(values):
    values = [v for v in values if v > 0]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def iteration_comparison(step_rows, pytorch):
    """Iterations per second of each engine, per recipe and batch size, side by side."""
    per_case = {}
    for row in step_rows:
        _, recipe, batch, engine = row["name"].split("/")[:4]
        per_case.setdefault((recipe, int(batch.lstrip("n"))), {})[engine] = row.get("it_per_s")
    for entry in pytorch or []:
        key = (entry["recipe"], int(entry["batch_size"]))
        per_case.setdefault(key, {})[entry["engine"]] = entry.get("it_per_s")
    engines = sorted({e for case in per_case.values() for e in case})
    lines = ["## Whole iteration, iterations per second", ""]
    if not per_case:
        return lines + ["(no results)", ""]
    lines.append("| recipe | batch | " + " | ".join(engines) + " |")
    lines.append("|---|---|" + "---|" * len(engines))
    for (recipe, batch), case in sorted(per_case.items()):
        cells = [fmt(case[e]) if case.get(e) is not None else "" for e in engines]
        lines.append(f"| {recipe} | {batch} | " + " | ".join(cells) + " |")
    return lines + [""]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("machine")
    parser.add_argument("kernels")
    parser.add_argument("step")
    parser.add_argument("pytorch")
    parser.add_argument("--json", help="also write the merged results here")
    args = parser.parse_args()

    machine = read_machine(args.machine)
    kernels = benchmark_rows(read_json(args.kernels))
    step = benchmark_rows(read_json(args.step))
    pytorch = read_json(args.pytorch)
    if isinstance(pytorch, dict):
        pytorch = [pytorch]

    lines = ["# sgan benchmark results", ""]
    lines += [f"* {key}: {value}" for key, value in machine.items()] + [""]
    ratios = [r["ratio"] for r in kernels if isinstance(r.get("ratio"), (int, float))]
    if ratios:
        lines += [f"Kernels: geometric mean of ours/vendor time {fmt(geometric_mean(ratios))} over "
                  f"{len(ratios)} cases; worst {fmt(max(ratios))}.", ""]
    lines += iteration_comparison(step, pytorch)
    lines += table(step, "sgan_bench_step")
    lines += table(kernels, "sgan_bench_kernels")
    print("\n".join(lines))

    if args.json:
        merged = {"machine": machine, "kernels": kernels, "step": step, "pytorch": pytorch or []}
        Path(args.json).write_text(json.dumps(merged, indent=1) + "\n")


if __name__ == "__main__":
    main()
