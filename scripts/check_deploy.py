#!/usr/bin/env python3
"""The checks behind scripts/check-deploy (run with the tools venv's python).

Each subcommand prints what it checked and exits non-zero on a failure:
  compose SCHEMA FILE                  compose.yaml against the Compose specification JSON schema
                                       (plus a negative test: a broken copy must be rejected)
  values-docs VALUES                   every values key documented by a "## @param" line, and
                                       every "@param" naming a real key
  manifests KUBE_VERSION FILE...       rendered manifests: Kubernetes schemas (kubernetes-validate,
                                       strict), a structural check of the CRD kinds it has no schema
                                       for, and the chart's own rules (restricted pod security, probes,
                                       worker grace period, NetworkPolicy ranges)
  alerts PLAIN CHART_COPY RENDERED     the plain rule file and the chart's copy are identical, the
                                       rendered PrometheusRule carries the same rules, every alert
                                       uses only contract metric names, and has its runbook
  runbooks BIN FILE...                 every `registrar …` command in runbooks/*.md exists in BIN
                                       (`BIN <sub> [<subsub>] --help` exits 0) with the flags used
  docs BIN FILE...                     the same for README.md and docs/*.md (code blocks and spans)
  links ROOT FILE...                   every markdown link is a relative path to a file inside ROOT
                                       (anchors: a heading of the target), no http(s) links or bare URLs
"""
import json
import os
import re
import subprocess
import sys

import yaml

ALERTS = [
    "RegistrarChunkBacklogGrowing", "RegistrarDeadLetterQueueNotEmpty", "RegistrarJobStuck",
    "RegistrarUnitErrorRateHigh", "RegistrarStorageThrottling", "RegistrarProbeLatencyHigh",
    "RegistrarWorkersAbsent", "RegistrarRabbitMQUnreachable", "RegistrarRedisUnreachable",
    "RegistrarPostgresUnreachable", "RegistrarRedisProgressRebuilt",
]
# The metric names of /work/notes/contracts.md (histograms also expose _bucket/_sum/_count).
CONTRACT_METRICS = {
    "registrar_jobs", "registrar_units_total", "registrar_unit_errors_total",
    "registrar_probe_duration_seconds", "registrar_probe_bytes", "registrar_fetch_responses_total",
    "registrar_chunks_published_total", "registrar_chunks_acked_total",
    "registrar_chunks_redelivered_total", "registrar_chunks_dead_lettered_total",
    "registrar_queue_messages", "registrar_job_seconds_since_progress",
    "registrar_progress_rebuilds_total", "registrar_dependency_up",
    "registrar_process_resident_memory_bytes", "registrar_build_info",
}
HISTOGRAMS = {"registrar_probe_duration_seconds", "registrar_probe_bytes"}
RUNBOOK_SECTIONS = ["Meaning", "Impact", "Diagnosis", "Mitigation"]

failures = []


def fail(msg):
    failures.append(msg)
    print(f"    FAIL {msg}")


def note(msg):
    print(f"    {msg}")


def finish():
    sys.exit(1 if failures else 0)


# --- compose -------------------------------------------------------------------------------

def cmd_compose(schema_path, compose_path):
    import copy
    import jsonschema
    schema = json.load(open(schema_path))
    # The schema says draft 2019-09 (with a trailing '#' that validator_for does not recognise).
    validator = jsonschema.Draft201909Validator(schema)
    doc = yaml.safe_load(open(compose_path))
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    for e in errors:
        fail(f"{compose_path}: {'/'.join(map(str, e.path)) or '(root)'}: {e.message}")
    if not errors:
        note(f"{compose_path}: valid against the Compose specification schema ({len(doc['services'])} services)")
    # The same schema must refuse a broken copy, or the check above proves nothing.
    broken = copy.deepcopy(doc)
    broken["services"]["worker"]["depends_on"]["migrate"]["condition"] = "service_finished"
    broken["services"]["api"]["healthcheck"]["intervall"] = "5s"
    n = len(list(validator.iter_errors(broken)))
    if n < 2:
        fail(f"the schema accepted a compose file with 2 planted errors (found {n})")
    else:
        note(f"negative test: a copy with 2 planted errors is rejected ({n} errors)")
    # What the deployment needs, beyond the schema.
    services = doc["services"]
    for name in ["postgres", "redis", "rabbitmq", "migrate", "api", "coordinator", "worker"]:
        if name not in services:
            fail(f"compose.yaml has no service {name}")
    for name, svc in services.items():
        if name != "migrate" and "healthcheck" not in svc:
            fail(f"compose service {name} has no healthcheck")
    if services.get("worker", {}).get("deploy", {}).get("replicas") != 2:
        fail("compose worker should run 2 replicas")
    for name in ["api", "coordinator", "worker"]:
        deps = services.get(name, {}).get("depends_on", {})
        if deps.get("migrate", {}).get("condition") != "service_completed_successfully":
            fail(f"compose {name} must wait for migrate (service_completed_successfully)")
    finish()


