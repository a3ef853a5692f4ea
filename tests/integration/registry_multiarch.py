#!/usr/bin/python3
"""Turn the one-image OCI layout DIR (as skopeo writes it) into an index of two images, arm64/v8
and amd64 (the same layers, configs differing in their architecture), named REF in index.json.

usage: registry_multiarch.py DIR REF
"""
import hashlib
import json
import os
import sys

d, ref = sys.argv[1:3]


def blob(b):
    h = hashlib.sha256(b).hexdigest()
    with open(os.path.join(d, "blobs/sha256", h), "wb") as f:
        f.write(b)
    return "sha256:" + h


def read(dg):
    with open(os.path.join(d, "blobs/sha256", dg.split(":")[1]), "rb") as f:
        return f.read()


with open(os.path.join(d, "index.json")) as f:
    idx = json.load(f)
man = json.loads(read(idx["manifests"][0]["digest"]))
entries = []
for arch, variant in (("arm64", "v8"), ("amd64", None)):
    cfg = json.loads(read(man["config"]["digest"]))
    cfg["architecture"] = arch
    if variant:
        cfg["variant"] = variant
    cb = json.dumps(cfg).encode()
    m = dict(man, config=dict(man["config"], digest=blob(cb), size=len(cb)))
    mb = json.dumps(m).encode()
    plat = {"os": "linux", "architecture": arch}
    if variant:
        plat["variant"] = variant
    entries.append({"mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": blob(mb), "size": len(mb), "platform": plat})
ib = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                 "manifests": entries}).encode()
idx["manifests"] = [{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": blob(ib),
                     "size": len(ib), "annotations": {"org.opencontainers.image.ref.name": ref}}]
with open(os.path.join(d, "index.json"), "w") as f:
    json.dump(idx, f)
