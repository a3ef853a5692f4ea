#!/usr/bin/python3
"""A docker-archive of LAYERS layers of mixed files for bench/pull.sh: per layer, incompressible
files (random bytes, 4 KiB to 4 MiB) and text files (words, compressing about 2.2:1), sized so the
gzip-compressed image is about TOTAL_MIB. Layer tars are uncompressed; skopeo gzips them on push.

usage: make_pull_image.py OUT.tar [TOTAL_MIB=300] [LAYERS=5]
"""
import hashlib
import io
import json
import os
import random
import sys
import tarfile

out = sys.argv[1]
total = int(sys.argv[2]) if len(sys.argv) > 2 else 300
layers = int(sys.argv[3]) if len(sys.argv) > 3 else 5
rng = random.Random(42)
words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 10)))
         for _ in range(5000)]

# Per layer: random bytes are 55% of the compressed size, text (gzip gets about 2.2:1 on these
# words) the other 45%.
per = total / layers
rand_mib = per * 0.55
text_mib = per * 0.45 * 2.2


def text(n):
    parts = []
    size = 0
    while size < n:
        line = " ".join(rng.choices(words, k=12)) + "\n"
        parts.append(line)
        size += len(line)
    return "".join(parts).encode()[:n]


def layer_tar(i):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        def add(name, data):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mode = 0o644
            ti.mtime = 1700000000
            t.addfile(ti, io.BytesIO(data))
        d = tarfile.TarInfo("layer%d" % i)
        d.type = tarfile.DIRTYPE
        d.mode = 0o755
        d.mtime = 1700000000
        t.addfile(d)
        left, k = int(rand_mib * 2**20), 0
        while left > 0:
            n = min(left, rng.choice([4096, 65536, 262144, 1 << 20, 4 << 20]))
            add("layer%d/bin/blob%04d" % (i, k), os.urandom(n))
            left -= n
            k += 1
        left, k = int(text_mib * 2**20), 0
        chunk = text(1 << 20)
        while left > 0:
            n = min(left, rng.choice([2048, 16384, 131072, 1 << 20]))
            off = rng.randint(0, len(chunk) - 1)
            data = (chunk[off:] + chunk[:off])[:n]
            add("layer%d/share/doc%05d.txt" % (i, k), data)
            left -= n
            k += 1
    return buf.getvalue()


with tarfile.open(out, "w") as arch:
    def put(name, data):
        ti = tarfile.TarInfo(name)
        ti.size = len(data)
        ti.mode = 0o644
        arch.addfile(ti, io.BytesIO(data))
    diff_ids, names = [], []
    for i in range(layers):
        data = layer_tar(i)
        h = hashlib.sha256(data).hexdigest()
        put(h + ".tar", data)
        diff_ids.append("sha256:" + h)
        names.append(h + ".tar")
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "config": {"Cmd": ["/bin/sh"]},
                         "rootfs": {"type": "layers", "diff_ids": diff_ids},
                         "history": [{"created_by": "bench layer %d" % i} for i in range(layers)]
                         }).encode()
    ch = hashlib.sha256(config).hexdigest()
    put(ch + ".json", config)
    put("manifest.json", json.dumps([{"Config": ch + ".json", "RepoTags": ["bench/pull:1"],
                                      "Layers": names}]).encode())
