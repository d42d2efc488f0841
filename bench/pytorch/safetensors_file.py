"""Reads a safetensors file (the format of our checkpoints, engine/io/safetensors.h) into numpy
arrays with the standard library and numpy alone: the twin runs where the `safetensors` package
is not installed (Debian has none)."""
import json
from pathlib import Path

import numpy as np

DTYPES = {"F32": "<f4", "F64": "<f8", "I32": "<i4", "I64": "<i8", "U8": "u1", "U32": "<u4",
          "U64": "<u8"}


def read(path):
    """Returns ({name: array}, metadata); raises ValueError naming the file and the problem."""
    data = Path(path).read_bytes()
    if len(data) < 8:
        raise ValueError(f"{path}: {len(data)} bytes, too short for a safetensors header")
    size = int.from_bytes(data[:8], "little")
    if 8 + size > len(data):
        raise ValueError(f"{path}: header of {size} bytes runs past the end of the file")
    header = json.loads(data[8:8 + size])
    metadata = header.pop("__metadata__", {})
    body = memoryview(data)[8 + size:]
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        if entry["dtype"] not in DTYPES or not 0 <= begin <= end <= len(body):
            raise ValueError(f"{path}: tensor '{name}' has dtype {entry['dtype']} or offsets "
                             f"[{begin}, {end}] this reader cannot take")
        array = np.frombuffer(body[begin:end], dtype=DTYPES[entry["dtype"]])
        tensors[name] = array.reshape(entry["shape"])
    return tensors, metadata
