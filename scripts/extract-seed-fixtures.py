#!/usr/bin/env python3
"""Extract the registration-manifest examples from Encord's "Data Annotation" docs page.

Usage:
    python3 scripts/extract-seed-fixtures.py SEED_FILE OUTPUT_DIR

What it does (see Tests/RegistrarCoreTests/Fixtures/seed/INDEX.md for the result):

* Every fenced ```json block inside the "JSON Format" accordion is copied *byte-faithfully*
  into OUTPUT_DIR/<provider>-<section>-<variant>.json. The only changes made are:
    - the common leading indentation is removed (dedent), and
    - leading/trailing blank lines inside the fence are dropped.
  Nothing is "fixed": trailing commas, bare words, odd URLs, repeated keys all stay.
* Every markdown table inside the "CSV Format" accordion becomes OUTPUT_DIR/csv-<section>.csv
  (comma separated, header first, LF line endings, trailing newline, the `| --- |` row dropped,
  cell padding trimmed, a cell quoted only if it contains a comma or a double quote).
* OUTPUT_DIR/INDEX.md is written, with one row per fixture and the quirks found in it.
  Every quirk is detected mechanically by the checks in `analyse_json` / `analyse_csv`.

The script uses only the Python standard library and is deterministic: running it twice on the
same seed produces identical output.
"""

import json
import os
import re
import sys
from collections import Counter
from urllib.parse import urlsplit

# --------------------------------------------------------------------------------------------
# Naming
# --------------------------------------------------------------------------------------------

# "JSON for X" accordion title -> provider slug used in file names.
PROVIDERS = {
    "AWS": "aws",
    "GCP": "gcp",
    "Azure": "azure",
    "OTC": "otc",
    "AWS Multi-Region Access Point": "aws-mrap",
}

# Data-type accordion title -> section slug used in file names (JSON and CSV alike).
SECTIONS = {
    "Videos": "videos",
    "Audio files": "audio",
    "PDFs": "pdfs",
    "Text Files": "text",
    "Single images": "images",
    "Image groups": "image-groups",
    "Image sequences": "image-sequences",
    "DICOM": "dicom",
    "NIfTI": "nifti",
    "Multiple file types": "multiple-types",
}

# The "JSON for AWS Multi-Region Access Point" accordion has no data-type sub-accordion; its
# prose says the examples show "how video files ... would be specified", so they are videos.
DEFAULT_SECTION_FOR_PROVIDER = {"aws-mrap": "videos"}

# The hosts each provider's examples are expected to point at (used only to flag examples that
# mix in another provider's URLs).
PROVIDER_HOST_HINTS = {
    "aws": ("amazonaws.com",),
    "aws-mrap": ("amazonaws.com",),
    "gcp": ("storage.cloud.google.com", "storage.googleapis.com"),
    "azure": ("blob.core.windows.net",),
    "otc": ("myhuaweicloud", "otc.t-systems.com", "obs."),
}