# --- values documentation ----------------------------------------------------------------

def key_paths(node, prefix=""):
    """(path, is_leaf) for every key of a values tree (non-empty maps are descended)."""
    out = []
    for k, v in node.items():
        p = f"{prefix}.{k}" if prefix else str(k)
        inner = isinstance(v, dict) and v
        out.append((p, not inner))
        if inner:
            out.extend(key_paths(v, p))
    return out


def cmd_values_docs(values_path):
    text = open(values_path).read()
    values = yaml.safe_load(text)
    documented = set(re.findall(r"^\s*## @param (\S+) \S", text, re.M))
    paths = key_paths(values)
    all_paths = {p for p, _ in paths}
    leaves = [p for p, leaf in paths if leaf]
    missing = []
    for p in leaves:
        parts = p.split(".")
        # A leaf is documented by its own @param or by one of an enclosing map (e.g. resources).
        if not any(".".join(parts[:i]) in documented for i in range(1, len(parts) + 1)):
            missing.append(p)
    for p in missing:
        fail(f"{values_path}: key {p} has no '## @param {p} …' line")
    for d in sorted(documented):
        if d not in all_paths:
            fail(f"{values_path}: '@param {d}' documents a key that does not exist")
    if not missing:
        note(f"{values_path}: {len(all_paths)} keys, {len(documented)} @param lines, every key documented")
    finish()


# --- manifests -----------------------------------------------------------------------------

CRDS = {
    ("keda.sh/v1alpha1", "ScaledObject"),
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
}
PRIVATE = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10", "127.0.0.0/8"]


def check_crd(doc, where):
    """kubernetes-validate ships no schema for these kinds: the fields the operators require."""
    kind, spec = doc["kind"], doc.get("spec") or {}
    if not doc.get("metadata", {}).get("name"):
        fail(f"{where}: no metadata.name")
    if kind == "ScaledObject":
        ref = spec.get("scaleTargetRef", {})
        if not ref.get("name"):
            fail(f"{where}: spec.scaleTargetRef.name missing")
        trig = spec.get("triggers") or []
        if not trig:
            fail(f"{where}: no triggers")
        for t in trig:
            md = t.get("metadata", {})
            if t.get("type") != "rabbitmq":
                fail(f"{where}: trigger type {t.get('type')} (expected rabbitmq)")
            if md.get("queueName") != "registrar.chunks":
                fail(f"{where}: trigger queueName {md.get('queueName')}")
            if md.get("mode") not in ("QueueLength", "MessageRate") or not str(md.get("value", "")).isdigit():
                fail(f"{where}: trigger mode/value invalid")
            if not (md.get("host") or md.get("hostFromEnv") or t.get("authenticationRef")):
                fail(f"{where}: trigger has no host, hostFromEnv or authenticationRef")
            if not all(isinstance(v, str) for v in md.values()):
                fail(f"{where}: KEDA trigger metadata values must be strings")
        if not (isinstance(spec.get("minReplicaCount"), int) and isinstance(spec.get("maxReplicaCount"), int)):
            fail(f"{where}: min/maxReplicaCount must be integers")
    elif kind == "ServiceMonitor":
        if not spec.get("selector", {}).get("matchLabels"):
            fail(f"{where}: spec.selector.matchLabels missing")
        for ep in spec.get("endpoints") or []:
            if not ep.get("port") or not ep.get("path"):
                fail(f"{where}: endpoint without port/path")
        if not spec.get("endpoints"):
            fail(f"{where}: no endpoints")
    elif kind == "PrometheusRule":
        groups = spec.get("groups") or []
        if not groups:
            fail(f"{where}: no groups")
        for g in groups:
            if not g.get("name") or not g.get("rules"):
                fail(f"{where}: group without name or rules")
            for r in g.get("rules", []):
                if not r.get("alert") or not isinstance(r.get("expr"), str):
                    fail(f"{where}: rule without alert/expr")


