#!/usr/bin/env python3
"""Merge one GPU session's benchmark outputs into one JSON file and a markdown report.

    bench/summarize.py MACHINE.txt KERNELS.json STEP.json PYTORCH.json [--json OUT.json] > OUT.md

MACHINE.txt is the "key: value" description bench/run_on_gpu.sh writes; KERNELS.json and STEP.json
are Google Benchmark JSON outputs of sgan_bench_kernels and sgan_bench_step; PYTORCH.json is what
bench/pytorch/sgan_torch.py time --all prints (a JSON list). A missing or empty input is reported
in the markdown and skipped, so a partial session still gives a report. Standard library only.

The report opens with the benchmark issue's goals, each computed from the rows and marked met or
not, then the candidate kernel variants against the defaults they would replace
(kernels/cuda/conv_variants.h), then every row.
"""
import argparse
import json
import math
import re
import sys
from pathlib import Path

# The convolutions the ratio goal covers, every direction: ours / cuDNN geometric mean <= 1.0, no
# case over 1.5.
CONV_OPS = ("conv2d", "conv_transpose2d")
CONV_GEOMEAN_GOAL, CONV_WORST_GOAL = 1.0, 1.5
# The memory-bound ops of the bandwidth goal: >= 80% of the copy bandwidth on the "large" shapes,
# and no slower than the vendor's twin (where there is one) at the SGAN sizes.
BANDWIDTH_OPS = ("batchnorm2d", "batchnorm1d", "relu", "leaky_relu", "tanh", "sigmoid", "softplus",
                 "sgan_loss", "adam", "ema")
BANDWIDTH_GOAL_PCT = 80.0
# The whole iteration with CUDA graphs against PyTorch, per recipe and batch size.
OURS_ITERATION = "sgan-cuda-graph"
EAGER_GOAL, COMPILE_GOAL = 2.0, 1.3
COMPILE_ENGINES = ("pytorch-compile", "pytorch-compile-cudagraphs")
# An epoch of the article recipe at batch 64: one iteration per batch of the 59,900 unlabeled
# images of a 100-label split (engine/sgan/epoch_order.cpp), in at most 2 seconds.
EPOCH_RECIPE, EPOCH_BATCH, EPOCH_ITERATIONS, EPOCH_GOAL_S = "article", 64, 59900 // 64, 2.0
CANDIDATE_PREFIX = "candidate"
# The opt-in TF32 convolutions (--tf32), timed against cuDNN with TF32 allowed: the goals are
# FP32's.
TF32_PREFIX = "tf32"


def read_machine(path):
    facts = {}
    if Path(path).is_file():
        for line in Path(path).read_text().splitlines():
            key, sep, value = line.partition(":")
            if sep:
                facts.setdefault(key.strip(), value.strip())
    return facts


def truncated_benchmark_report(text):
    """The context and the complete entries of a Google Benchmark JSON report cut off mid-write
    (a benchmark stopped by run_on_gpu.sh's deadline leaves one), or None where there are none."""
    decoder = json.JSONDecoder()
    start = text.find('"benchmarks"')
    if start < 0:
        return None
    at = text.find("[", start)
    if at < 0:
        return None
    context = {}
    context_at = text.find('"context"')
    if 0 <= context_at < start:
        try:
            context, _ = decoder.raw_decode(text, text.find("{", context_at))
        except json.JSONDecodeError:
            pass
    entries = []
    at += 1
    while True:
        while at < len(text) and text[at] in " \t\r\n,":
            at += 1
        try:
            entry, at = decoder.raw_decode(text, at)
        except json.JSONDecodeError:
            break
        entries.append(entry)
    return {"context": context, "benchmarks": entries} if entries else None


def read_json(path):
    p = Path(path)
    if not p.is_file() or p.stat().st_size == 0:
        return None
    text = p.read_text()
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        report = truncated_benchmark_report(text)
        if report:
            print(f"warning: {path} is cut short ({e}); kept its {len(report['benchmarks'])} "
                  "complete entries", file=sys.stderr)
            return report
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


def case_parts(name):
    """A case name's components, Google Benchmark's suffixes (iterations:51, manual_time) dropped."""
    return [p for p in name.split("/")
            if not re.fullmatch(r"(iterations|repeats|threads|min_time):.*|manual_time|real_time", p)]


def is_candidate(row):
    return case_parts(row["name"])[0] == CANDIDATE_PREFIX


def is_fp32_default(row):
    """A row of what the engine runs by default: neither a candidate nor the TF32 precision."""
    return case_parts(row["name"])[0] not in (CANDIDATE_PREFIX, TF32_PREFIX)


def verdict(met):
    return "met" if met else "**not met**"


