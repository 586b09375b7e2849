#!/usr/bin/env python3
"""Build the deployment images offline: base images from debootstrap roots (`docker import`),
Python wheels built on the host (`pip wheel`), then the Dockerfiles on top.

    python3 docker/build.py            # base images, wheels and the three images (cached)
    python3 docker/build.py --print    # the image tags the current sources map to

No container registry is needed. Every step is cached by a content hash:
- base images `callcenter-base:<suite>-<hash>` from a debootstrap root of the packages below,
  built from the mirror this machine's apt sources name (`scripts/apt_mirror.py`); the sid base
  reuses the Asterisk sandbox root when it is already built;
- wheels in /var/cache/callcenter/wheels-<hash of pyproject.toml>;
- images `callcenter-app:<hash>`, `callcenter-asterisk:<hash>`, `callcenter-services:<hash>`,
  where the hash covers the Dockerfile, the base and every file copied in: an image whose tag
  exists is not built again.
On a normal machine, `docker build --build-arg BASE=debian:bookworm -f docker/callcenter.Dockerfile .`
works without this script (the Dockerfiles install what the base lacks with apt-get).
Uses only the standard library (runs with the system python3).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("CALLCENTER_ASTERISK_CACHE", "/var/cache/callcenter"))
CONTEXT = REPO / "docker" / ".build"

# what each base needs; the Dockerfiles apt-get install the same lists when the base lacks them
BASES = {
    "bookworm": ("python3", "python3-venv", "ca-certificates", "espeak-ng", "sox", "libsox-fmt-base",
                 "postgresql", "redis-server", "mosquitto", "sip-tester"),
    # the same package list as callcenter/infra/sandbox.py: the sandbox root is reused as is
    "sid": ("asterisk", "asterisk-core-sounds-en-gsm", "asterisk-moh-opsound-gsm"),
}
# image name -> (Dockerfile, base suite, files and folders copied in)
IMAGES = {
    "callcenter-app": ("callcenter.Dockerfile", "bookworm",
                       ("callcenter", "ivr_flows", "asterisk_conf", "pyproject.toml")),
    "callcenter-asterisk": ("asterisk.Dockerfile", "sid", ("docker/asterisk-entrypoint.sh",)),
    "callcenter-services": ("services.Dockerfile", "bookworm", ("docker/services.sh", "docker/backup.sh")),
}


def say(msg: str) -> None:
    print(f"[build] {msg}", flush=True)


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, **kw)


def docker() -> str:
    exe = shutil.which("docker")
    if exe is None:
        sys.exit("docker is missing: apt-get install docker.io (scripts/setup.sh does it)")
    return exe


def image_exists(tag: str) -> bool:
    return subprocess.run([docker(), "image", "inspect", tag], capture_output=True).returncode == 0


def short_hash(*parts: bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(hashlib.sha256(p).digest())
    return h.hexdigest()[:12]


def tree_bytes(paths) -> bytes:
    """A stable digest input of files (path + content), skipping caches."""
    out = []
    for rel in paths:
        p = REPO / rel
        files = [p] if p.is_file() else sorted(x for x in p.rglob("*") if x.is_file())
        for f in files:
            if "__pycache__" in f.parts or f.suffix == ".pyc":
                continue
            out.append(str(f.relative_to(REPO)).encode() + b"\0" + f.read_bytes())
    return b"\0\0".join(out)


def mirror() -> str:
    res = subprocess.run([sys.executable, str(REPO / "scripts" / "apt_mirror.py")],
                         capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(res.stderr.strip() or "no Debian mirror in apt sources")
    return res.stdout.strip()


def base_tag(suite: str) -> str:
    return f"callcenter-base:{suite}-{short_hash(' '.join((suite, *BASES[suite])).encode())}"


def sandbox_root() -> Path:
    # the same naming as callcenter.infra.sandbox.root_path (kept in step by the unit test)
    digest = hashlib.sha256(" ".join(("sid", *BASES["sid"])).encode()).hexdigest()[:10]
    return CACHE / f"asterisk-root-{digest}"


def build_base(suite: str) -> str:
    tag = base_tag(suite)
    if image_exists(tag):
        say(f"base {tag}: cached")
        return tag
    started = time.monotonic()
    root = sandbox_root() if suite == "sid" else CACHE / f"docker-root-{tag.split(':')[1]}"
    if not (root / ".complete").exists():
        if shutil.which("debootstrap") is None:
            sys.exit("debootstrap is missing: apt-get install debootstrap")
        tmp = root.with_name(root.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        CACHE.mkdir(parents=True, exist_ok=True)
        say(f"debootstrap {suite} ({', '.join(BASES[suite])}) ...")
        run(["debootstrap", "--variant=minbase", f"--include={','.join(BASES[suite])}", suite,
             str(tmp), mirror()], stdout=subprocess.DEVNULL)
        (tmp / ".complete").write_text("docker base\n")
        tmp.rename(root)
    say(f"docker import {root} as {tag} ...")
    # one file system only (the sandbox root may have /proc and /dev mounted); no test instances
    tar = subprocess.Popen(
        ["tar", "-C", str(root), "--one-file-system", "--numeric-owner",
         "--exclude=./srv/callcenter", "--exclude=./proc/*", "--exclude=./dev/*",
         "--exclude=./var/cache/apt/archives/*.deb", "--exclude=./.complete", "-c", "."],
        stdout=subprocess.PIPE)
    run([docker(), "import", "--change", 'CMD ["/bin/bash"]', "-", tag], stdin=tar.stdout,
        stdout=subprocess.DEVNULL)
    if tar.wait() not in (0, 1):  # 1: a file changed while read (a running sandbox's logs)
        sys.exit("tar of the base root failed")
    say(f"base {tag} imported in {time.monotonic() - started:.0f}s")
    return tag


def requirements() -> list[str]:
    import tomllib

    data = tomllib.loads((REPO / "pyproject.toml").read_text())
    return list(data["project"]["dependencies"])


# wheels the container's interpreter needs although the host's does not: redis wants
# async-timeout below Python 3.11.3, and Debian 12's python3 is 3.11.2
EXTRA_WHEELS = ["async-timeout>=4.0.3"]


def build_wheels() -> Path:
    reqs = requirements()
    target = CACHE / f"wheels-{short_hash(json.dumps(reqs + EXTRA_WHEELS).encode(), sys.version.encode())}"
    if not (target / ".complete").exists():
        started = time.monotonic()
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        say(f"pip wheel {len(reqs)} requirements into {target} ...")
        run([sys.executable, "-m", "pip", "wheel", "-q", "--wheel-dir", str(target), *reqs, *EXTRA_WHEELS])
        (target / "requirements.txt").write_text("\n".join(reqs) + "\n")
        (target / ".complete").write_text("")
        say(f"wheels built in {time.monotonic() - started:.0f}s")
    return target


def image_tag(name: str, base: str, wheels: Path | None) -> str:
    dockerfile, _suite, copied = IMAGES[name]
    parts = [(REPO / "docker" / dockerfile).read_bytes(), base.encode(), tree_bytes(copied)]
    if wheels is not None:
        parts.append(wheels.name.encode())
    return f"{name}:{short_hash(*parts)}"


def stage_context(wheels: Path) -> None:
    """The build context: only what the images copy (docker/.build, ignored by git)."""
    shutil.rmtree(CONTEXT, ignore_errors=True)
    CONTEXT.mkdir(parents=True)
    shutil.copytree(wheels, CONTEXT / "wheels", ignore=shutil.ignore_patterns(".complete"))
    for rel in ("callcenter", "ivr_flows", "asterisk_conf"):
        shutil.copytree(REPO / rel, CONTEXT / rel, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for rel in ("pyproject.toml", "docker/backup.sh", "docker/services.sh", "docker/asterisk-entrypoint.sh"):
        (CONTEXT / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, CONTEXT / rel)


def build_images(*, only_print: bool = False) -> dict[str, str]:
    wheels = None if only_print else build_wheels()
    bases = {s: (base_tag(s) if only_print else build_base(s)) for s in BASES}
    wheel_dir = wheels or CACHE / f"wheels-{short_hash(json.dumps(requirements() + EXTRA_WHEELS).encode(), sys.version.encode())}"
    tags = {name: image_tag(name, bases[suite], wheel_dir if name == "callcenter-app" else None)
            for name, (_df, suite, _c) in IMAGES.items()}
    if only_print:
        return tags
    staged = False
    for name, tag in tags.items():
        if image_exists(tag):
            say(f"{tag}: cached")
            continue
        if not staged:
            stage_context(wheels)
            staged = True
        dockerfile, suite, _ = IMAGES[name]
        started = time.monotonic()
        say(f"docker build {tag} (FROM {bases[suite]}) ...")
        run([docker(), "build", "-q", "--network", "host", "--build-arg", f"BASE={bases[suite]}",
             "-f", str(REPO / "docker" / dockerfile), "-t", tag, "-t", f"{name}:latest", str(CONTEXT)],
            stdout=subprocess.DEVNULL)
        say(f"{tag} built in {time.monotonic() - started:.0f}s")
    for name, tag in tags.items():  # compose refers to :latest
        run([docker(), "tag", tag, f"{name}:latest"])
        prune_superseded(name, keep={tag.split(":")[1], "latest"})
    return tags


def prune_superseded(name: str, keep: set[str]) -> None:
    """Drop the tags older sources built (their unique layers go with them)."""
    out = subprocess.run([docker(), "images", name, "--format", "{{.Tag}}"], capture_output=True, text=True)
    old = [f"{name}:{t}" for t in out.stdout.split() if t not in keep and t != "<none>"]
    if old:
        subprocess.run([docker(), "rmi", *old], capture_output=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--print", action="store_true", help="print the image tags and build nothing")
    ap.add_argument("--base-only", action="store_true", help="build (import) the base images only")
    args = ap.parse_args()
    if args.base_only:
        for s in BASES:
            print(build_base(s))
        return 0
    tags = build_images(only_print=args.print)
    print(json.dumps(tags))
    return 0


if __name__ == "__main__":
    sys.exit(main())
