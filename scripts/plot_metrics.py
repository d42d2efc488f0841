#!/usr/bin/env python3
"""Draws the curves of an sgan run from the metrics.jsonl that sgan_train writes.

    python3 scripts/plot_metrics.py RUN_DIR/metrics.jsonl [-o out.png] [--error]
    python3 scripts/plot_metrics.py RUN_DIR/metrics.jsonl --check

Each line of the file is one evaluation, a JSON object with "epoch", "step", "test_accuracy"
(a fraction, or null) and any number of "*_loss" values (numbers, or null where not finite).
The left panel draws every *_loss against step, the right one the test accuracy in percent
against epoch (with --error, the test error in percent on a log scale). A resumed run may log
an evaluation again: the later record of a step replaces the earlier one.

--check only validates the file and prints a summary; it needs no matplotlib.
"""

import argparse
import json
import math
import sys
from pathlib import Path

REQUIRED_KEYS = ("epoch", "step", "test_accuracy")


class MetricsError(Exception):
    pass


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def check_record(record, where):
    if not isinstance(record, dict):
        raise MetricsError(f"{where}: expected a JSON object, found {type(record).__name__}")
    for key in REQUIRED_KEYS:
        if key not in record:
            raise MetricsError(f'{where}: the record has no "{key}"')
    for key in ("epoch", "step"):
        if not is_count(record[key]):
            raise MetricsError(f'{where}: "{key}" must be a whole number >= 0, found {record[key]!r}')
    accuracy = record["test_accuracy"]
    if accuracy is not None and not (is_number(accuracy) and 0 <= accuracy <= 1):
        raise MetricsError(f'{where}: "test_accuracy" must be a fraction in [0, 1] or null, '
                           f"found {accuracy!r}")
    for key, value in record.items():
        if key.endswith("_loss") and value is not None and not is_number(value):
            raise MetricsError(f'{where}: "{key}" must be a number or null, found {value!r}')


def read_metrics(path):
    """The file's records, one per step (the last logged), in step order."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise MetricsError(f"cannot read {path}: {error.strerror}") from error
    by_step = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path} line {number}"
        try:
            record = json.loads(line, parse_constant=reject_constant)
        except ValueError as error:
            raise MetricsError(f"{where}: not JSON ({error})") from error
        check_record(record, where)
        by_step[record["step"]] = record
    if not by_step:
        raise MetricsError(f"{path} holds no records (is the run too young for its first evaluation?)")
    return [by_step[step] for step in sorted(by_step)]


def loss_keys(records):
    keys = []
    for record in records:
        keys += [key for key in record if key.endswith("_loss") and key not in keys]
    return keys


def as_float(value):
    return math.nan if value is None else float(value)


def summary(path, records):
    epochs = [record["epoch"] for record in records]
    steps = [record["step"] for record in records]
    lines = [f"{path}: {len(records)} evaluations, epochs {min(epochs)}-{max(epochs)}, "
             f"steps {min(steps)}-{max(steps)}",
             f"losses: {', '.join(loss_keys(records)) or 'none'}"]
    scored = [record for record in records if record["test_accuracy"] is not None]
    if scored:
        last = scored[-1]
        best = max(scored, key=lambda record: record["test_accuracy"])
        lines.append(f"test accuracy: last {100 * last['test_accuracy']:.2f}% (epoch {last['epoch']}), "
                     f"best {100 * best['test_accuracy']:.2f}% (epoch {best['epoch']})")
    else:
        lines.append("test accuracy: none recorded")
    return "\n".join(lines)


def import_pyplot():
    try:
        import matplotlib
    except ImportError as error:
        raise MetricsError("drawing needs matplotlib, which is not installed "
                           "(pip install matplotlib); --check works without it") from error
    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot
    return pyplot


def plot(path, records, out, show_error):
    pyplot = import_pyplot()
    figure, (loss_axes, accuracy_axes) = pyplot.subplots(1, 2, figsize=(12, 4.5))
    steps = [record["step"] for record in records]
    for key in loss_keys(records):
        loss_axes.plot(steps, [as_float(record.get(key)) for record in records], label=key)
    loss_axes.set_xlabel("step")
    loss_axes.set_ylabel("loss")
    loss_axes.set_title("losses")
    loss_axes.legend()
    loss_axes.grid(alpha=0.3)

    epochs = [record["epoch"] for record in records]
    accuracy = [as_float(record["test_accuracy"]) for record in records]
    if show_error:
        accuracy_axes.plot(epochs, [100 * (1 - value) for value in accuracy], marker=".")
        accuracy_axes.set_yscale("log")
        accuracy_axes.set_ylabel("test error (%)")
        accuracy_axes.set_title("test error")
    else:
        accuracy_axes.plot(epochs, [100 * value for value in accuracy], marker=".")
        accuracy_axes.set_ylabel("test accuracy (%)")
        accuracy_axes.set_title("test accuracy")
    accuracy_axes.set_xlabel("epoch")
    accuracy_axes.grid(alpha=0.3, which="both")

    figure.suptitle(str(path.parent) if path.parent != Path(".") else path.name)
    figure.tight_layout()
    try:
        figure.savefig(out, dpi=120)
    except OSError as error:
        raise MetricsError(f"cannot write {out}: {error.strerror}") from error
    pyplot.close(figure)


def main():
    parser = argparse.ArgumentParser(description="Draw loss and accuracy curves from an sgan metrics.jsonl.")
    parser.add_argument("metrics", type=Path, help="the run's metrics.jsonl")
    parser.add_argument("-o", "--out", type=Path,
                        help="the PNG to write (default: metrics.png beside the input)")
    parser.add_argument("--error", action="store_true",
                        help="draw the test error in percent on a log scale instead of the accuracy")
    parser.add_argument("--check", action="store_true",
                        help="only validate the file and print a summary (needs no matplotlib)")
    args = parser.parse_args()
    try:
        records = read_metrics(args.metrics)
        if args.check:
            print(summary(args.metrics, records))
            return 0
        out = args.out or args.metrics.with_suffix(".png")
        plot(args.metrics, records, out, args.error)
        print(f"wrote {out}")
        return 0
    except MetricsError as error:
        print(f"plot_metrics.py: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