def slug(text):
    """Lowercase, every run of non-alphanumerics becomes one hyphen."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# --------------------------------------------------------------------------------------------
# Reading the seed: accordion nesting, fenced blocks, markdown tables
# --------------------------------------------------------------------------------------------

ACCORDION_OPEN = re.compile(r'<Accordion\s+title="([^"]*)"\s*>')
ACCORDION_CLOSE = re.compile(r"</Accordion>")
FENCE_JSON = re.compile(r"^\s*```json\b(.*)$")
FENCE_ANY = re.compile(r"^\s*```")


def fence_label(rest):
    """The label after ```json, without the ` theme={...}` attribute ('' if none)."""
    return re.sub(r"\s*theme=\{.*\}\s*$", "", rest).strip()


def dedent(lines):
    """Drop leading/trailing blank lines, then remove the common leading spaces.

    The seed has no tabs, no trailing whitespace and no CRs, so blank lines are truly empty and
    the common prefix is a run of spaces; each non-blank line loses exactly that many spaces.
    """
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    indents = [len(l) - len(l.lstrip(" ")) for l in lines if l.strip()]
    cut = min(indents) if indents else 0
    return [l[cut:] if l.strip() else "" for l in lines]


def top_level_object_end(text):
    """Index just past the closing brace of the first top-level {...} (string-aware), or None."""
    depth, in_str, esc, started = 0, False, False, False
    for i, ch in enumerate(text):
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "{[":
            depth += 1
            started = True
        elif ch in "}]":
            depth -= 1
            if started and depth == 0:
                return i + 1
    return None


def scan(seed_lines):
    """Walk the seed once; return (json_blocks, csv_tables) with their context.

    Each block/table records the 1-based seed line numbers it came from.
    """
    stack = []  # open accordion titles, outermost first
    json_blocks, csv_tables = [], []
    i, n = 0, len(seed_lines)
    while i < n:
        line = seed_lines[i]
        for m in ACCORDION_OPEN.finditer(line):
            stack.append(m.group(1).strip())
        # A closing tag on the same line as an opening one is not used in this seed, but keep
        # the order (open, then close) so such a line would net out to nothing.
        for _ in ACCORDION_CLOSE.finditer(line):
            if stack:
                stack.pop()

        m = FENCE_JSON.match(line)
        if m and "JSON Format" in stack:
            label = fence_label(m.group(1))
            start = i + 1  # first line after the opening fence (0-based)
            j = start
            closed = False
            # The block ends at the first bare ``` line. If we meet another opening fence or an
            # accordion tag first, the seed lacks a closing fence for this block.
            while j < n:
                s = seed_lines[j].strip()
                if s == "```":
                    closed = True
                    break
                if FENCE_ANY.match(seed_lines[j]) or s.startswith("</") or s.startswith("<Accordion"):
                    break
                j += 1
            body = seed_lines[start:j]
            truncated = False
            if not closed:
                # Keep only the text up to the end of the top-level JSON object.
                text = "\n".join(body)
                end = top_level_object_end(text)
                if end is not None:
                    body = text[:end].split("\n")
                    truncated = True
            # Seed line numbers of the first/last non-blank content lines.
            nonblank = [k for k in range(start, start + len(body)) if seed_lines[k].strip()]
            json_blocks.append({
                "stack": list(stack),
                "label": label,
                "fence_open": i + 1,
                "fence_close": (j + 1) if closed else None,
                "content_first": nonblank[0] + 1 if nonblank else None,
                "content_last": nonblank[-1] + 1 if nonblank else None,
                "lines": dedent(body),
                "raw_lines": body,
                "closed": closed,
                "truncated": truncated,
            })
            i = j + 1 if closed else j
            continue

        if line.strip().startswith("|") and "CSV Format" in stack:
            start = i
            while i < n and seed_lines[i].strip().startswith("|"):
                i += 1
            csv_tables.append({
                "stack": list(stack),
                "first": start + 1,
                "last": i,
                "rows": seed_lines[start:i],
            })
            continue
        i += 1
    return json_blocks, csv_tables


def context_of(stack):
    """(provider, section) from the accordion titles enclosing a block."""
    provider = None
    section = None
    for title in stack:
        m = re.match(r"JSON for (.+)$", title)
        if m:
            provider = PROVIDERS.get(m.group(1).strip(), slug(m.group(1)))
        elif title in SECTIONS:
            section = SECTIONS[title]
    if section is None and provider in DEFAULT_SECTION_FOR_PROVIDER:
        section = DEFAULT_SECTION_FOR_PROVIDER[provider]
    return provider, section


# --------------------------------------------------------------------------------------------
# Markdown table -> CSV
# --------------------------------------------------------------------------------------------

SEPARATOR_ROW = re.compile(r"^\|?[\s:\-|]+\|?$")


def table_cells(row):
    """Split `| a | b |` into ['a', 'b'] with padding trimmed."""
    s = row.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|"):
        s = s[:-1]
    return [c.strip() for c in s.split("|")]


def csv_cell(c):
    if "," in c or '"' in c:
        return '"' + c.replace('"', '""') + '"'
    return c


