#!/usr/bin/env python3
"""scripts/convert_weights.py: a TorchScript archive and a torch.save state dict become safetensors files with the
same names and bit-identical tensors (what xraylift's weight readers then load by name). Catches a converter that
drops buffers, renames tensors, writes misaligned offsets or another byte order. Exit 77 (skipped) without torch.

usage: test_convert_weights.py SCRIPT SCRATCH_DIR [TORCHSCRIPT_FILE]
"""
import json
import os
import shutil
import struct
import subprocess
import sys

try:
    import torch
except ImportError:
    print("skipped: no torch in this python")
    sys.exit(77)

DTYPES = {"F32": torch.float32, "F64": torch.float64, "BF16": torch.bfloat16, "I64": torch.int64, "U8": torch.uint8}


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    assert (8 + n) % 8 == 0, "tensor data must start 8-byte aligned"
    meta = header.pop("__metadata__", {})
    out = {}
    for name, e in header.items():
        begin, end = e["data_offsets"]
        dtype = DTYPES[e["dtype"]]
        raw = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.uint8)
        out[name] = raw.view(dtype).reshape(e["shape"]) if end > begin else torch.empty(e["shape"], dtype=dtype)
    return out, meta


def convert(script, src, dst, *extra):
    r = subprocess.run([sys.executable, script, src, dst, *extra], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"FAIL: convert_weights {src} exit {r.returncode}: {r.stderr}")
    return r.stdout


def same(expected, got, what):
    if sorted(expected) != sorted(got):
        sys.exit(f"FAIL: {what}: names {sorted(got)} != {sorted(expected)}")
    for k, v in expected.items():
        if v.dtype != got[k].dtype or not torch.equal(v, got[k]):
            sys.exit(f"FAIL: {what}: tensor {k} differs")


def main():
    script, scratch = sys.argv[1], sys.argv[2]
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2), torch.nn.Linear(4, 3))
    model[1].running_mean.uniform_()  # buffers that differ from their initial values
    model[2].weight.data = model[2].weight.data.to(torch.bfloat16).float()
    expected = {k: v.detach().clone() for k, v in model.state_dict().items()}

    torch.jit.save(torch.jit.script(model), os.path.join(scratch, "script.pt"))
    convert(script, os.path.join(scratch, "script.pt"), os.path.join(scratch, "script.safetensors"))
    got, meta = read_safetensors(os.path.join(scratch, "script.safetensors"))
    same(expected, got, "TorchScript archive")
    if meta.get("converted_from") != "script.pt":
        sys.exit(f"FAIL: metadata {meta}")

    wrapped = {"model": {"module." + k: v for k, v in expected.items()}, "epoch": 3}
    torch.save(wrapped, os.path.join(scratch, "checkpoint.pth"))
    convert(script, os.path.join(scratch, "checkpoint.pth"), os.path.join(scratch, "state.safetensors"),
            "--strip", "module.")
    same(expected, read_safetensors(os.path.join(scratch, "state.safetensors"))[0], "torch.save state dict")

    if len(sys.argv) > 3:  # a libtorch (C++) archive, as the readers' refusal message suggests converting
        convert(script, sys.argv[3], os.path.join(scratch, "cpp.safetensors"))
        if not read_safetensors(os.path.join(scratch, "cpp.safetensors"))[0]:
            sys.exit("FAIL: no tensors from the libtorch archive")

    with open(os.path.join(scratch, "junk.pt"), "wb") as f:
        f.write(b"not weights")
    r = subprocess.run([sys.executable, script, os.path.join(scratch, "junk.pt"), os.path.join(scratch, "j.safetensors")],
                       capture_output=True, text=True)
    if r.returncode != 3 or "junk.pt" not in r.stderr or os.path.exists(os.path.join(scratch, "j.safetensors")):
        sys.exit(f"FAIL: junk input: exit {r.returncode}, {r.stderr}")
    print("convert_weights: TorchScript, torch.save and junk inputs as expected")


if __name__ == "__main__":
    main()
