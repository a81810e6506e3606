#!/usr/bin/env python3
"""Writes a small synthetic evidence volume for the CLI tests: an NRRD (int16 in units of 1/10000, world frame
LPS, 4 mm voxels, 60 x 50 x 40 centred on the origin) with Gaussian peaks of known centre and probability
(0.9 at (-58, 10, -18) mm, 0.35 at (58, 2, 10) mm): tests/viz/CMakeLists.txt. Standard library only."""
import math
import os
import struct
import sys

DIMS, SPACING = (60, 50, 40), 4.0
BLOBS = [((-58.0, 10.0, -18.0), 0.9, 6.0), ((58.0, 2.0, 10.0), 0.35, 5.0)]


def main(path, ct=False):
    origin = [-0.5 * SPACING * (n - 1) for n in DIMS]
    values = []
    for k in range(DIMS[2]):
        for j in range(DIMS[1]):
            for i in range(DIMS[0]):
                p = (origin[0] + SPACING * i, origin[1] + SPACING * j, origin[2] + SPACING * k)
                m = 0.0
                for c, peak, sigma in BLOBS:
                    d2 = sum((p[a] - c[a]) ** 2 for a in range(3))
                    m = max(m, peak * math.exp(-0.5 * d2 / (sigma * sigma)))
                values.append(-1000 if ct else int(round(m * 10000)))
    header = ("NRRD0004\ntype: short\ndimension: 3\nspace: left-posterior-superior\n"
              f"sizes: {DIMS[0]} {DIMS[1]} {DIMS[2]}\n"
              f"space directions: ({SPACING},0,0) (0,{SPACING},0) (0,0,{SPACING})\n"
              "kinds: domain domain domain\nendian: little\nencoding: raw\n"
              f"space origin: ({origin[0]},{origin[1]},{origin[2]})\n\n")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "wb") as f:
        f.write(header.encode())
        f.write(struct.pack(f"<{len(values)}h", *values))


if __name__ == "__main__":
    # --ct: the same grid filled with -1000 (air in HU), the mistake of passing a CT as evidence.
    main(sys.argv[1], ct="--ct" in sys.argv[2:])
