#!/usr/bin/env python3
"""Independent check of exported .glb files with pygltflib (not the writer's library): every file loads, has one
scene whose nodes all have a mesh with POSITION/NORMAL float VEC3 and uint32 indices, accessor min/max equal the
decoded positions, indices are in range, and every node's extras carry `kind` (and `score` where the kind has
one). Optional: --expect-kind KIND=N (at least N nodes of that kind). Exit 77 (ctest SKIP) without pygltflib."""
import argparse
import struct
import sys

try:
    import pygltflib
except ImportError:
    print("pygltflib is not installed (scripts/setup.sh installs it into the venv): skipped")
    sys.exit(77)

FLOAT, UINT32, VEC3, SCALAR = 5126, 5125, "VEC3", "SCALAR"


def accessor_bytes(gltf, blob, index, size):
    acc = gltf.accessors[index]
    view = gltf.bufferViews[acc.bufferView]
    start = (view.byteOffset or 0) + (acc.byteOffset or 0)
    end = start + acc.count * size
    if end > (view.byteOffset or 0) + view.byteLength or end > len(blob):
        raise ValueError(f"accessor {index} exceeds its buffer view")
    return acc, blob[start:end]


def check(path, expect):
    gltf = pygltflib.GLTF2().load(path)
    blob = gltf.binary_blob()
    errors = []
    if len(gltf.scenes) != 1 or not gltf.scenes[0].nodes:
        errors.append("expected one scene with nodes")
    kinds = {}
    for n, node in enumerate(gltf.nodes):
        where = f"{path}: node {n} ({node.name})"
        if node.mesh is None:
            errors.append(f"{where}: no mesh")
            continue
        prim = gltf.meshes[node.mesh].primitives[0]
        acc, data = accessor_bytes(gltf, blob, prim.attributes.POSITION, 12)
        if acc.componentType != FLOAT or acc.type != VEC3:
            errors.append(f"{where}: POSITION is not float VEC3")
        xyz = struct.unpack(f"<{3 * acc.count}f", data)
        for a in range(3):
            lo, hi = min(xyz[a::3]), max(xyz[a::3])
            if abs(acc.min[a] - lo) > 1e-6 or abs(acc.max[a] - hi) > 1e-6:
                errors.append(f"{where}: POSITION min/max axis {a} ({acc.min[a]}, {acc.max[a]}) != data ({lo}, {hi})")
        nacc = gltf.accessors[prim.attributes.NORMAL]
        if nacc.count != acc.count or nacc.type != VEC3:
            errors.append(f"{where}: NORMAL count/type differs from POSITION")
        iacc, idata = accessor_bytes(gltf, blob, prim.indices, 4)
        if iacc.componentType != UINT32 or iacc.count % 3:
            errors.append(f"{where}: indices not uint32 triangles")
        elif max(struct.unpack(f"<{iacc.count}I", idata)) >= acc.count:
            errors.append(f"{where}: an index exceeds the vertex count {acc.count}")
        extras = node.extras or {}
        kind = extras.get("kind")
        if kind not in ("lung", "nodule", "attention", "evidence"):
            errors.append(f"{where}: extras.kind = {kind!r}")
        if kind in ("nodule", "attention", "evidence") and not isinstance(extras.get("score"), (int, float)):
            errors.append(f"{where}: extras.score missing")
        if kind == "evidence" and node.name != "evidence_iso" and not (0 < extras.get("probability", -1) <= 1):
            errors.append(f"{where}: evidence extras.probability = {extras.get('probability')!r}")
        kinds[kind] = kinds.get(kind, 0) + 1
    for kind, n in expect.items():
        if kinds.get(kind, 0) < n:
            errors.append(f"{path}: {kinds.get(kind, 0)} nodes of kind {kind}, expected >= {n}")
    for e in errors:
        print("ERROR", e)
    print(f"{path}: {len(gltf.nodes)} nodes {kinds}, {'FAILED' if errors else 'ok'}")
    return not errors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="+")
    ap.add_argument("--expect-kind", action="append", default=[], help="KIND=N")
    args = ap.parse_args()
    expect = {k: int(v) for k, v in (e.split("=") for e in args.expect_kind)}
    ok = all([check(f, expect) for f in args.files])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