def table_to_csv(rows):
    out = []
    for r in rows:
        if SEPARATOR_ROW.match(r.strip()):
            continue  # the markdown `| --- | --- |` row
        out.append(",".join(csv_cell(c) for c in table_cells(r)))
    return "\n".join(out) + "\n", [table_cells(r) for r in rows if not SEPARATOR_ROW.match(r.strip())]


# --------------------------------------------------------------------------------------------
# Mechanical quirk detection
# --------------------------------------------------------------------------------------------

ABSOLUTE_URL = re.compile(r"^(https?|s3|gs)://")
OBJECT_URL_KEY = re.compile(r"^objectUrl(_\d+)?$", re.IGNORECASE)
TRAILING_COMMA = re.compile(r",(\s*[}\]])")
# Two array items with no comma between them: `}` followed (across whitespace) by `{`.
MISSING_COMMA = re.compile(r"\}(\s*)\{")
# A bare (unquoted) value after a colon: `"fps": frames-per-second,`
BARE_VALUE = re.compile(r'(:\s*)(?!true\b|false\b|null\b)([A-Za-z_][A-Za-z0-9_\-]*)(\s*[,}\]\n])')


def line_of(text, offset):
    return text.count("\n", 0, offset) + 1


def walk_pairs(node):
    """Yield (key, value) for every key in every object of a pairs-tree."""
    if isinstance(node, list) and node and all(isinstance(p, tuple) and len(p) == 2 for p in node):
        for k, v in node:
            yield k, v
            yield from walk_pairs(v)
    elif isinstance(node, list):
        for v in node:
            yield from walk_pairs(v)


def is_pairs(node):
    return isinstance(node, list) and all(isinstance(p, tuple) and len(p) == 2 for p in node)


def lenient_parse(text):
    """Try strict JSON, then progressively more lenient rewrites of the text.

    Returns (pairs_tree or None, list of rewrites applied, error of the last attempt or None).
    The rewrites are used ONLY for analysis; the fixture keeps the original text.
    """
    # Each rewrite is applied on top of the previous ones, and only if it changes the text.
    rewrites = [
        ("removed trailing commas", lambda t: TRAILING_COMMA.sub(r"\1", t)),
        ("quoted bare words", lambda t: BARE_VALUE.sub(lambda m: m.group(1) + '"' + m.group(2) + '"' + m.group(3), t)),
        ("inserted missing commas between items", lambda t: MISSING_COMMA.sub(r"},\1{", t)),
    ]
    applied, t, err = [], text, None
    while True:
        try:
            return json.loads(t, object_pairs_hook=lambda p: p), applied, None
        except json.JSONDecodeError as e:
            err = f"{e.msg}: line {e.lineno} column {e.colno}"
        while rewrites:
            name, fn = rewrites.pop(0)
            t2 = fn(t)
            if t2 != t:
                applied.append(name)
                t = t2
                break
        else:
            return None, applied, err


def url_problem(u):
    """Why an objectUrl value is not a plain absolute http(s)/s3/gs URL (None if it is)."""
    if u.startswith("<") and u.endswith(">"):
        return "placeholder"
    if "<" in u and ">" in u:
        return "placeholder expression, not a URL"
    if u.startswith("<"):
        return "starts with '<'"
    if not ABSOLUTE_URL.match(u):
        if re.search(r"\s", u):
            return "not a URL (contains whitespace)"
        return "relative path without scheme"
    try:
        parts = urlsplit(u)
        parts.port  # raises ValueError when the netloc's port is not a number
    except ValueError as e:
        return f"absolute but invalid authority ({e})"
    if "..." in u:
        return "absolute but with '...' placeholder path"
    return None