def pod_spec_of(doc):
    kind = doc["kind"]
    if kind in ("Deployment", "Job", "StatefulSet", "DaemonSet"):
        return doc["spec"]["template"]["spec"]
    return None


def check_pod_policy(doc, where):
    spec = pod_spec_of(doc)
    if spec is None:
        return
    psc = spec.get("securityContext", {})
    if not psc.get("runAsNonRoot") or psc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        fail(f"{where}: pod securityContext must set runAsNonRoot and seccompProfile RuntimeDefault")
    if spec.get("automountServiceAccountToken") is not False:
        fail(f"{where}: automountServiceAccountToken should be false")
    mounts_tmp = {v["name"] for v in spec.get("volumes", []) if "emptyDir" in v}
    for c in spec.get("initContainers", []) + spec["containers"]:
        sc = c.get("securityContext", {})
        ok = (sc.get("readOnlyRootFilesystem") is True and sc.get("allowPrivilegeEscalation") is False
              and sc.get("runAsNonRoot") is True and sc.get("capabilities", {}).get("drop") == ["ALL"]
              and sc.get("seccompProfile", {}).get("type") == "RuntimeDefault")
        if not ok:
            fail(f"{where}: container {c['name']} is not restricted (read-only root, no escalation, drop ALL, non-root, RuntimeDefault)")
        if not any(m["mountPath"] == "/tmp" and m["name"] in mounts_tmp for m in c.get("volumeMounts", [])):
            fail(f"{where}: container {c['name']} has no emptyDir at /tmp")
        if not c.get("resources", {}).get("requests"):
            fail(f"{where}: container {c['name']} has no resource requests")
        env = {e["name"]: e for e in c.get("env", [])}
        for var in ("REGISTRAR_POSTGRES_URL", "REGISTRAR_AMQP_URL", "REGISTRAR_REDIS_URL"):
            if "secretKeyRef" not in env.get(var, {}).get("valueFrom", {}):
                fail(f"{where}: container {c['name']} does not take {var} from a Secret")
    if doc["kind"] == "Deployment":
        component = doc["metadata"]["labels"].get("app.kubernetes.io/component")
        main = spec["containers"][0]
        port = "http" if component == "api" else "metrics"
        live = main.get("livenessProbe", {}).get("httpGet", {})
        ready = main.get("readinessProbe", {}).get("httpGet", {})
        if live.get("path") != "/healthz" or live.get("port") != port:
            fail(f"{where}: liveness probe should be GET /healthz on port {port}")
        if not ready.get("path") or ready.get("port") != port:
            fail(f"{where}: readiness probe missing on port {port}")
        if component == "api" and ready.get("path") != "/readyz":
            fail(f"{where}: API readiness probe should be /readyz")
        if component in ("coordinator", "worker"):
            args = main.get("args", [])
            if "--metrics-port" not in args:
                fail(f"{where}: {component} runs without --metrics-port")
        if component == "worker" and spec.get("terminationGracePeriodSeconds", 30) < 90:
            fail(f"{where}: worker terminationGracePeriodSeconds below 90 (drain takes up to ~60 s)")
        inits = [c["name"] for c in spec.get("initContainers", [])]
        if "wait-for-schema" not in inits:
            note(f"{where}: no wait-for-schema initContainer (waitForSchema.enabled false?)")
        else:
            cmd = " ".join(spec["initContainers"][inits.index("wait-for-schema")]["command"])
            if "registrar migrate --check" not in cmd:
                fail(f"{where}: wait-for-schema does not run `registrar migrate --check`")


