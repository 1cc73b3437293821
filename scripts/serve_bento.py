"""Run one serving slot's Bento server (a supervisord program of the stack).

``python scripts/serve_bento.py <state>/bento-<use case>-<slot>-<colour>.json``: the file, written by
the deployment before it starts the program, names the Bento, its serving environment, the port and
the BentoML store. The process replaces itself with that environment's ``bentoml serve``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from include.serving.server import serve_command, serving_env


def main(server_file: str) -> None:
    path = Path(server_file)
    if not path.exists():
        sys.exit(f"{path} does not exist: nothing was deployed to this slot colour")
    spec = json.loads(path.read_text())
    command = serve_command(Path(spec["environment"]), spec["bento"], int(spec["port"]))
    print(f"serving {spec['bento']} on 127.0.0.1:{spec['port']}", flush=True)
    os.execve(command[0], command, serving_env(Path(spec["bentoml_home"])))


if __name__ == "__main__":
    main(sys.argv[1])
