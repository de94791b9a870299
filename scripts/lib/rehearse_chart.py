#!/usr/bin/env python3
"""Runs the Helm chart's workloads as `docker run`s (step 3 of scripts/rehearse).

Usage: rehearse_chart.py RENDERED.yaml LABEL IMAGE NETWORK SECRETS.json BIN_STRINGS WORKDIR

For every Job and Deployment in RENDERED.yaml (the output of `helm template`), with the pod as
the chart renders it:
  - env: `value`, `valueFrom.secretKeyRef` / `configMapKeyRef` (resolved from the rendered Secrets
    and ConfigMaps, else from SECRETS.json: the Secrets a user creates beforehand, as the chart's
    README says), `envFrom` of both kinds; every REGISTRAR_* name set must be one the binary
    reads (it appears in BIN_STRINGS, the `strings` of the binary in IMAGE);
  - volumes: Secret and ConfigMap volumes become read-only bind mounts with the rendered
    items/paths, mode and fsGroup ownership; emptyDir becomes a tmpfs;
  - securityContext: runAsUser/runAsGroup (--user), readOnlyRootFilesystem (--read-only),
    capabilities drop ALL (--cap-drop ALL), allowPrivilegeEscalation false (no-new-privileges),
    the memory limit (--memory);
  - command/args exactly as rendered, initContainers first (each must exit 0);
  - a Job must exit 0; a Deployment's container must answer its readinessProbe and livenessProbe
    (httpGet path on the named or numbered port, published on 127.0.0.1 only) with 200 within
    the probe's budget, then stop cleanly on SIGTERM within terminationGracePeriodSeconds.
Prints "ok   NAME" / "FAIL NAME" per check and closes with "chart: N checks passed, N failed".
"""
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request

import yaml

DOCKER = os.environ.get("DOCKER", "docker")
rendered_path, label, image, network, secrets_path, strings_path, workdir = sys.argv[1:8]
docs = [d for d in yaml.safe_load_all(open(rendered_path)) if d]
external = json.load(open(secrets_path))
bin_strings = set(open(strings_path).read().split())
passed = failed = 0
started = []  # container names to remove at the end


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   [{label}] {name}" + (f" ({detail})" if detail else ""))
    else:
        failed += 1
        print(f"FAIL [{label}] {name}" + (f": {detail}" if detail else ""))
    sys.stdout.flush()
    return ok


def docker(*args, check_rc=False, timeout=None):
    r = subprocess.run([DOCKER, *args], capture_output=True, text=True, timeout=timeout)
    if check_rc and r.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args[:3])}…: {r.stderr.strip()}")
    return r


secrets = {}
configmaps = {}
for d in docs:
    if d.get("kind") == "Secret":
        import base64
        data = {k: base64.b64decode(v).decode() for k, v in (d.get("data") or {}).items()}
        data.update(d.get("stringData") or {})
        secrets[d["metadata"]["name"]] = data
    elif d.get("kind") == "ConfigMap":
        configmaps[d["metadata"]["name"]] = {k: str(v) for k, v in (d.get("data") or {}).items()}
for name, data in external.items():
    secrets.setdefault(name, data)


def lookup(kind, ref):
    store = secrets if kind == "secret" else configmaps
    obj = store.get(ref["name"])
    if obj is None or ref["key"] not in obj:
        raise KeyError(f"{kind} {ref['name']} has no key {ref['key']}")
    return obj[ref["key"]]


def container_env(c):
    env = {}
    for src in c.get("envFrom") or []:
        if "configMapRef" in src:
            env.update(configmaps.get(src["configMapRef"]["name"], {}))
        if "secretRef" in src:
            env.update(secrets.get(src["secretRef"]["name"], {}))
    for e in c.get("env") or []:
        if "value" in e:
            env[e["name"]] = str(e["value"])
        elif "secretKeyRef" in e.get("valueFrom", {}):
            env[e["name"]] = lookup("secret", e["valueFrom"]["secretKeyRef"])
        elif "configMapKeyRef" in e.get("valueFrom", {}):
            env[e["name"]] = lookup("configmap", e["valueFrom"]["configMapKeyRef"])
        elif "fieldRef" in e.get("valueFrom", {}):
            env[e["name"]] = "rehearsal-pod"
        else:
            raise KeyError(f"env {e['name']}: unsupported source {e}")
    return env


