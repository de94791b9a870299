#!/usr/bin/env python3
"""An agent for a Registrar Agent stage, over the HTTP API, standard library only.

    REGISTRAR_API_URL=http://127.0.0.1:8080 REGISTRAR_API_KEY=… python3 agent.py PROJECT_ID STAGE

STAGE is the Agent stage's uuid or title. Each task waiting there is read with its data unit
(GET /v1/files/{fileId}) and its label row (GET /v1/projects/{id}/label-rows/{dataHash}); decide() picks a pathway name (or None: leave the task), and the
moves go back as PATHWAY_ACTIONs, 500 per request. Exits 0 when the stage has nothing new,
1 when an action was refused (409s — another agent took the task — are only counted).
"""
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

API = os.environ["REGISTRAR_API_URL"].rstrip("/")
KEY = os.environ["REGISTRAR_API_KEY"]
RACES = {"assigned_to_other", "moved", "conflict"}   # per-task 409 codes


def call(method, path, body=None, query=None):
    url = API + path + ("?" + urllib.parse.urlencode(query) if query else "")
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Authorization": "Bearer " + KEY})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    for attempt in range(40):
        try:
            with urllib.request.urlopen(req, timeout=120) as answer:
                return json.load(answer)
        except urllib.error.HTTPError as e:
            if e.code != 429 or attempt == 39:   # 429: the key's rate limit; wait and retry
                raise
            time.sleep(min(0.1 * 2 ** attempt, 2))


def decide(item):
    """Your model goes here: item is {task, dataUnit, labelRow, dataLink}. This stand-in sends
    about 30 % of the units straight to "complete" (by a hash of the data unit's id, so the
    choice is stable) and the rest to "annotate"."""
    h = int(item["task"]["dataHash"]) * 2654435761 % 1000
    return "complete" if h < 300 else "annotate"


def main(project, stage_ref):
    nodes = call("GET", f"/v1/projects/{project}/workflow")["graphNodes"]
    stage = next(n for n in nodes if stage_ref in (n["uuid"], n.get("title")) and n["nodeType"] == "AGENT")
    pathways = {p["name"]: p["uuid"] for p in stage["pathways"]}
    tasks_path = f"/v1/projects/{project}/workflow/stages/{stage['uuid']}"
    offered, counts = set(), {"done": 0, "skipped": 0, "left": 0, "failed": 0}
    while True:
        fresh, token = 0, None
        while True:
            query = {"limit": 1000, **({"pageToken": token} if token else {})}
            page = call("GET", tasks_path + "/tasks", query=query)
            moves = []
            for task in page["results"]:
                if task["uuid"] in offered:
                    continue
                offered.add(task["uuid"])
                fresh += 1
                try:
                    unit = call("GET", f"/v1/files/{task['fileId']}")
                except urllib.error.HTTPError:
                    unit = None
                try:   # the unit's labels in Encord's shape (to pre-label: PUT it back with If-Match)
                    row = call("GET", f"/v1/projects/{project}/label-rows/{task['dataHash']}")
                except urllib.error.HTTPError:
                    row = None
                item = {"task": task, "dataUnit": unit, "labelRow": row, "dataLink": (unit or {}).get("url")}
                name = decide(item)
                if name is None:
                    counts["left"] += 1
                elif name not in pathways:
                    counts["failed"] += 1
                    print(f"{task['uuid']}: no pathway {name!r}", file=sys.stderr)
                else:
                    moves.append({"taskUuid": task["uuid"], "action": "PATHWAY_ACTION", "pathwayUuid": pathways[name]})
            for i in range(0, len(moves), 500):
                for r in call("POST", tasks_path + "/actions", body=moves[i:i + 500])["results"]:
                    if r["ok"]:
                        counts["done"] += 1
                    elif r["error"]["code"] in RACES:
                        counts["skipped"] += 1
                    else:
                        counts["failed"] += 1
                        print(f"{r['taskUuid']}: {r['error']['code']}: {r['error']['message']}", file=sys.stderr)
            print(", ".join(f"{v} {k}" for k, v in counts.items()), file=sys.stderr)
            token = page.get("nextPageToken")
            if not token:
                break
        if fresh == 0:
            return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
