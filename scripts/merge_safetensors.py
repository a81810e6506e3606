#!/usr/bin/env python3
"""Merge .safetensors files into one (standard library only): `OUT IN[:PREFIX] ...`.

Every tensor of each input is copied under PREFIX + its name (no prefix: unchanged); tensors named rig.* keep their
name and are taken from the first input that has them (the rig the weights were trained on). The output has no
xraylift.method record, so it initializes any method whose tensors it holds (detect3d/methods/weights.cpp).
Used by scripts/train_mv2d_fusion.sh: the demo weights (2D detector + MV2D head) and the fusion weights under
"fusion." make the starting point of mv2d_fusion (docs/detect3d.md "Proposal sources"). Written atomically.
"""
import json
import os
import struct
import sys


def read(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    header.pop("__metadata__", None)
    return {k: (v["dtype"], v["shape"], data[v["data_offsets"][0]:v["data_offsets"][1]]) for k, v in header.items()}


def main(argv):
    if len(argv) < 3:
        sys.exit("usage: merge_safetensors.py OUT IN[:PREFIX] ...")
    out, merged = argv[1], {}
    for spec in argv[2:]:
        path, _, prefix = spec.partition(":")
        if not os.path.isfile(path):
            print(f"merge_safetensors: input '{path}' does not exist", file=sys.stderr)
            sys.exit(3)
        for name, tensor in read(path).items():
            key = name if name.startswith("rig.") else prefix + name
            if key.startswith("rig.") and key in merged:
                continue
            if key in merged:
                print(f"merge_safetensors: tensor '{key}' is in two inputs ({spec})", file=sys.stderr)
                sys.exit(3)
            merged[key] = tensor
    header, blobs, offset = {}, [], 0
    for key in sorted(merged):
        dtype, shape, blob = merged[key]
        header[key] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    os.replace(tmp, out)
    print(f"merge_safetensors: {len(merged)} tensors -> {out} ({offset + 8 + len(text)} bytes)")


if __name__ == "__main__":
    main(sys.argv)