def volume_mounts(pod, c, wl_dir, fs_group):
    args = []
    vols = {v["name"]: v for v in pod.get("volumes") or []}
    for m in c.get("volumeMounts") or []:
        v = vols[m["name"]]
        ro = ",readonly" if m.get("readOnly") else ""
        if "emptyDir" in v:
            args += ["--tmpfs", f"{m['mountPath']}:rw,mode=1777"]
            continue
        if "secret" in v or "configMap" in v:
            kind = "secret" if "secret" in v else "configmap"
            spec = v.get("secret") or v.get("configMap")
            obj_name = spec.get("secretName") or spec.get("name")
            store = secrets if kind == "secret" else configmaps
            obj = store.get(obj_name)
            if obj is None:
                raise KeyError(f"volume {m['name']}: {kind} {obj_name} does not exist")
            items = spec.get("items") or [{"key": k, "path": k} for k in obj]
            host = os.path.join(wl_dir, m["name"])
            os.makedirs(host, exist_ok=True)
            mode = spec.get("defaultMode", 0o644)
            for it in items:
                if it["key"] not in obj:
                    raise KeyError(f"volume {m['name']}: {kind} {obj_name} has no key {it['key']}")
                p = os.path.join(host, it["path"])
                os.makedirs(os.path.dirname(p), exist_ok=True)
                with open(p, "w") as f:
                    f.write(obj[it["key"]])
                os.chmod(p, it.get("mode", mode))
                if fs_group is not None:
                    os.chown(p, 0, fs_group)
            os.chmod(host, 0o755)
            src = host
            if m.get("subPath"):
                src = os.path.join(host, m["subPath"])
            args += ["--mount", f"type=bind,source={src},target={m['mountPath']}{ro}"]
            continue
        raise KeyError(f"volume {m['name']}: unsupported kind {list(v)}")
    return args


def security_args(pod, c):
    psc = pod.get("securityContext") or {}
    sc = c.get("securityContext") or {}
    uid = sc.get("runAsUser", psc.get("runAsUser"))
    gid = sc.get("runAsGroup", psc.get("runAsGroup"))
    args = []
    if uid is not None:
        args += ["--user", f"{uid}:{gid if gid is not None else uid}"]
    if psc.get("fsGroup") is not None:
        args += ["--group-add", str(psc["fsGroup"])]
    if sc.get("readOnlyRootFilesystem"):
        args.append("--read-only")
    if "ALL" in ((sc.get("capabilities") or {}).get("drop") or []):
        args += ["--cap-drop", "ALL"]
    if sc.get("allowPrivilegeEscalation") is False:
        args += ["--security-opt", "no-new-privileges"]
    mem = ((c.get("resources") or {}).get("limits") or {}).get("memory")
    if mem:
        args += ["--memory", mem.replace("Mi", "m").replace("Gi", "g")]
    return args


def run_args(wl_name, pod, c, wl_dir, extra=()):
    env = container_env(c)
    unread = sorted(k for k in env if k.startswith("REGISTRAR_") and k not in bin_strings)
    check(f"{wl_name}/{c['name']}: every REGISTRAR_* variable set is one the binary reads", not unread,
          ", ".join(unread) if unread else f"{sum(k.startswith('REGISTRAR_') for k in env)} variables")
    env_file = os.path.join(wl_dir, f"{c['name']}.env")
    with open(env_file, "w") as f:
        for k, v in env.items():
            f.write(f"{k}={v}\n")
    os.chmod(env_file, 0o600)
    args = ["--network", network, "--env-file", env_file]
    args += security_args(pod, c)
    args += volume_mounts(pod, c, wl_dir, (pod.get("securityContext") or {}).get("fsGroup"))
    args += list(extra)
    if c.get("command"):
        args += ["--entrypoint", c["command"][0], image, *c["command"][1:], *(c.get("args") or [])]
    else:
        args += [image, *(c.get("args") or [])]
    return args


def http_status(url):
    try:
        with urllib.request.urlopen(url, timeout=3) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except Exception:
        return None


def port_number(c, port):
    if isinstance(port, int):
        return port
    for p in c.get("ports") or []:
        if p.get("name") == port:
            return p["containerPort"]
    raise KeyError(f"probe port {port!r} is not a named port of container {c['name']}")


def logs_tail(name, n=3):
    r = docker("logs", "--tail", str(n), name)
    return " | ".join(line[:200] for line in (r.stdout + r.stderr).strip().splitlines()[-n:])


def run_init(wl, pod, wl_dir):
    for ic in pod.get("initContainers") or []:
        name = f"rehearsal-{label}-{wl}-{ic['name']}"
        docker("rm", "-f", name)
        started.append(name)
        t0 = time.monotonic()
        r = docker("run", "--name", name, *run_args(wl, pod, ic, wl_dir), timeout=120)
        ok = r.returncode == 0
        check(f"{wl}: initContainer {ic['name']} exits 0", ok,
              f"{time.monotonic() - t0:.1f} s" if ok else f"exit {r.returncode}: {(r.stdout + r.stderr).strip()[-300:]}")
        if not ok:
            return False
    return True


