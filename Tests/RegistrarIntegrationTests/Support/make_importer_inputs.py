"""Writes importer inputs with the tools' own libraries (docs/importers.md, "Inputs made by the
tools"), for Tests/RegistrarCoreTests/Fixtures/importers/. Run by hand when a fixture needs
remaking; the tests read the committed files, so CI needs none of these (large) SDKs.

  python make_importer_inputs.py OUT_DIR        (needs label-studio-sdk: pip install label-studio-sdk)

- labelstudio-sdk-coco.json: Label Studio tasks written by label-studio-sdk's own COCO importer
  (label_studio_sdk.converter.imports.coco.convert_coco_to_ls) from a small COCO file naming two
  images, with a bounding box each (Label Studio's `annotations`). Image URLs are
  http://registrar-objects.invalid/ + the file name: the live test swaps that root for its object server.

cvat-sdk has no manifest writer (CVAT's server writes manifest.jsonl), and Labelbox data rows are
plain dicts the user writes: their fixtures are copied from the tools' documentation (README.md).
"""
import json
import os
import sys
import tempfile

from importlib.metadata import version
from label_studio_sdk.converter.imports.coco import convert_coco_to_ls

ROOT = "http://registrar-objects.invalid/"

out_dir = sys.argv[1]
coco = {
    "images": [
        {"id": 1, "file_name": "media/cat 1.jpg", "width": 227, "height": 149},
        {"id": 2, "file_name": "media/dog.png", "width": 16, "height": 16},
    ],
    "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
    "annotations": [
        {"id": 10, "image_id": 1, "category_id": 1, "bbox": [10, 20, 100, 80], "area": 8000, "iscrowd": 0},
        {"id": 11, "image_id": 2, "category_id": 2, "bbox": [1, 1, 8, 8], "area": 64, "iscrowd": 0},
    ],
}
with tempfile.TemporaryDirectory() as tmp:
    src = os.path.join(tmp, "coco.json")
    with open(src, "w") as f:
        json.dump(coco, f)
    out = os.path.join(out_dir, "labelstudio-sdk-coco.json")
    convert_coco_to_ls(src, out, image_root_url=ROOT)
    # The SDK also writes a labeling config beside its output; only the tasks are a fixture.
    for extra in os.listdir(out_dir):
        if extra.startswith("labelstudio-sdk-coco") and extra != "labelstudio-sdk-coco.json":
            os.remove(os.path.join(out_dir, extra))
print(json.dumps({"written": out, "label-studio-sdk": version("label-studio-sdk")}))
