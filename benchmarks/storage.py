"""Benchmark: what lakeFS stores for a use case's daily commits, against the Parquet bytes it serves.

Reads the running stack's lakeFS (``make up``): the objects on ``main`` under the use case's curated
prefix (the Parquet partitions) and validation prefix (GX result JSON, Data Docs of failures), and
the repository's storage namespace on disk (local blockstore). lakeFS stores an object once however
many commits and branches reference it; what versioning adds is its commit metadata: ranges and
metaranges (``_lakefs/`` in the namespace) and the KV store (the local database directory, shared by
every repository of the stack: its allocated blocks counted whole, an upper bound).

Figures (bytes are file sizes):
- ``parquet``: the Parquet partitions on ``main``; ``validation``: the result JSON and docs beside them;
- ``metadata``: ``_lakefs/`` + the KV directory; ``ratio`` = (parquet + metadata) / parquet: the target;
- ``superseded``: object bytes in the namespace that ``main`` no longer references (earlier versions
  of re-run days, quarantine and run branches' uploads): kept until lakeFS garbage collection runs,
  reported beside the ratio, not in it.

    .venv/bin/python benchmarks/storage.py [--usecase flights] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.stack import StackConfig

TARGET_RATIO = 1.05


def tree_bytes(root: Path, allocated: bool = False) -> int:
    """Sum of file sizes under ``root`` (0 when it does not exist); ``allocated``: the disk blocks instead
    (the KV store preallocates sparse files of 2 GB)."""
    files = [path.stat() for path in root.rglob("*") if path.is_file()] if root.exists() else []
    return sum(stat.st_blocks * 512 if allocated else stat.st_size for stat in files)


def main_objects(cfg: StackConfig, repository: str, prefix: str) -> tuple[int, int]:
    """(count, bytes) of the objects on ``main`` under ``prefix``."""
    import lakefs
    from lakefs.client import Client

    client = Client(host=cfg.lakefs_endpoint, username=cfg.lakefs_access_key_id,
                    password=cfg.lakefs_secret_access_key)
    count = size = 0
    for item in lakefs.Repository(repository, client=client).branch("main").objects(prefix=prefix):
        count += 1
        size += item.size_bytes or 0
    return count, size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--usecase", default="flights")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures to PATH as JSON")
    args = parser.parse_args()
    from include.common.usecase import load_usecase

    cfg, usecase = StackConfig.from_env(), load_usecase(args.usecase)
    repository = usecase.lakefs_repository
    partitions, parquet = main_objects(cfg, repository, f"{usecase.dataset_prefix}/")
    validation_root = usecase.validation_prefix(usecase.partition_range()[0]).rsplit("/", 1)[0]  # partitions parent
    reports, validation = main_objects(cfg, repository, f"{validation_root}/")
    namespace = cfg.home / "lakefs" / "data" / repository
    metadata = tree_bytes(namespace / "_lakefs") + tree_bytes(cfg.home / "lakefs" / "metadata", allocated=True)
    superseded = max(tree_bytes(namespace) - tree_bytes(namespace / "_lakefs") - parquet - validation, 0)
    if parquet == 0:
        raise SystemExit(f"no Parquet partition on main of lakeFS repository {repository!r}: backfill first")
    ratio = (parquet + metadata) / parquet
    figures = {"repository": repository, "partitions": partitions, "parquet_bytes": parquet,
               "validation_objects": reports, "validation_bytes": validation, "metadata_bytes": metadata,
               "superseded_bytes": superseded, "ratio": ratio, "target_ratio": TARGET_RATIO}
    print(f"lakeFS {repository}: {partitions} partitions, Parquet {parquet / 1e6:.1f} MB; commit metadata "
          f"(ranges, metaranges, KV) {metadata / 1e6:.2f} MB -> {ratio:.3f}x (target <= {TARGET_RATIO}x); "
          f"validation reports {validation / 1e6:.1f} MB ({reports} objects); superseded versions kept until "
          f"garbage collection {superseded / 1e6:.1f} MB")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