def analyse_json(text, provider):
    info = {"quirks": []}
    q = info["quirks"]

    # 1. Strict parse, exactly like `json.load(open(FILE))`.
    try:
        json.loads(text)
        info["strict"] = "ok"
    except json.JSONDecodeError as e:
        info["strict"] = f"FAIL: {e.msg}: line {e.lineno} column {e.colno} (char {e.pos})"

    # 2. Trailing commas and bare words (reported with fixture line numbers).
    for m in TRAILING_COMMA.finditer(text):
        q.append(f"trailing comma line {line_of(text, m.start())} of fixture")
    bare = [(line_of(text, m.start(2)), m.group(2)) for m in BARE_VALUE.finditer(text)]
    if bare:
        words = ", ".join(f"`{w}` (l.{ln})" for ln, w in bare)
        q.append(f"bare word values (not JSON): {words}")
    for m in MISSING_COMMA.finditer(text):
        q.append(f"missing comma between array items (`}}` line {line_of(text, m.start())} / `{{` line {line_of(text, m.end() - 1)} of fixture)")

    # 3. Lenient parse for structure; duplicate keys via object_pairs_hook.
    tree, rewrites, err = lenient_parse(text)
    info["rewrites"] = rewrites
    info["lenient_error"] = err
    info["counts"] = None
    info["urls_ok"] = None
    if tree is None:
        q.append(f"unparseable even after lenient rewrites ({err})")
        return info

    # Duplicate keys: top level and nested.
    top_counts = Counter(k for k, _ in tree)
    for k, c in top_counts.items():
        if c > 1:
            q.append(f"repeated top-level key `{k}` ({c}x)")
    for k, v in walk_pairs(tree):
        if is_pairs(v) and v is not tree:
            for kk, c in Counter(x for x, _ in v).items():
                if c > 1:
                    q.append(f"repeated key `{kk}` inside `{k}`")
        if isinstance(v, list) and not is_pairs(v):
            for idx, item in enumerate(v):
                if is_pairs(item):
                    for kk, c in Counter(x for x, _ in item).items():
                        if c > 1:
                            q.append(f"repeated key `{kk}` in item {idx + 1} of `{k}`")

    # Items per top-level key (a repeated key is listed once per occurrence).
    counts = []
    for k, v in tree:
        if isinstance(v, list) and not is_pairs(v):
            counts.append(f"{k}: {len(v)}")
        else:
            counts.append(f"{k}: {json.dumps(v) if not is_pairs(v) else 'object'}")
    info["counts"] = "; ".join(counts)
    if "skip_duplicate_urls" not in top_counts:
        q.append("no `skip_duplicate_urls` key")

    # objectUrl checks: absoluteness, duplicates, provider hosts.
    urls = []  # (item label, key, value)
    for k, v in tree:
        if isinstance(v, list) and not is_pairs(v):
            for idx, item in enumerate(v):
                if is_pairs(item):
                    for kk, vv in item:
                        if OBJECT_URL_KEY.match(kk) and isinstance(vv, str):
                            urls.append((f"{k} item {idx + 1}", kk, vv))
    problems = Counter()
    details = []
    for where, key, u in urls:
        p = url_problem(u)
        if p:
            problems[p] += 1
            if p not in ("placeholder", "relative path without scheme"):
                details.append(f"{p}: `{key}` of {where} = `{u}`")
    info["urls_total"] = len(urls)
    info["urls_ok"] = not problems
    for p, c in problems.items():
        if p == "placeholder":
            examples = sorted({u for _, _, u in urls if url_problem(u) == p})
            q.append(f"placeholder URLs like `{examples[0]}` ({c} of {len(urls)} objectUrls)")
        elif p == "relative path without scheme":
            q.append(f"relative paths without scheme ({c} of {len(urls)} objectUrls)")
    q.extend(details)
    seen = Counter(u for _, _, u in urls)
    for u, c in seen.items():
        if c > 1 and url_problem(u) != "placeholder":
            q.append(f"duplicate objectUrl `{u}` ({c}x)")
    hints = PROVIDER_HOST_HINTS.get(provider, ())
    foreign = Counter()
    for _, _, u in urls:
        if ABSOLUTE_URL.match(u) and not url_problem(u):
            host = urlsplit(u).netloc
            if hints and not any(h in host for h in hints):
                foreign[host] += 1
    for host, c in sorted(foreign.items()):
        q.append(f"{c} objectUrl(s) on host `{host}` (not a {provider} storage host)")
    # objectUrl_N keys should be numbered 0, 1, 2, ... within each item.
    for k, v in tree:
        if isinstance(v, list) and not is_pairs(v):
            for idx, item in enumerate(v):
                if is_pairs(item):
                    nums = [int(kk.split("_")[1]) for kk, _ in item if re.match(r"^objectUrl_\d+$", kk)]
                    if nums and nums != list(range(len(nums))):
                        q.append(f"objectUrl_N keys of {k} item {idx + 1} numbered {nums}")
    return info