def goals(kernels, step_rows, pytorch):
    """The issue's goals, each computed from the rows there are; a goal without rows says so."""
    lines = ["## Goals", ""]
    named = [(r, case_parts(r["name"])) for r in kernels]
    defaults = [(r, parts) for r, parts in named if is_fp32_default(r)]

    conv = [(r["ratio"], parts) for r, parts in defaults
            if parts[0] in CONV_OPS and isinstance(r.get("ratio"), (int, float))]
    if conv:
        mean = geometric_mean([ratio for ratio, _ in conv])
        worst_ratio, worst = max(conv)
        lines.append(f"* Convolutions, ours/cuDNN time: geometric mean {fmt(mean)} over {len(conv)} "
                     f"cases (goal <= {CONV_GEOMEAN_GOAL}): {verdict(mean <= CONV_GEOMEAN_GOAL)}; "
                     f"worst {fmt(worst_ratio)}, {'/'.join(worst)} (goal <= {CONV_WORST_GOAL}): "
                     f"{verdict(worst_ratio <= CONV_WORST_GOAL)}.")
    else:
        lines.append("* Convolutions, ours/cuDNN time: no rows.")

    bandwidth = [(r, parts) for r, parts in defaults if parts[0] in BANDWIDTH_OPS]
    large = [(r.get("ours_roofline_pct"), parts) for r, parts in bandwidth
             if parts[2].startswith("large") and isinstance(r.get("ours_roofline_pct"), (int, float))]
    if large:
        short = [(pct, parts) for pct, parts in large if pct < BANDWIDTH_GOAL_PCT]
        lowest_pct, lowest = min(large)
        lines.append(f"* Memory-bound ops at the large sizes, % of copy bandwidth (goal >= "
                     f"{fmt(BANDWIDTH_GOAL_PCT)}): {len(large) - len(short)} of {len(large)} "
                     f"cases {verdict(not short)}; lowest {fmt(lowest_pct)}, {'/'.join(lowest)}.")
    else:
        lines.append("* Memory-bound ops at the large sizes: no rows.")
    small = [(r["ratio"], parts) for r, parts in bandwidth
             if not parts[2].startswith("large") and isinstance(r.get("ratio"), (int, float))]
    if small:
        slower = [(ratio, parts) for ratio, parts in small if ratio > 1.0]
        worst_ratio, worst = max(small)
        lines.append(f"* Memory-bound ops at the SGAN sizes, ours/vendor time (goal <= 1): "
                     f"{len(small) - len(slower)} of {len(small)} cases {verdict(not slower)}; "
                     f"worst {fmt(worst_ratio)}, {'/'.join(worst)}.")
    else:
        lines.append("* Memory-bound ops at the SGAN sizes against the vendor: no rows.")

    rates = iteration_rates(step_rows, pytorch)
    compared = False
    for (recipe, batch), case in sorted(rates.items()):
        ours = case.get(OURS_ITERATION)
        if not ours:
            continue
        eager = case.get("pytorch-eager")
        compiled = [case[e] for e in COMPILE_ENGINES if case.get(e)]
        parts = []
        if eager:
            parts.append(f"{fmt(ours / eager)}x PyTorch eager (goal >= {EAGER_GOAL}): "
                         f"{verdict(ours / eager >= EAGER_GOAL)}")
        if compiled:
            best = max(compiled)
            parts.append(f"{fmt(ours / best)}x the faster torch.compile (goal >= {COMPILE_GOAL}): "
                         f"{verdict(ours / best >= COMPILE_GOAL)}")
        if parts:
            compared = True
            lines.append(f"* Iteration, {recipe} at batch {batch}, {OURS_ITERATION}: "
                         + "; ".join(parts) + ".")
    if not compared:
        lines.append(f"* Iteration against PyTorch: no {OURS_ITERATION} rows with a PyTorch twin.")
    epoch_rate = rates.get((EPOCH_RECIPE, EPOCH_BATCH), {}).get(OURS_ITERATION)
    if epoch_rate:
        seconds = EPOCH_ITERATIONS / epoch_rate
        lines.append(f"* An epoch of the {EPOCH_RECIPE} recipe at batch {EPOCH_BATCH} "
                     f"({EPOCH_ITERATIONS} iterations at {fmt(epoch_rate)}/s): {fmt(seconds)} s "
                     f"(goal <= {fmt(EPOCH_GOAL_S)} s): {verdict(seconds <= EPOCH_GOAL_S)}.")
    else:
        lines.append(f"* An epoch of the {EPOCH_RECIPE} recipe at batch {EPOCH_BATCH}: no "
                     f"{OURS_ITERATION} row.")
    return lines + [""]


