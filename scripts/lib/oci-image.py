#!/usr/bin/env python3
"""Writes a container image as one tar that `podman load`, `docker load` and `skopeo` read: an OCI
image layout (oci-layout, index.json, blobs/sha256/...) with Docker's manifest.json beside it,
both naming the same config and layers. Used by scripts/image (docs/install.md, "Container image").

Each layer is a directory on disk written as a gzip'd tar: entries sorted by name, every time set
to --mtime, every owner root (0:0, no names) except the paths given with --owner, so the same
inputs give the same layer digests. The config is the JSON given with --config (the image's
settings, labels and history) with rootfs.diff_ids filled in: the sha256 of each layer's
uncompressed tar, as the OCI image spec asks; the manifest and the index name each blob by the
sha256 of what is stored.

  oci-image.py --config config.json --tag whack:1.0 --mtime 1700000000 \
      --layer rootfs/ --layer java/ --owner var/lib/whack=11211:11211 --output image.tar
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile
import tempfile

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"


class HashingWriter(io.RawIOBase):
    """A write-only stream that hashes and counts what passes through it to `sink`."""

    def __init__(self, sink):
        self.sink = sink
        self.sha256 = hashlib.sha256()
        self.size = 0

    def writable(self):
        return True

    def write(self, data):
        self.sink.write(data)
        self.sha256.update(data)
        self.size += len(data)
        return len(data)


def write_layer(directory, blob_dir, mtime, owners):
    """Writes `directory` as a gzip'd tar into blob_dir; returns (digest, size, diff_id)."""
    temporary = os.path.join(blob_dir, "layer.tmp")
    with open(temporary, "wb") as out:
        stored = HashingWriter(out)
        # No file name and a fixed time in the gzip header: the same tar gives the same blob.
        with gzip.GzipFile(filename="", mode="wb", fileobj=stored, mtime=0, compresslevel=6) as gz:
            plain = HashingWriter(gz)
            with tarfile.open(fileobj=plain, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                for path, name in sorted_entries(directory):
                    info = tar.gettarinfo(path, arcname=name)
                    info.mtime = mtime
                    info.uid, info.gid = owners.get(name, (0, 0))
                    info.uname = info.gname = ""
                    if info.isreg():
                        with open(path, "rb") as data:
                            tar.addfile(info, data)
                    else:
                        tar.addfile(info)
    digest = stored.sha256.hexdigest()
    os.replace(temporary, os.path.join(blob_dir, digest))
    return "sha256:" + digest, stored.size, "sha256:" + plain.sha256.hexdigest()


def sorted_entries(directory):
    """Yields (path, name in the layer) for everything under directory: each directory's entries
    by name, a directory before what it holds; a link to a directory is an entry, not followed."""

    def walk(path, prefix):
        for entry in sorted(os.listdir(path)):
            full, name = os.path.join(path, entry), prefix + entry
            yield full, name
            if os.path.isdir(full) and not os.path.islink(full):
                yield from walk(full, name + "/")

    yield from walk(directory, "")


def write_blob(blob_dir, data):
    """Stores bytes as a blob; returns (digest, size)."""
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blob_dir, digest), "wb") as out:
        out.write(data)
    return "sha256:" + digest, len(data)


def canonical(value):
    return (json.dumps(value, indent=2, sort_keys=True) + "\n").encode()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True, help="the image config JSON, without rootfs")
    parser.add_argument("--layer", action="append", required=True, help="a directory, lowest first")
    parser.add_argument("--owner", action="append", default=[], help="PATH=UID:GID in a layer")
    parser.add_argument("--tag", required=True, help="NAME:TAG the loaded image gets")
    parser.add_argument("--mtime", type=int, default=0, help="the time of every entry (epoch s)")
    parser.add_argument("--output", required=True, help="the image tar to write")
    args = parser.parse_args()

    owners = {}
    for owner in args.owner:
        path, ids = owner.split("=", 1)
        uid, gid = ids.split(":", 1)
        owners[path.strip("/")] = (int(uid), int(gid))
    name, tag = args.tag.rsplit(":", 1)

    with open(args.config, encoding="utf-8") as f:
        config = json.load(f)

    staging = tempfile.mkdtemp(prefix="oci-image.", dir=os.path.dirname(os.path.abspath(args.output)))
    try:
        blob_dir = os.path.join(staging, "blobs", "sha256")
        os.makedirs(blob_dir)
        layers = []
        for directory in args.layer:
            digest, size, diff_id = write_layer(directory, blob_dir, args.mtime, owners)
            layers.append({"mediaType": OCI_LAYER_GZIP, "digest": digest, "size": size, "diff_id": diff_id})
        config["rootfs"] = {"type": "layers", "diff_ids": [layer["diff_id"] for layer in layers]}
        config_digest, config_size = write_blob(blob_dir, canonical(config))
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": config_size},
            "layers": [{k: layer[k] for k in ("mediaType", "digest", "size")} for layer in layers],
            "annotations": {k: v for k, v in config["config"].get("Labels", {}).items()
                            if k.startswith("org.opencontainers.image.")},
        }
        manifest_digest, manifest_size = write_blob(blob_dir, canonical(manifest))
        index = {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [{
                "mediaType": OCI_MANIFEST,
                "digest": manifest_digest,
                "size": manifest_size,
                "platform": {"architecture": config["architecture"], "os": config["os"]},
                # podman and skopeo take the name from ref.name; containerd (docker 25+ with the
                # containerd store, nerdctl) from io.containerd.image.name.
                "annotations": {
                    "org.opencontainers.image.ref.name": f"{name}:{tag}",
                    "io.containerd.image.name": f"docker.io/library/{name}:{tag}",
                },
            }],
        }
        # docker load (every version): the config and the layers by path, the tag to give.
        docker_manifest = [{
            "Config": "blobs/sha256/" + config_digest.split(":", 1)[1],
            "RepoTags": [f"{name}:{tag}"],
            "Layers": ["blobs/sha256/" + layer["digest"].split(":", 1)[1] for layer in layers],
        }]
        with open(os.path.join(staging, "oci-layout"), "wb") as f:
            f.write(json.dumps({"imageLayoutVersion": "1.0.0"}).encode() + b"\n")
        with open(os.path.join(staging, "index.json"), "wb") as f:
            f.write(canonical(index))
        with open(os.path.join(staging, "manifest.json"), "wb") as f:
            f.write(canonical(docker_manifest))

        temporary = args.output + ".tmp"
        with tarfile.open(temporary, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for top in ("oci-layout", "index.json", "manifest.json", "blobs"):
                tar.add(os.path.join(staging, top), arcname=top, recursive=False,
                        filter=lambda info: fixed(info, args.mtime))
            tar.add(os.path.join(staging, "blobs", "sha256"), arcname="blobs/sha256", recursive=False,
                    filter=lambda info: fixed(info, args.mtime))
            for blob in sorted(os.listdir(blob_dir)):
                tar.add(os.path.join(blob_dir, blob), arcname="blobs/sha256/" + blob,
                        filter=lambda info: fixed(info, args.mtime))
        os.replace(temporary, args.output)
        print(f"{args.output}: {name}:{tag}, manifest {manifest_digest}, "
              f"{len(layers)} layers ({sum(layer['size'] for layer in layers)} bytes gzip'd)")
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def fixed(info, mtime):
    info.mtime = mtime
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if info.isdir():
        info.mode = 0o755
    else:
        info.mode = 0o644
    return info


if __name__ == "__main__":
    sys.exit(main())