def analyse_csv(cells_rows):
    q = []
    header = cells_rows[0]
    widths = Counter(len(r) for r in cells_rows)
    if len(widths) > 1:
        q.append(f"ragged rows (widths {dict(widths)})")
    repeated = [i + 1 for i, r in enumerate(cells_rows) if i > 0 and r and r[0].lower() == "objecturl"]
    if repeated:
        q.append("header rows repeated mid-table at CSV lines " + ", ".join(map(str, repeated)))
    empties = [(i + 1, j + 1) for i, r in enumerate(cells_rows) for j, c in enumerate(r) if c == ""]
    for ln, col in empties:
        q.append(f"empty cell (CSV line {ln}, column {col} `{header[col - 1]}`)")
    data = [r for i, r in enumerate(cells_rows) if i > 0 and i + 1 not in repeated]
    url_bad = [r[0] for r in data if url_problem(r[0])]
    if url_bad:
        kinds = Counter(url_problem(u) for u in url_bad)
        for k, c in kinds.items():
            q.append(f"{k} ({c} of {len(data)} data rows)")
    dup = [u for u, c in Counter(r[0] for r in data).items() if c > 1]
    for u in dup:
        q.append(f"duplicate ObjectUrl `{u}`")
    return {
        "rows": len(cells_rows),
        "data_rows": len(data),
        "header": ",".join(header),
        "urls_ok": not url_bad,
        "quirks": q,
    }


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------

