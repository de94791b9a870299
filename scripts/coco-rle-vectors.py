#!/usr/bin/env python3
"""Writes COCO RLE test vectors with pycocotools, the reference implementation, so CocoRLE's
encoder and decoder are checked against it rather than against themselves.

Run: python3 -m venv /tmp/coco && /tmp/coco/bin/pip install pycocotools numpy &&
     /tmp/coco/bin/python scripts/coco-rle-vectors.py > Tests/RegistrarCoreTests/Fixtures/labels/rle-vectors.json
"""
import json
import random

import numpy as np
from pycocotools import mask as cocomask

rng = random.Random(20261207)
vectors = []
for (h, w, density) in [(1, 1, 1.0), (2, 3, 0.5), (5, 4, 0.3), (16, 9, 0.5), (40, 33, 0.1), (64, 64, 0.9), (7, 130, 0.02), (100, 80, 0.0)]:
    m = np.zeros((h, w), dtype=np.uint8)
    for y in range(h):
        for x in range(w):
            m[y, x] = 1 if rng.random() < density else 0
    # A solid block too, so long runs (multi-group counts) appear.
    if h > 10 and w > 10:
        m[3:h - 2, 2:w - 3] = 1
    rle = cocomask.encode(np.asfortranarray(m))
    vectors.append({
        "height": h, "width": w,
        "rowMajor": "".join(str(int(v)) for v in m.reshape(-1)),
        "counts": rle["counts"].decode("ascii"),
        "area": int(cocomask.area(rle)),
        "bbox": [int(v) for v in cocomask.toBbox(rle)],
    })
print(json.dumps({"generator": "scripts/coco-rle-vectors.py (pycocotools)", "vectors": vectors}, indent=1))