def check_networkpolicy(doc, where):
    egress = doc["spec"].get("egress", [])
    blocks = [p["ipBlock"] for rule in egress for p in rule.get("to", []) if "ipBlock" in p]
    world = [b for b in blocks if b["cidr"] == "0.0.0.0/0"]
    if not world:
        fail(f"{where}: no 0.0.0.0/0 egress for object stores")
    for b in world:
        missing = [r for r in PRIVATE if r not in b.get("except", [])]
        if missing:
            fail(f"{where}: 0.0.0.0/0 egress does not exclude {', '.join(missing)}")
    dns = [rule for rule in egress if any(p.get("port") == 53 for p in rule.get("ports", []))]
    if not dns:
        fail(f"{where}: no DNS egress")
    if "Egress" not in doc["spec"].get("policyTypes", []):
        fail(f"{where}: policyTypes lacks Egress")


def cmd_manifests(kube_version, *files):
    import kubernetes_validate
    counts = {}
    for path in files:
        docs = [d for d in yaml.safe_load_all(open(path)) if d]
        kinds = set()
        for doc in docs:
            where = f"{os.path.basename(path)}: {doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
            kinds.add(doc.get("kind"))
            key = (doc.get("apiVersion"), doc.get("kind"))
            if key in CRDS:
                check_crd(doc, where)
                counts["crd"] = counts.get("crd", 0) + 1
            else:
                try:
                    kubernetes_validate.validate(doc, kube_version, strict=True)
                    counts["k8s"] = counts.get("k8s", 0) + 1
                except kubernetes_validate.ValidationError as e:
                    fail(f"{where}: {'.'.join(map(str, e.path))}: {e.message}")
                except kubernetes_validate.SchemaNotFoundError:
                    fail(f"{where}: no Kubernetes schema for {key} and not a known CRD")
            check_pod_policy(doc, where)
            if doc.get("kind") == "NetworkPolicy":
                check_networkpolicy(doc, where)
        note(f"{os.path.basename(path)}: {len(docs)} manifests ({', '.join(sorted(kinds))})")
    # The validator must refuse a planted error, or the pass above proves nothing.
    import copy
    planted = None
    for path in files:
        for doc in yaml.safe_load_all(open(path)):
            if doc and doc.get("kind") == "Deployment":
                planted = copy.deepcopy(doc)
                break
        if planted:
            break
    if planted:
        planted["spec"]["template"]["spec"]["containers"][0]["imagePullPolcy"] = "Always"
        planted["spec"]["replicas"] = "two"
        try:
            kubernetes_validate.validate(planted, kube_version, strict=True)
            fail("kubernetes-validate accepted a Deployment with planted errors")
        except kubernetes_validate.ValidationError:
            note("negative test: a Deployment with a misspelt field and a string replicas is rejected")
    note(f"{counts.get('k8s', 0)} validated against the Kubernetes {kube_version} schemas (strict); "
         f"{counts.get('crd', 0)} CRD objects (ScaledObject, ServiceMonitor, PrometheusRule: no schema "
         f"in kubernetes-validate) checked structurally")
    finish()


# --- alerts --------------------------------------------------------------------------------

def metric_names(expr):
    names = set(re.findall(r"\b(registrar_[a-z0-9_]+)\b", expr))
    return names