def md_escape(s):
    return s.replace("|", "\\|")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    seed_path, out_dir = sys.argv[1], sys.argv[2]
    with open(seed_path, encoding="utf-8", newline="") as f:
        raw = f.read()
    seed_lines = raw.split("\n")
    json_blocks, csv_tables = scan(seed_lines)
    os.makedirs(out_dir, exist_ok=True)

    rows = []
    used = set()

    # ---- JSON fixtures ----
    for b in json_blocks:
        provider, section = context_of(b["stack"])
        variant = slug(b["label"]) if b["label"] else "example"
        name = f"{provider}-{section}-{variant}.json"
        assert provider and section, (b["fence_open"], b["stack"])
        base, k = name[:-5], 2
        while name in used:  # keep names unique (never needed for this seed, but be safe)
            name = f"{base}-{k}.json"
            k += 1
        used.add(name)
        text = "\n".join(b["lines"]) + "\n"
        with open(os.path.join(out_dir, name), "w", encoding="utf-8", newline="\n") as f:
            f.write(text)

        info = analyse_json(text, provider)
        extra = []
        if not b["closed"]:
            extra.append("no closing fence in seed" + (" (truncated at end of top-level object)" if b["truncated"] else ""))
        # Blank lines the fence had around the object (dropped) or inside it (kept).
        raw_body = b["raw_lines"]
        if raw_body and not raw_body[0].strip():
            extra.append("blank line after opening fence in seed (dropped)")
        if raw_body and not raw_body[-1].strip():
            extra.append("blank line before closing fence in seed (dropped)")
        inner_blank = [i + 1 for i, l in enumerate(b["lines"]) if not l.strip()]
        if inner_blank:
            extra.append("blank line inside object at fixture line(s) " + ", ".join(map(str, inner_blank)))
        rows.append({
            "file": name,
            "kind": "json",
            "lines": f"{b['content_first']}–{b['content_last']}",
            "fence": f"{b['fence_open']}–{b['fence_close'] if b['fence_close'] else '(none)'}",
            "provider": provider,
            "section": section,
            "variant": variant,
            "label": b["label"] or "(none)",
            "strict": info["strict"],
            "rewrites": ", ".join(info["rewrites"]) or "—",
            "counts": info["counts"] or "n/a",
            "urls_ok": ("yes" if info["urls_ok"] else "no") + f" ({info.get('urls_total', '?')})",
            "quirks": info["quirks"] + extra,
        })

    # ---- CSV fixtures ----
    for t in csv_tables:
        section = None
        for title in t["stack"]:
            if title in SECTIONS:
                section = SECTIONS[title]
        name = f"csv-{section}.csv"
        assert name not in used, name
        used.add(name)
        text, cells_rows = table_to_csv(t["rows"])
        with open(os.path.join(out_dir, name), "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        info = analyse_csv(cells_rows)
        rows.append({
            "file": name,
            "kind": "csv",
            "lines": f"{t['first']}–{t['last']}",
            "fence": "—",
            "provider": "csv",
            "section": section,
            "variant": "table",
            "label": "—",
            "strict": "n/a (CSV)",
            "rewrites": "—",
            "counts": f"{info['data_rows']} data rows, {info['rows']} CSV lines; header `{info['header']}`",
            "urls_ok": "yes" if info["urls_ok"] else "no",
            "quirks": info["quirks"],
        })

    # ---- INDEX.md ----
    n_json = sum(1 for r in rows if r["kind"] == "json")
    n_csv = sum(1 for r in rows if r["kind"] == "csv")
    n_strict = sum(1 for r in rows if r["kind"] == "json" and r["strict"] == "ok")
    out = []
    out.append("# Seed fixtures\n")
    out.append(
        "Generated by `scripts/extract-seed-fixtures.py` from the Encord \"Data Annotation\" docs page "
        f"(`{os.path.basename(seed_path)}`). Do not edit by hand; re-run the script.\n"
    )
    out.append(
        f"{len(rows)} fixtures: {n_json} JSON (fenced ```json blocks, dedented, otherwise byte-faithful; "
        f"{n_strict} parse as strict JSON, {n_json - n_strict} do not) and {n_csv} CSV "
        "(markdown tables converted to CSV).\n"
    )
    out.append("Columns:\n")
    out.append("* **seed lines** — first–last non-blank content line taken from the seed; **fence** — the ```json and closing ``` lines.")
    out.append("* **strict JSON** — result of `json.load` on the fixture (Python 3 `json`), with the error if it fails.")
    out.append("* **lenient rewrite** — what had to be rewritten (in memory only) before the text parsed, for the counts and URL checks.")
    out.append("* **items per top-level key** — list lengths per top-level key, in document order (a repeated key is listed once per occurrence).")
    out.append("* **objectUrls absolute** — whether every `objectUrl`/`objectUrl_N` value is an absolute http(s)/s3/gs URL with a valid authority (count of objectUrl values in brackets).")
    out.append("")
    out.append("| file | seed lines | fence | provider | section | variant (fence label) | strict JSON | lenient rewrite | items per top-level key | objectUrls absolute | quirks |")
    out.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        quirks = "; ".join(r["quirks"]) if r["quirks"] else "none"
        out.append("| " + " | ".join(md_escape(x) for x in [
            f"`{r['file']}`", r["lines"], r["fence"], r["provider"], r["section"],
            f"{r['variant']} ({r['label']})", r["strict"], r["rewrites"], r["counts"],
            r["urls_ok"], quirks,
        ]) + " |")
    out.append("")
    # Notes computed from the scan, so they stay true when the seed changes.
    unclosed = [r["file"] for r in rows if r["kind"] == "json" and r["fence"].endswith("(none)")]
    out.append("## Notes\n")
    out.append(
        "* JSON blocks without a closing ``` fence in the seed: "
        + (", ".join(f"`{n}`" for n in unclosed) if unclosed else
           "none (some blocks, e.g. the AWS image-groups Data block, only have blank lines just inside "
           "their fences; those blank lines are dropped)")
        + "."
    )
    out.append("* Not strict JSON: " + ", ".join(f"`{r['file']}`" for r in rows
                                                if r["kind"] == "json" and r["strict"] != "ok") + ".")
    out.append("")
    with open(os.path.join(out_dir, "INDEX.md"), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(out))

    print(f"wrote {n_json} JSON and {n_csv} CSV fixtures + INDEX.md to {out_dir}")


if __name__ == "__main__":
    main()
