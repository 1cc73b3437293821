"""Run one serving slot's Bento server (a supervisord program of the stack).

``python scripts/serve_bento.py <state>/bento-<use case>-<slot>-<colour>.json``: the file, written by
the deployment before it starts the program, names the Bento, its serving environment, the port and
the BentoML store. The process replaces itself with that environment's ``bentoml serve``.

When the proxy already routes the slot to this colour (supervisord restarting a crashed server, or
``make up``), the slot first answers 503 "restarting" (``include.serving.slots.hold_slot``), and a forked
watcher routes it back once the server is ready: BentoML listens on its port before its worker has
loaded the model, so requests would otherwise wait in the proxy until then.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from include.serving.server import serve_command, serving_env
from include.serving.slots import SlotLayout, hold_slot, release_slot_when_ready

READY_TIMEOUT = 900  # seconds the watcher waits for the server before leaving the slot answering 503


def hold_until_ready(path: Path) -> None:
    """Hold the slot if the proxy routes it to this colour, and fork the watcher that releases it."""
    usecase, slot, color = path.stem.split("-")[1:]  # bento-<use case>-<slot>-<colour>
    layout = SlotLayout.load(path.parent.parent)
    if not hold_slot(layout, usecase, slot, color):
        return
    print(f"{usecase} {slot} answers 503 until this server is ready", flush=True)
    if os.fork() == 0:  # the watcher, in the program's process group: stopped with the server
        try:
            released = release_slot_when_ready(layout, usecase, slot, color, READY_TIMEOUT)
            print(f"{usecase} {slot} {'routed to' if released else 'not routed back to'} {path.stem}", flush=True)
        finally:
            os._exit(0)


def main(server_file: str) -> None:
    path = Path(server_file)
    if not path.exists():
        sys.exit(f"{path} does not exist: nothing was deployed to this slot colour")
    spec = json.loads(path.read_text())
    command = serve_command(Path(spec["environment"]), spec["bento"], int(spec["port"]))
    hold_until_ready(path)
    print(f"serving {spec['bento']} on 127.0.0.1:{spec['port']}", flush=True)
    os.execve(command[0], command, serving_env(Path(spec["bentoml_home"])))


if __name__ == "__main__":
    main(sys.argv[1])