# The migration Job first (it is a post-install hook: the Deployments' init containers wait for it).
job_failed = False
for d in sorted(docs, key=lambda d: d.get("kind") != "Job"):
    kind = d.get("kind")
    if kind not in ("Job", "Deployment"):
        continue
    wl = d["metadata"]["name"]
    pod = d["spec"]["template"]["spec"]
    wl_dir = os.path.join(workdir, f"{label}-{wl}")
    shutil.rmtree(wl_dir, ignore_errors=True)
    os.makedirs(wl_dir)
    if kind == "Deployment" and job_failed:
        # Their init containers would wait for the schema forever.
        check(f"Deployment {wl}: runs as rendered", False, "not run: the migration Job failed")
        continue
    try:
        if not run_init(wl, pod, wl_dir):
            continue
        for c in pod["containers"]:
            cname = f"rehearsal-{label}-{wl}-{c['name']}"
            docker("rm", "-f", cname)
            started.append(cname)
            if kind == "Job":
                t0 = time.monotonic()
                r = docker("run", "--name", cname, *run_args(wl, pod, c, wl_dir), timeout=300)
                job_failed = job_failed or r.returncode != 0
                check(f"Job {wl}: {c['name']} {' '.join(c.get('args') or c.get('command') or [])} exits 0",
                      r.returncode == 0,
                      f"{time.monotonic() - t0:.1f} s" if r.returncode == 0 else f"exit {r.returncode}: {(r.stdout + r.stderr).strip()[-300:]}")
                continue
            probes = {k: c[k] for k in ("readinessProbe", "livenessProbe", "startupProbe") if k in c}
            publish = []
            for p in probes.values():
                if "httpGet" not in p:
                    continue
                publish.append(port_number(c, p["httpGet"]["port"]))
            for p in c.get("ports") or []:
                publish.append(p["containerPort"])
            extra = []
            for port in sorted(set(publish)):
                extra += ["-p", f"127.0.0.1::{port}"]
            t0 = time.monotonic()
            r = docker("run", "-d", "--name", cname, *run_args(wl, pod, c, wl_dir, extra))
            if not check(f"Deployment {wl}: container {c['name']} starts", r.returncode == 0, r.stderr.strip()[-300:]):
                continue
            for pname in ("readinessProbe", "livenessProbe"):
                p = probes.get(pname)
                if not check(f"Deployment {wl}: {c['name']} has an httpGet {pname}", p is not None and "httpGet" in p):
                    continue
                port = port_number(c, p["httpGet"]["port"])
                hp = docker("port", cname, f"{port}/tcp").stdout.strip().splitlines()
                host_port = hp[0].rsplit(":", 1)[1] if hp else None
                # The probe's own budget: initial delay + period x failureThreshold, and at least
                # 60 s on a loaded machine (the servers are local and already up).
                budget = max(60, p.get("initialDelaySeconds", 0) + p.get("periodSeconds", 10) * p.get("failureThreshold", 3))
                status, deadline = None, time.monotonic() + budget
                while time.monotonic() < deadline and host_port:
                    status = http_status(f"http://127.0.0.1:{host_port}{p['httpGet']['path']}")
                    if status == 200:
                        break
                    running = docker("inspect", "-f", "{{.State.Running}}", cname).stdout.strip()
                    if running != "true":
                        break
                    time.sleep(0.25)
                elapsed = time.monotonic() - t0
                if pname == "readinessProbe" and status == 200:
                    print(f"     [{label}] {wl}: ready {elapsed:.1f} s after docker run")
                check(f"Deployment {wl}: {c['name']} answers {pname} GET {p['httpGet']['path']} on port "
                      f"{p['httpGet']['port']} ({port}) with 200", status == 200,
                      f"{elapsed:.1f} s" if status == 200 else f"last answer {status}; logs: {logs_tail(cname)}")
            grace = pod.get("terminationGracePeriodSeconds", 30)
            t1 = time.monotonic()
            docker("stop", "-t", str(grace), cname, timeout=grace + 30)
            code = docker("inspect", "-f", "{{.State.ExitCode}}", cname).stdout.strip()
            took = time.monotonic() - t1
            check(f"Deployment {wl}: {c['name']} stops on SIGTERM within its {grace} s grace period",
                  took < grace and code == "0", f"exit {code} after {took:.1f} s")
    except (KeyError, RuntimeError, subprocess.TimeoutExpired) as e:
        job_failed = job_failed or kind == "Job"
        check(f"{kind} {wl}: runs as rendered", False, str(e))

for name in started:
    docker("rm", "-f", name)
print(f"chart: {passed} checks passed, {failed} failed")
sys.exit(1 if failed else 0)