def cmd_alerts(plain, chart_copy, rendered, runbooks_dir):
    if open(plain, "rb").read() != open(chart_copy, "rb").read():
        fail(f"{chart_copy} differs from {plain}: cp {plain} {chart_copy}")
    else:
        note(f"{chart_copy} is identical to {plain}")
    groups = yaml.safe_load(open(plain))["groups"]
    rules = [r for g in groups for r in g["rules"]]
    names = [r["alert"] for r in rules]
    if sorted(names) != sorted(ALERTS):
        fail(f"alerts are {sorted(names)}, expected {sorted(ALERTS)}")
    for r in rules:
        a = r["alert"]
        for m in metric_names(r["expr"]):
            base = re.sub(r"_(bucket|sum|count)$", "", m) if m.endswith(("_bucket", "_sum", "_count")) else m
            if m not in CONTRACT_METRICS and not (base in HISTOGRAMS and base != m):
                fail(f"{a}: metric {m} is not in the contract")
        if r.get("labels", {}).get("severity") not in ("critical", "warning", "info"):
            fail(f"{a}: severity label missing or unknown")
        ann = r.get("annotations", {})
        for k in ("summary", "description", "runbook_url"):
            if not ann.get(k):
                fail(f"{a}: annotation {k} missing")
        if ann.get("runbook_url") != f"runbooks/{a}.md":
            fail(f"{a}: runbook_url {ann.get('runbook_url')} (expected runbooks/{a}.md)")
        path = os.path.join(runbooks_dir, f"{a}.md")
        if not os.path.exists(path):
            fail(f"{a}: no runbook {path}")
            continue
        text = open(path).read()
        if not text.startswith(f"# {a}\n"):
            fail(f"{path}: the first line should be '# {a}'")
        heads = re.findall(r"^## (\w+)\s*$", text, re.M)
        if heads[:4] != RUNBOOK_SECTIONS:
            fail(f"{path}: sections are {heads}, expected {RUNBOOK_SECTIONS} in that order")
        for sec in RUNBOOK_SECTIONS:
            body = re.search(rf"^## {sec}\s*\n(.*?)(?=^## |\Z)", text, re.M | re.S)
            if not body or len(body.group(1).strip()) < 40:
                fail(f"{path}: section {sec} is empty")
    index = open(os.path.join(runbooks_dir, "README.md")).read()
    for a in ALERTS:
        if f"({a}.md)" not in index:
            fail(f"runbooks/README.md does not link {a}.md")
    # The chart's PrometheusRule (rendered with runbookBaseUrl empty) carries exactly these rules.
    docs = [d for d in yaml.safe_load_all(open(rendered)) if d and d.get("kind") == "PrometheusRule"]
    if len(docs) != 1:
        fail(f"{rendered}: expected one PrometheusRule, found {len(docs)}")
    elif docs[0]["spec"]["groups"] != groups:
        fail(f"{rendered}: the PrometheusRule's groups differ from {plain}")
    else:
        note(f"the chart's PrometheusRule carries the same {len(rules)} rules")
    if not failures:
        note(f"{len(rules)} alerts, contract metric names only, each with runbook_url and a runbook "
             f"with {'/'.join(RUNBOOK_SECTIONS)}")
    finish()


# --- runbook commands --------------------------------------------------------------------

# `registrar` as the command word: line start, after `--` (kubectl exec), `exec <service>`
# (docker compose exec api registrar …), a pipe, `;`, `&&`, or VAR=value prefixes.
COMMAND_RE = re.compile(
    r"(?:^|--\s+|\bexec\s+(?!-)\S+\s+|\|\s*|;\s*|&&\s*|\$\s+)(?:[A-Z_][A-Z0-9_]*=\S+\s+)*registrar((?:\s+[^\s|;&`)#]+)*)")


def code_fragments(text):
    """Fenced code blocks (line by line) and inline code spans."""
    frags = []
    fenced = re.compile(r"^[ \t]*```[^\n]*\n(.*?)^[ \t]*```", re.M | re.S)  # indented too (in lists)
    for m in fenced.finditer(text):
        body = m.group(1).replace("\\\n", " ")
        for line in body.splitlines():
            # A usage synopsis wrapped without a backslash: an indented line of options continues
            # the command above it.
            if frags and re.match(r"\s+\[?--?[a-z]", line) and "registrar" in frags[-1]:
                frags[-1] += " " + line.strip()
            else:
                frags.append(line)
    rest = fenced.sub("", text)
    # A code span may wrap onto the next line (not across a blank line): it is one fragment.
    frags.extend(span.replace("\n", " ") for span in re.findall(r"`([^`]+)`", rest) if "\n\n" not in span)
    return frags


