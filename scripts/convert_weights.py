#!/usr/bin/env python3
"""Convert torch weights to safetensors by name: `convert_weights.py IN OUT.safetensors [--strip PREFIX]`.

xraylift reads weights as safetensors or as Python torch.save state dicts, and refuses TorchScript / libtorch
archives (torch.jit.save, C++ torch::save of a module such as the model.pt of an older `xraylift train`): libtorch
compiles the code such an archive carries when it loads it (docs/RELIABILITY.md). This script, run in a python with
torch (the project's venv: ~/.cache/xraylift/torch-*/bin/python), loads IN with torch.jit.load (a TorchScript
archive: its state_dict(), parameters and buffers) or else torch.load(weights_only=True) (a state dict, or a
checkpoint dict holding one under state_dict / model / model_state_dict), and writes every tensor under the same
name (PREFIX removed first, e.g. "module.") into OUT, atomically, with "converted_from" in the header's metadata.
Only run it on files you trust: torch.jit.load runs the archive's code. Exit 3 for an unreadable input, 2 for usage.
"""
import argparse
import json
import os
import struct
import sys

DTYPES = {"float32": "F32", "float64": "F64", "float16": "F16", "bfloat16": "BF16", "int64": "I64", "int32": "I32",
          "uint8": "U8", "int8": "I8", "bool": "BOOL"}


def load_tensors(torch, path):
    errors = []
    try:
        module = torch.jit.load(path, map_location="cpu")
        return dict(module.state_dict()), "TorchScript archive"
    except Exception as e:  # not TorchScript: try a state dict
        errors.append(f"torch.jit.load: {str(e).splitlines()[0] if str(e) else type(e).__name__}")
    try:
        value = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        errors.append(f"torch.load: {str(e).splitlines()[0] if str(e) else type(e).__name__}")
        raise ValueError("; ".join(errors))
    for key in ("state_dict", "model", "model_state_dict"):
        if isinstance(value, dict) and isinstance(value.get(key), dict):
            value = value[key]
            break
    if not isinstance(value, dict):
        raise ValueError(f"torch.load gave a {type(value).__name__}, not a dict of tensors")
    return value, "torch.save state dict"


def tensor_bytes(torch, t):
    t = t.detach().cpu().contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def write_safetensors(torch, path, tensors, metadata):
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name in sorted(tensors):
        t = tensors[name]
        dtype = DTYPES.get(str(t.dtype).replace("torch.", ""))
        if dtype is None:
            raise ValueError(f"tensor '{name}' has dtype {t.dtype}, which safetensors files here do not hold")
        blob = tensor_bytes(torch, t)
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)  # tensor data 8-byte aligned
    tmp = os.path.join(os.path.dirname(os.path.abspath(path)), f".{os.path.basename(path)}.tmp.{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(struct.pack("<Q", len(text)))
            f.write(text)
            for blob in blobs:
                f.write(blob)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--strip", default="", help="prefix removed from every name (e.g. module.)")
    args = parser.parse_args(argv[1:])
    if not args.output.endswith(".safetensors"):
        parser.error(f"output '{args.output}' must end in .safetensors")
    try:
        import torch
    except ImportError:
        print("convert_weights: needs a python with torch (~/.cache/xraylift/torch-*/bin/python)", file=sys.stderr)
        return 2
    if not os.path.isfile(args.input):
        print(f"convert_weights: input '{args.input}' does not exist", file=sys.stderr)
        return 3
    try:
        state, kind = load_tensors(torch, args.input)
        tensors = {}
        for name, value in state.items():
            if not isinstance(name, str) or not isinstance(value, torch.Tensor):
                continue
            key = name[len(args.strip):] if args.strip and name.startswith(args.strip) else name
            if key in tensors:
                raise ValueError(f"two tensors are named '{key}' after removing '{args.strip}'")
            tensors[key] = value
        if not tensors:
            raise ValueError("no tensors found")
        write_safetensors(torch, args.output, tensors, {"converted_from": os.path.basename(args.input)})
    except (ValueError, OSError, RuntimeError) as e:
        print(f"convert_weights: {args.input}: {e}", file=sys.stderr)
        return 3
    print(f"convert_weights: {len(tensors)} tensors of a {kind} -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
