#!/usr/bin/env python3
"""What the compiler made of each kernel of a CUDA source, without a GPU: registers, spills and
static shared memory (ptxas -v) and the static counts of shared-memory loads, scalar and 16-byte,
of FMAs and of TF32 tensor-core MMAs (mma.sync m16n8k8) in its PTX. A markdown table, one row per
kernel.

    bench/kernel_resources.py [SOURCE.cu ...] [--arch 90] [--nvcc PATH]

Default source: kernels/cuda/conv2d.cu (every implicit-GEMM tile and variant). The counts are of
instructions in the code (the k loop unrolled), not executed ones: for a changed kernel, a first
check that the change did what it meant (e.g. 16-byte loads in place of scalar ones, no spills)
before it costs device time. nvcc 13.0 is not deterministic here: two compilations of the same
source may differ by a load or a few registers (three runs, three different PTX files), so only a
larger difference says something about a change. Needs nvcc and c++filt; standard library only.
"""
import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def nvcc_command(nvcc, source, *extra):
    return [nvcc, "-std=c++20", "-O3", "-DNDEBUG", "-DSGAN_WITH_CUDA=1", f"-I{ROOT}", *extra,
            str(source)]


def demangle(names):
    out = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True,
                         check=True).stdout.splitlines()
    return dict(zip(names, out))


def short(name):
    """The demangled name without namespaces and parameter list."""
    name = re.sub(r"sgan::cuda::(conv::)?|\(anonymous namespace\)::", "", name)
    # kernels/cuda/conv_implicit_gemm.cuh's enum Fragments, in its order.
    name = re.sub(r"\(Fragments\)0", "strided", name)
    name = re.sub(r"\(Fragments\)1", "contiguous_paired_lanes", name)
    name = re.sub(r"\(Fragments\)2", "tf32_tensor_cores", name)
    depth, end = 0, len(name)
    for i, ch in enumerate(name):  # cut at the first '(' outside template brackets
        depth += ch == "<"
        depth -= ch == ">"
        if ch == "(" and depth == 0:
            end = i
            break
    return name[:end].removeprefix("void ")


def resources(nvcc, arch, source):
    with tempfile.TemporaryDirectory() as tmp:
        ptx_path = Path(tmp) / "kernels.ptx"
        subprocess.run(nvcc_command(nvcc, source, f"-arch=compute_{arch}", "-ptx", "-o",
                                    str(ptx_path)), check=True)
        ptx = ptx_path.read_text()
        verbose = subprocess.run(
            nvcc_command(nvcc, source, f"--generate-code=arch=compute_{arch},code=sm_{arch}",
                         "-Xptxas", "-v", "-c", "-o", str(Path(tmp) / "kernels.o")),
            check=True, capture_output=True, text=True).stderr

    rows = {}
    for body in re.split(r"\n(?=(?:\.visible )?\.entry )", ptx)[1:]:
        name = re.match(r"(?:\.visible )?\.entry (\S+?)\(", body).group(1)
        rows[name] = dict(v4=len(re.findall(r"ld\.shared\.v4\.f32", body)),
                          scalar=len(re.findall(r"ld\.shared\.(?:f32|u32|b32)", body)),
                          fma=len(re.findall(r"fma\.rn\.f32", body)),
                          mma=len(re.findall(r"mma\.sync\.aligned\.m16n8k8", body)))
    for name, info in re.findall(
            r"Compiling entry function '(\S+)' for 'sm_\d+'\n(.*?)(?=ptxas info\s+: Compiling|\Z)",
            verbose, re.S):
        row = rows.setdefault(name, {})
        registers = re.search(r"Used (\d+) registers", info)
        spills = re.search(r"(\d+) bytes spill stores, (\d+) bytes spill loads", info)
        smem = re.search(r"(\d+) bytes smem", info)
        row["registers"] = int(registers.group(1)) if registers else None
        row["spills"] = f"{spills.group(1)}/{spills.group(2)}" if spills else ""
        row["smem"] = int(smem.group(1)) if smem else 0
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", nargs="*", default=[ROOT / "kernels/cuda/conv2d.cu"])
    parser.add_argument("--arch", default="90")
    parser.add_argument("--nvcc", default="/usr/local/cuda/bin/nvcc")
    args = parser.parse_args()
    print("| kernel | registers | spill stores/loads (bytes) | static smem (bytes) "
          "| ld.shared.v4 | ld.shared (scalar) | fma | mma.sync |")
    print("|---|---|---|---|---|---|---|---|")
    for source in args.sources:
        rows = resources(args.nvcc, args.arch, source)
        names = demangle(list(rows))
        for mangled, row in sorted(rows.items(), key=lambda item: short(names[item[0]])):
            print(f"| `{short(names[mangled])}` | {row.get('registers', '')} | "
                  f"{row.get('spills', '')} | {row.get('smem', '')} | {row.get('v4', '')} | "
                  f"{row.get('scalar', '')} | {row.get('fma', '')} | {row.get('mma', '')} |")


if __name__ == "__main__":
    sys.exit(main())
