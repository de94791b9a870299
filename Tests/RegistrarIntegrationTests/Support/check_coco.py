"""Loads a COCO file with pycocotools (the reference reader) and prints what the export test
compares: counts, and for each annotation its id, image, category, area, bbox and mask area."""
import json
import sys

from pycocotools.coco import COCO

coco = COCO(sys.argv[1])
out = {"images": len(coco.imgs), "annotations": len(coco.anns), "categories": len(coco.cats), "anns": []}
for ann in coco.anns.values():
    item = {"id": ann["id"], "image_id": ann["image_id"], "category_id": ann["category_id"], "area": ann["area"],
            "bbox": ann["bbox"], "iscrowd": ann["iscrowd"], "track_id": ann["attributes"]["track_id"]}
    if ann["segmentation"]:
        item["mask_area"] = int(coco.annToMask(ann).sum())
    out["anns"].append(item)
print(json.dumps(out))  # the last line (pycocotools prints progress before it)
