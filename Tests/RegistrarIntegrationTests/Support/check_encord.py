"""Reads a Registrar JSON export back with Encord's own SDK (PyPI `encord`), offline.

Usage: check_encord.py EXPORT.json ONTOLOGY-STRUCTURE.json
For every row of the export: builds the SDK's LabelRowV2 over the row's own metadata (no
server: the project client is never called), loads the row with `from_labels_dict`, and
reports what the SDK found — object instances with their frames and answers, classification
instances with their answers — and whether `to_encord_dict()` gives the same labels back.
Prints one JSON line: {"rows": N, "objects": K, "classifications": C, "answers": A,
"roundtrip_mismatches": [...], "per_row": {data_hash: {...}}}; exit 1 if any row failed to load or did not round-trip.
"""
import datetime
import json
import sys
import types

from encord.objects import LabelRowV2
from encord.objects.ontology_structure import OntologyStructure
from encord.orm.label_row import LabelRowMetadata, LabelStatus


def metadata(row, unit):
    fields = dict(
        label_hash=row.get("label_hash"), created_at=None, last_edited_at=None, branch_name=row.get("branch_name") or "main",
        data_hash=row["data_hash"], dataset_hash=row.get("dataset_hash") or "", dataset_title=row.get("dataset_title") or "",
        data_title=row.get("data_title") or "", data_type=row["data_type"], data_link=unit.get("data_link"),
        label_status=LabelStatus(row.get("label_status") or "NOT_LABELLED"), annotation_task_status=None,
        workflow_graph_node=None, is_shadow_data=False, frames_per_second=unit.get("data_fps"),
        number_of_frames=max(1, len(unit.get("labels", {})) if row["data_type"] != "image" else 1),
        duration=unit.get("data_duration"), height=unit.get("height"), width=unit.get("width"),
        audio_sample_rate=None, audio_codec=None, audio_bit_depth=None, audio_num_channels=None, spaces={},
    )
    return LabelRowMetadata(**fields)


def labels_only(d):
    """The label content of a row (what must survive a round trip)."""
    units = {h: {k: u.get(k) for k in ("labels",)} for h, u in d.get("data_units", {}).items()}
    return {"data_units": units, "object_answers": d.get("object_answers", {}), "classification_answers": d.get("classification_answers", {}),
            "object_actions": d.get("object_actions", {})}


def instances(d):
    """(frame, objectHash or classificationHash, featureHash) of every label instance, and the
    answered feature hashes per object and classification: what must survive a round trip."""
    out = set()
    for unit in d.get("data_units", {}).values():
        labels = unit.get("labels", {})
        frames = {"0": labels} if "objects" in labels or "classifications" in labels else labels
        for f, frame in frames.items():
            for o in frame.get("objects", []):
                out.add((int(f), o["objectHash"], o["featureHash"]))
            for c in frame.get("classifications", []):
                out.add((int(f), c["classificationHash"], c["featureHash"]))
    for h, a in d.get("object_answers", {}).items():
        out |= {("answer", h, c["featureHash"]) for c in a.get("classifications", [])}
    for h, a in d.get("classification_answers", {}).items():
        out |= {("answer", h, c["featureHash"]) for c in a.get("classifications", [])}
    for h, a in d.get("object_actions", {}).items():
        out |= {("action", h, c["featureHash"]) for c in a.get("actions", [])}
    return out


def main():
    rows = json.load(open(sys.argv[1]))
    ontology = types.SimpleNamespace(structure=OntologyStructure.from_dict(json.load(open(sys.argv[2]))))
    out = {"rows": 0, "objects": 0, "classifications": 0, "answers": 0, "failed": [], "roundtrip_mismatches": [], "per_row": {}}
    for row in rows:
        unit = next(iter(row["data_units"].values()))
        lr = LabelRowV2(metadata(row, unit), None, ontology)
        try:
            lr.from_labels_dict(row)
        except Exception as e:  # noqa: BLE001 - reported per row
            out["failed"].append({"data_hash": row["data_hash"], "error": repr(e)})
            continue
        objects = lr.get_object_instances()
        classes = lr.get_classification_instances()
        answers = 0
        per = {"objects": {}, "classifications": []}
        for o in objects:
            frames = sorted(a.frame for a in o.get_annotations())
            attrs = {}
            for attribute in o.ontology_item.attributes:
                for frame in frames:
                    try:
                        got = o.get_answer(attribute) if not attribute.dynamic else o.get_answer(attribute, filter_answer=None, is_dynamic=True)
                    except Exception:  # noqa: BLE001
                        got = None
                    if got not in (None, [], ""):
                        answers += 1
                        attrs[attribute.name] = str(got)[:60]
                        break
            per["objects"][o.object_hash] = {"name": o.ontology_item.name, "frames": frames, "answers": attrs}
        for c in classes:
            per["classifications"].append(c.ontology_item.attributes[0].name)
        out["rows"] += 1
        out["objects"] += len(objects)
        out["classifications"] += len(classes)
        out["answers"] += answers
        out["per_row"][row["data_hash"]] = per
        if instances(lr.to_encord_dict()) != instances(row):
            out["roundtrip_mismatches"].append(row["data_hash"])
    print(json.dumps(out))
    sys.exit(1 if out["failed"] or out["roundtrip_mismatches"] else 0)


if __name__ == "__main__":
    main()