def help_of(binary, path):
    p = subprocess.run([binary, *path, "--help"], capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout + p.stderr


def subcommands_in(help_text):
    m = re.search(r"^SUBCOMMANDS:\n(.*?)(?:\n\n(?!  )|\Z)", help_text, re.M | re.S)
    if not m:
        return set()
    return set(re.findall(r"^  ([a-z][a-z0-9-]*)(?:\s|$)", m.group(1), re.M))


def synopsis_to_words(line):
    """`validate M [--format json|csv]`, `dlq replay (--job J | --all)`: the alternatives of a
    synopsis are words, not pipes, and its brackets are not part of the flags."""
    out, depth = [], 0
    for ch in line:
        if ch in "[(":
            depth += 1
            out.append(" ")
        elif ch in "])":
            depth = max(0, depth - 1)
            out.append(" ")
        elif ch == "|" and depth > 0:
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def collect_commands(files, where_of=os.path.basename):
    """{"sub [args…]": {files}} for every `registrar …` command line in the files' code."""
    commands = {}
    for path in files:
        for frag in code_fragments(open(path).read()):
            for m in COMMAND_RE.finditer(synopsis_to_words(frag.strip())):
                tokens = m.group(1).split()
                if tokens and re.fullmatch(r"[a-z][a-z0-9-]*", tokens[0]):
                    commands.setdefault(" ".join(tokens), set()).add(where_of(path))
    return commands


_help_cache = {}


def command_problem(binary, line):
    """None when `registrar LINE` names a real (sub)subcommand of BINARY and only flags its --help
    lists; else what is wrong."""
    def help_for(path):
        key = (binary, tuple(path))
        if key not in _help_cache:
            _help_cache[key] = help_of(binary, list(path))
        return _help_cache[key]

    tokens = line.split()
    path = []
    subs = subcommands_in(help_for(())[1])
    problem = None
    for tok in tokens:
        if tok.startswith("-") or not re.fullmatch(r"[a-z][a-z0-9-]*", tok):
            break
        if subs and tok in subs:
            path.append(tok)
            rc, text = help_for(path)
            if rc != 0:
                problem = f"`registrar {' '.join(path)} --help` exited {rc}"
                break
            subs = subcommands_in(text)
            continue
        if subs:
            problem = f"`registrar {' '.join(path + [tok])}`: no such subcommand"
        break
    if problem is None and not path:
        problem = f"`registrar {tokens[0]}`: no such subcommand"
    if problem is None:
        rc, text = help_for(path)
        for flag in [t.split("=")[0] for t in tokens if t.startswith("--")]:
            if flag != "--help" and not re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", text):
                problem = f"`registrar {' '.join(path)}` has no option {flag}"
                break
    return problem


def check_commands(binary, commands, what):
    if not commands:
        fail(f"no `registrar …` command found in {what}")
    rc, _ = help_of(binary, [])
    if rc != 0:
        fail(f"{binary} --help exited {rc}")
        finish()
    missing = {}
    for line, where in sorted(commands.items()):
        problem = command_problem(binary, line)
        if problem:
            missing.setdefault(problem, set()).update(where)
        else:
            note(f"ok    registrar {line}")
    for problem, where in sorted(missing.items()):
        fail(f"{problem} (used in {', '.join(sorted(where))})")
    note(f"{len(commands)} distinct `registrar` command lines checked against {binary}; {len(missing)} problem(s)")
    # The checker must refuse a planted unknown subcommand and an unknown flag, or the pass above
    # proves nothing.
    planted = ["no-such-command --json", "status JOB --no-such-flag"]
    caught = [line for line in planted if command_problem(binary, line)]
    if caught != planted:
        fail(f"the command check accepted planted bad lines: {sorted(set(planted) - set(caught))}")
    else:
        note("negative test: `registrar no-such-command` and `registrar status --no-such-flag` are refused")


def cmd_runbooks(binary, *files):
    check_commands(binary, collect_commands(files), "the runbooks")
    finish()


# --- docs: README.md and docs/*.md -----------------------------------------------------------

FENCE_RE = re.compile(r"^[ \t]*(```|~~~)[^\n]*\n.*?^[ \t]*\1[^\n]*$", re.M | re.S)
INLINE_LINK_RE = re.compile(r"!?\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
REF_DEF_RE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.M)
AUTOLINK_RE = re.compile(r"<([a-zA-Z][a-zA-Z0-9+.-]*:[^>\s]*)>")
BARE_URL_RE = re.compile(r"\b(?:https?://|www\.)[^\s)>\]]+")
SCHEME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def prose_of(text):
    """The text outside fenced code blocks and inline code spans (links in code are not links)."""
    text = FENCE_RE.sub("", text)
    return re.sub(r"(`+)(?:(?!\1).)+?\1", "", text, flags=re.S)


def heading_slugs(text):
    """GitHub's anchors for the headings of a markdown text (a repeated one gets -1, -2, …)."""
    slugs, seen = set(), {}
    for m in re.finditer(r"^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$", FENCE_RE.sub("", text), re.M):
        slug = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        slugs.add(slug if n == 0 else f"{slug}-{n}")
    return slugs


def link_problems(path, text, root):
    """What is wrong with the links of one markdown file: a link (or a bare URL, which GitHub turns
    into one) to anything outside the repository, a relative link to a file that does not exist
    or lies outside ROOT, an anchor no heading of its target has."""
    problems = []
    prose = prose_of(text)
    targets = [m.group(2) for m in INLINE_LINK_RE.finditer(prose)] + REF_DEF_RE.findall(prose)
    for url in AUTOLINK_RE.findall(prose):
        problems.append(f"{path}: <{url}> points outside the repository")
    for url in BARE_URL_RE.findall(INLINE_LINK_RE.sub("", AUTOLINK_RE.sub("", prose))):
        url = url.rstrip(".,;:")
        problems.append(f"{path}: bare URL {url} (GitHub links it) points outside the repository; put it in `code` if it is an example")
    root = os.path.realpath(root)
    for target in targets:
        if not target:
            problems.append(f"{path}: empty link target")
            continue
        if SCHEME_RE.match(target) or target.startswith("//"):
            problems.append(f"{path}: link to {target} points outside the repository (links must be relative paths of this repo)")
            continue
        if target.startswith("/"):
            problems.append(f"{path}: link to {target} is absolute; make it relative to {os.path.dirname(path) or '.'}")
            continue
        file_part, _, anchor = target.partition("#")
        dest = os.path.realpath(os.path.join(os.path.dirname(path), file_part)) if file_part else os.path.realpath(path)
        if os.path.commonpath([root, dest]) != root:
            problems.append(f"{path}: link to {target} leaves the repository")
            continue
        if not os.path.exists(dest):
            problems.append(f"{path}: link to {target}: no such file")
            continue
        if anchor and dest.endswith(".md") and anchor not in heading_slugs(open(dest).read()):
            problems.append(f"{path}: link to {target}: {os.path.relpath(dest, root)} has no heading #{anchor}")
    return problems, len(targets)


def cmd_links(root, *files):
    total = 0
    for path in files:
        problems, n = link_problems(path, open(path).read(), root)
        total += n
        for p in problems:
            fail(p)
    note(f"{len(files)} files, {total} links: every one relative, inside the repository and resolving"
         if not failures else f"{len(files)} files, {total} links checked")
    # The checker must refuse planted bad links, or the pass above proves nothing.
    planted = ("[a](https://example.com/x) <https://example.com> see https://example.com/y\n"
               "[b](no-such-file.md) [c](README.md#no-such-heading) [d](/etc/passwd) [e](../../../../etc/passwd)\n")
    probe = os.path.join(root, "planted-links-check.md")
    problems, _ = link_problems(probe, planted, root)
    if len(problems) != 7:
        fail(f"the link check found {len(problems)} of 7 planted bad links: {problems}")
    else:
        note("negative test: 7 planted bad links (http, autolink, bare URL, missing file, missing anchor, absolute, outside) are refused")
    finish()


def cmd_docs(binary, *files):
    check_commands(binary, collect_commands(files, where_of=lambda p: p), "README.md and docs/")
    finish()


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(2)
    cmd, args = sys.argv[1], sys.argv[2:]
    {
        "compose": cmd_compose,
        "values-docs": cmd_values_docs,
        "manifests": cmd_manifests,
        "alerts": cmd_alerts,
        "runbooks": cmd_runbooks,
        "docs": cmd_docs,
        "links": cmd_links,
    }[cmd](*args)


if __name__ == "__main__":
    main()