def candidates(kernels):
    """Each candidate variant's row beside the default row of the same case."""
    lines = ["## Candidate kernel variants against the defaults", ""]
    by_case = {"/".join(case_parts(r["name"])): r for r in kernels if not is_candidate(r)}
    rows = []
    for r in kernels:
        parts = case_parts(r["name"])
        if parts[0] != CANDIDATE_PREFIX:
            continue
        default = by_case.get("/".join(parts[2:]))
        rows.append((parts[1], "/".join(parts[2:]), default, r))
    if not rows:
        return lines + ["(no candidates)", ""]
    lines.append("| variant | case | default us | candidate us | default / candidate "
                 "| candidate / vendor | candidate % roofline |")
    lines.append("|---|---|---|---|---|---|---|")
    speedups = {}
    for variant, case, default, r in rows:
        ours, base = r.get("ours_us"), (default or {}).get("ours_us")
        speedup = base / ours if ours and base else None
        if speedup:
            speedups.setdefault(variant, []).append(speedup)
        cells = [variant, case, fmt(base) if base else "", fmt(ours) if ours else "",
                 fmt(speedup) if speedup else "", fmt(r["ratio"]) if "ratio" in r else "",
                 fmt(r["ours_roofline_pct"]) if "ours_roofline_pct" in r else ""]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    for variant, values in speedups.items():
        lines.append(f"{variant}: geometric mean speed-up {fmt(geometric_mean(values))} over "
                     f"{len(values)} cases (above 1: faster than the default).")
    return lines + [""]


def tf32(kernels):
    """The TF32 convolutions against cuDNN's TF32, and against our FP32 default on the same case."""
    lines = ["## TF32 tensor cores (opt-in --tf32) against cuDNN with TF32 allowed", ""]
    by_case = {"/".join(case_parts(r["name"])): r for r in kernels if is_fp32_default(r)}
    rows = [(r, "/".join(case_parts(r["name"])[1:])) for r in kernels
            if case_parts(r["name"])[0] == TF32_PREFIX]
    if not rows:
        return lines + ["(no TF32 cases)", ""]
    lines.append("| case | TF32 us | cuDNN TF32 us | ours / cuDNN | FP32 default us "
                 "| speed-up over FP32 |")
    lines.append("|---|---|---|---|---|---|")
    ratios = []
    for r, case in rows:
        ours, fp32 = r.get("ours_us"), by_case.get(case, {}).get("ours_us")
        ratio = r.get("ratio")
        if isinstance(ratio, (int, float)):
            ratios.append(ratio)
        cells = [case, fmt(ours) if ours else "", fmt(r["vendor_us"]) if "vendor_us" in r else "",
                 fmt(ratio) if isinstance(ratio, (int, float)) else "", fmt(fp32) if fp32 else "",
                 fmt(fp32 / ours) if ours and fp32 else ""]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    if ratios:
        lines.append(f"TF32: geometric mean of ours/cuDNN time {fmt(geometric_mean(ratios))} over "
                     f"{len(ratios)} cases; worst {fmt(max(ratios))}.")
    return lines + [""]


def geometric_mean(values):
    values = [v for v in values if v > 0]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def iteration_rates(step_rows, pytorch):
    """{(recipe, batch): {engine: iterations per second or None}} from both sources."""
    per_case = {}
    for row in step_rows:
        _, recipe, batch, engine = row["name"].split("/")[:4]
        per_case.setdefault((recipe, int(batch.lstrip("n"))), {})[engine] = row.get("it_per_s")
    for entry in pytorch or []:
        key = (entry["recipe"], int(entry["batch_size"]))
        per_case.setdefault(key, {})[entry["engine"]] = entry.get("it_per_s")
    return per_case


def iteration_comparison(step_rows, pytorch):
    """Iterations per second of each engine, per recipe and batch size, side by side."""
    per_case = iteration_rates(step_rows, pytorch)
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
    ratios = [r["ratio"] for r in kernels
              if is_fp32_default(r) and isinstance(r.get("ratio"), (int, float))]
    if ratios:
        lines += [f"Kernels: geometric mean of ours/vendor time {fmt(geometric_mean(ratios))} over "
                  f"{len(ratios)} cases; worst {fmt(max(ratios))}.", ""]
    lines += goals(kernels, step, pytorch)
    lines += candidates(kernels)
    lines += tf32(kernels)
    lines += iteration_comparison(step, pytorch)
    lines += table(step, "sgan_bench_step")
    lines += table(kernels, "sgan_bench_kernels")
    print("\n".join(lines))

    if args.json:
        merged = {"machine": machine, "kernels": kernels, "step": step, "pytorch": pytorch or []}
        Path(args.json).write_text(json.dumps(merged, indent=1) + "\n")


if __name__ == "__main__":
    main()
