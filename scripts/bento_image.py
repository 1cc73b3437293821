"""Build a container image of one Bento from a BentoML store (``deploy/containers/bento.Dockerfile``).

    python scripts/bento_image.py <name>:<version> [--bentoml-home DIR] [--image NAME]

The store defaults to the dev stack's (``.stack/dev/serving/bentoml``, where ``deploy_<use case>`` builds
Bentos); the image to ``localhost/bento-<name>:<version>``. ``CONTAINER_ENGINE`` (podman or docker) and
``BASE_IMAGE`` as for ``make images``. Run it with ``<engine> run -p 127.0.0.1:3000:3000 <image>``: the Bento
answers ``POST /predict`` with ``{"records": [...]}`` and ``/readyz`` there.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = REPO_ROOT / "deploy" / "containers" / "bento.Dockerfile"
BENTO_TAG_LABEL = "org.mlops.bento-tag"  # the image's label naming the Bento it serves


class BentoImageError(RuntimeError):
    """The Bento is not in the store, or its image did not build."""


def prepare_context(bentoml_home: Path, tag: str, context: Path) -> None:
    """The build context: the Bento and its model copied from the store, its requirements, tag and CAs."""
    name, version = tag.split(":")
    bento = bentoml_home / "bentos" / name / version
    if not (bento / "bento.yaml").exists():
        raise BentoImageError(f"no Bento {tag} in {bentoml_home} (build it with deploy_<use case> first)")
    shutil.rmtree(context, ignore_errors=True)
    store = context / "bentoml"
    shutil.copytree(bento, store / "bentos" / name / version, symlinks=True)
    model = bentoml_home / "models" / name / version
    if model.exists():
        shutil.copytree(model, store / "models" / name / version, symlinks=True)
    shutil.copy(bento / "env" / "python" / "requirements.txt", context / "requirements.txt")
    (context / "BENTO_TAG").write_text(tag + "\n")
    certs = context / "ca-certificates"
    certs.mkdir()
    for cert in Path("/usr/local/share/ca-certificates").glob("*.crt"):
        shutil.copy(cert, certs / cert.name)
    shutil.copy(DOCKERFILE, context / "Dockerfile")
    shutil.copy(REPO_ROOT / "deploy" / "containers" / "healthcheck.py", context / "healthcheck.py")


def build(tag: str, bentoml_home: Path, image: str) -> float:
    """Build ``image`` from the Bento ``tag``; return the seconds it took."""
    engine = os.environ.get("CONTAINER_ENGINE", "podman")
    base = os.environ.get("BASE_IMAGE", "localhost/debian-base" if engine == "podman" else "debian:bookworm-slim")
    env = dict(os.environ)
    if engine == "podman":
        env.setdefault("CONTAINERS_CONF", str(REPO_ROOT / "deploy" / "podman" / "containers.conf"))
    context = REPO_ROOT / "build" / "bento" / tag.replace(":", "-")
    prepare_context(bentoml_home, tag, context)
    started = time.monotonic()
    result = subprocess.run(["nice", "-n", "19", "ionice", "-c3", engine, "build", "-q", "-t", image,
                             "--label", f"{BENTO_TAG_LABEL}={tag}", "--build-arg", f"BASE_IMAGE={base}", str(context)],
                            env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BentoImageError(f"{engine} build of {image} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tag", help="<name>:<version>, e.g. flights_delay:v1")
    parser.add_argument("--bentoml-home", type=Path, default=REPO_ROOT / ".stack" / "dev" / "serving" / "bentoml")
    parser.add_argument("--image", help="default: localhost/bento-<name>:<version>")
    args = parser.parse_args(argv)
    image = args.image or f"localhost/bento-{args.tag.replace('_', '-')}"
    try:
        seconds = build(args.tag, args.bentoml_home, image)
    except BentoImageError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    print(f"bento image {image} built in {seconds:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
