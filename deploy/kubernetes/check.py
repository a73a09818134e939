#!/usr/bin/env python3
"""Syntax check of the Kubernetes manifests (no cluster runs here): each file parses as
YAML, each document has apiVersion, kind and metadata.name, the supervisor config in the
ConfigMap parses too, and the names the objects use to refer to each other exist.
   deploy/kubernetes/check.py [SUPERVISOR]  (with the binary: `supervisor check` of the
   embedded config too)"""
import pathlib, subprocess, sys, tempfile
import yaml

here = pathlib.Path(__file__).parent
docs = []
for f in sorted(here.glob("*.yaml")):
    for d in yaml.safe_load_all(f.read_text()):
        if d is None:
            continue
        for key in ("apiVersion", "kind"):
            assert key in d, f"{f.name}: a document without {key}"
        assert d.get("metadata", {}).get("name"), f"{f.name}: a {d['kind']} without metadata.name"
        docs.append((f.name, d))
by_kind = {}
for name, d in docs:
    by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
config = by_kind["ConfigMap"]["chat-handoff"]["data"]["handoff.yaml"]
yaml.safe_load(config)
sts = by_kind["StatefulSet"]["chat"]
assert sts["spec"]["serviceName"] in by_kind["Service"], "the StatefulSet's serviceName is a Service"
assert by_kind["Service"][sts["spec"]["serviceName"]]["spec"].get("clusterIP") == "None", "headless"
volumes = {v["configMap"]["name"] for v in sts["spec"]["template"]["spec"]["volumes"] if "configMap" in v}
assert volumes <= set(by_kind["ConfigMap"]), f"ConfigMaps {volumes}"
for rule in by_kind["Ingress"]["chat"]["spec"]["rules"]:
    for p in rule["http"]["paths"]:
        assert p["backend"]["service"]["name"] in by_kind["Service"], "the Ingress's Service"
if len(sys.argv) > 1:
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as t:
        t.write(config.replace("/app/examples/chat/server.js", str(here.parent.parent / "examples/chat/server.js")))
        t.flush()
        subprocess.run([sys.argv[1], "check", t.name], check=True)
print(f"deploy/kubernetes: {len(docs)} documents in {len(list(here.glob('*.yaml')))} files: ok")
