"""Serving slots: per use case a ``staging`` and a ``production`` endpoint, each a port of the nginx
proxy in front of two Bento servers (``blue`` and ``green``), of which one is live.

Switching a slot to another Bento never fails a request: the idle colour starts the new Bento; only
once it answers ``/readyz`` does the proxy's configuration point to it and nginx reload gracefully
(old workers finish their requests); the old server is stopped once no connection to it is left
(BentoML drains on SIGTERM). The processes are supervisord programs of the stack, so a crashed server
is restarted and ``make up`` brings back what each slot served (``state/<use case>-<slot>.json``).

While the server a slot routes to starts again (after a crash, or at ``make up``), the slot answers a
clean 503 "restarting" at once (``hold_slot``, by ``scripts/serve_bento.py`` before the server binds its
port) until the server is ready (``release_slot_when_ready``): BentoML binds the port before its worker
has loaded the model, and the proxy would otherwise hold each request until then.
"""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import requests

from include.serving.server import ServerError, wait_ready

SLOTS = ("staging", "production")
COLORS = ("blue", "green")
PROXY_PROGRAM = "serving-proxy"
PORTS_PER_USECASE = 2 + 2 * len(COLORS)  # the proxy's two slot ports, then each slot's two servers
SERVED_BY = "X-Served-By"


class SwitchError(RuntimeError):
    """The new Bento did not become ready: the slot keeps serving what it served."""


class ProcessControl(Protocol):
    """Start, stop and signal the stack's programs (supervisord's XML-RPC in the stack)."""

    def start(self, program: str) -> None: ...

    def stop(self, program: str) -> None: ...

    def reload_proxy(self) -> None: ...


@dataclass(frozen=True)
class SlotLayout:
    """Ports and program names of every slot: use cases in name order from ``base_port``."""

    home: Path
    usecases: tuple[str, ...]
    base_port: int

    def offset(self, usecase: str) -> int:
        if usecase not in self.usecases:
            raise SwitchError(f"use case {usecase!r} has no serving slots (those: {self.usecases})")
        return self.base_port + PORTS_PER_USECASE * self.usecases.index(usecase)

    def proxy_port(self, usecase: str, slot: str) -> int:
        return self.offset(usecase) + SLOTS.index(slot)

    def server_port(self, usecase: str, slot: str, color: str) -> int:
        return self.offset(usecase) + len(SLOTS) + len(COLORS) * SLOTS.index(slot) + COLORS.index(color)

    def endpoint(self, usecase: str, slot: str) -> str:
        return f"http://127.0.0.1:{self.proxy_port(usecase, slot)}"

    def save(self) -> None:
        """Record the layout in the serving home: every process reads the stack's ports from there."""
        write_json(self.home / "layout.json", {"usecases": list(self.usecases), "base_port": self.base_port})

    @classmethod
    def load(cls, home: Path) -> SlotLayout:
        """The layout the stack wrote at ``make up`` (not this process's idea of the use cases)."""
        path = home / "layout.json"
        if not path.exists():
            raise SwitchError(f"{path} is missing: the stack's serving slots were never set up (make up)")
        values = json.loads(path.read_text())
        return cls(home, tuple(values["usecases"]), int(values["base_port"]))

    @staticmethod
    def program(usecase: str, slot: str, color: str) -> str:
        return f"bento-{usecase}-{slot}-{color}"

    def programs(self) -> list[tuple[str, str, str]]:
        return [(u, s, c) for u in self.usecases for s in SLOTS for c in COLORS]

    @property
    def bentoml_home(self) -> Path:
        return self.home / "bentoml"

    @property
    def state_dir(self) -> Path:
        return self.home / "state"

    @property
    def nginx_dir(self) -> Path:
        return self.home / "nginx"

    def server_file(self, usecase: str, slot: str, color: str) -> Path:
        """What a colour's program serves (read by ``scripts/serve_bento.py`` when it starts)."""
        return self.state_dir / f"{self.program(usecase, slot, color)}.json"

    def slot_file(self, usecase: str, slot: str) -> Path:
        return self.state_dir / f"{usecase}-{slot}.json"


@dataclass(frozen=True)
class SlotState:
    """What a slot serves: the live colour, its Bento and model version, and what it served before."""

    color: str
    bento: str
    environment: str
    model_version: str
    switched_at: float
    previous: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_slot(layout: SlotLayout, usecase: str, slot: str) -> SlotState | None:
    path = layout.slot_file(usecase, slot)
    return SlotState(**json.loads(path.read_text())) if path.exists() else None


def write_json(path: Path, values: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(values, indent=2))
    partial.replace(path)  # atomic: a reader never sees half a file


def unavailable(message: str) -> str:
    return ("    default_type application/json;\n"
            f"    location / {{ return 503 '{{\"error\": \"{message}\"}}'; }}\n")


def proxy_conf(layout: SlotLayout, usecase: str, slot: str, color: str | None) -> str:
    """nginx ``server`` block of one slot: proxy to the live colour, or 503 while nothing is deployed."""
    listen = f"    listen 127.0.0.1:{layout.proxy_port(usecase, slot)};\n"
    if color is None:
        body = unavailable(f"no model deployed to {usecase} {slot}")
    else:
        server = f"http://127.0.0.1:{layout.server_port(usecase, slot, color)}"
        body = (f"    location = /docs {{ proxy_pass {server}/; }}  # BentoML's API docs page is its root\n"
                f"    location / {{\n"
                f"        proxy_pass {server};\n"
                "        proxy_http_version 1.1;\n"
                "        proxy_set_header Host $host;\n"
                "        proxy_connect_timeout 2s;  # a dead server: a quick 503 below, never a hang\n"
                "        proxy_read_timeout 60s;\n"
                "        proxy_intercept_errors off;\n"
                f"        add_header {SERVED_BY} {layout.program(usecase, slot, color)} always;\n"
                "    }\n"
                "    error_page 502 504 =503 @unavailable;\n"
                "    location @unavailable {\n"
                "        default_type application/json;\n"
                f"        return 503 '{{\"error\": \"the {usecase} {slot} model server is restarting\"}}';\n"
                "    }\n")
    return f"# {usecase} {slot}: written by include/serving/slots.py\nserver {{\n{listen}{body}}}\n"


def nginx_conf(layout: SlotLayout) -> str:
    """The proxy's main configuration (run in the foreground by supervisord); slots are included files."""
    home = layout.nginx_dir
    return f"""# written by scripts/stack.py
daemon off;
worker_processes 1;
pid {home / "nginx.pid"};
error_log stderr warn;  # supervisord keeps it: make logs SERVER=serving-proxy
events {{ worker_connections 1024; }}
http {{
    access_log /dev/stdout;
    client_body_temp_path {home / "tmp" / "body"};
    proxy_temp_path {home / "tmp" / "proxy"};
    fastcgi_temp_path {home / "tmp" / "fastcgi"};
    uwsgi_temp_path {home / "tmp" / "uwsgi"};
    scgi_temp_path {home / "tmp" / "scgi"};
    client_max_body_size 10m;
    include {home / "slots"}/*.conf;
}}
"""


def write_proxy_files(layout: SlotLayout) -> None:
    """The layout, the main configuration and one file per slot from the recorded slot states (``make up``)."""
    layout.save()
    (layout.nginx_dir / "tmp").mkdir(parents=True, exist_ok=True)
    (layout.nginx_dir / "nginx.conf").write_text(nginx_conf(layout))
    for usecase in layout.usecases:
        for slot in SLOTS:
            state = read_slot(layout, usecase, slot)
            write_slot_conf(layout, usecase, slot, state.color if state else None)


def restarting_conf(layout: SlotLayout, usecase: str, slot: str, color: str) -> str:
    """The slot answering 503 at once while its live server (``color``) starts again."""
    return (f"# {usecase} {slot}: {layout.program(usecase, slot, color)} restarting, written by "
            f"include/serving/slots.py\nserver {{\n    listen 127.0.0.1:{layout.proxy_port(usecase, slot)};\n"
            f"{unavailable(f'the {usecase} {slot} model server is restarting')}}}\n")


def slot_conf_path(layout: SlotLayout, usecase: str, slot: str) -> Path:
    return layout.nginx_dir / "slots" / f"{usecase}-{slot}.conf"


def write_slot_conf(layout: SlotLayout, usecase: str, slot: str, color: str | None, text: str | None = None) -> None:
    path = slot_conf_path(layout, usecase, slot)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(text if text is not None else proxy_conf(layout, usecase, slot, color))
    partial.replace(path)


def signal_proxy(layout: SlotLayout) -> bool:
    """A graceful reload (SIGHUP) of the proxy's nginx master, found by its pid file; False if it is not running."""
    try:
        pid = int((layout.nginx_dir / "nginx.pid").read_text())
        if b"nginx" not in Path(f"/proc/{pid}/cmdline").read_bytes():
            return False  # a stale pid file: the pid is another program's now
        os.kill(pid, signal.SIGHUP)
    except (OSError, ValueError):
        return False
    return True


def hold_slot(layout: SlotLayout, usecase: str, slot: str, color: str) -> bool:
    """If the proxy routes ``slot`` to ``color``'s server (starting again: it crashed, or the stack restarts),
    make the slot answer 503 "restarting" until ``release_slot_when_ready``; True when the slot is held.

    A colour that the slot does not route to (a deployment starting the idle colour) changes nothing.
    """
    path = slot_conf_path(layout, usecase, slot)
    held = restarting_conf(layout, usecase, slot, color)
    current = path.read_text() if path.exists() else ""
    if current not in (proxy_conf(layout, usecase, slot, color), held):
        return False
    if current != held:
        write_slot_conf(layout, usecase, slot, color, held)
        signal_proxy(layout)
    return True


def release_slot_when_ready(layout: SlotLayout, usecase: str, slot: str, color: str, timeout: float) -> bool:
    """Route the held slot to ``color``'s server again once it answers ``/readyz``; False if it did not in time,
    or if the slot no longer waits for it (a deployment switched it meanwhile: that wins)."""
    url = f"http://127.0.0.1:{layout.server_port(usecase, slot, color)}/readyz"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            ready = requests.get(url, timeout=2).status_code == 200
        except requests.RequestException:
            ready = False
        if ready:
            path = slot_conf_path(layout, usecase, slot)
            if not path.exists() or path.read_text() != restarting_conf(layout, usecase, slot, color):
                return False
            write_slot_conf(layout, usecase, slot, color)
            signal_proxy(layout)
            return True
        time.sleep(0.5)
    return False


def live_programs(layout: SlotLayout) -> list[str]:
    """The colour programs that serve a slot (``make up`` starts these)."""
    return [layout.program(u, s, state.color) for u in layout.usecases for s in SLOTS
            if (state := read_slot(layout, u, s)) is not None]


def wait_served_by(url: str, program: str, timeout: float = 30) -> None:
    """Until the proxy answers from ``program`` (nginx's reload has taken effect)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/readyz", timeout=2).headers.get(SERVED_BY) == program:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise SwitchError(f"the proxy at {url} did not switch to {program} within {timeout:.0f} s")


def open_connections(port: int) -> int:
    """Established TCP connections to a loopback ``port`` (from /proc/net/tcp)."""
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, _remote, state = line.split()[1:4]
        if state == "01" and int(local.split(":")[1], 16) == port:
            count += 1
    return count


def proxy_workers(layout: SlotLayout) -> set[int]:
    """Pids of the nginx master's worker processes (empty when the proxy is not running)."""
    try:
        master = int((layout.nginx_dir / "nginx.pid").read_text())
    except (OSError, ValueError):
        return set()
    workers = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            workers.add(int(stat.parent.name))
    return workers


def wait_exited(pids: set[int], timeout: float = 30) -> None:
    """Until none of ``pids`` runs (old nginx workers finish their requests, then exit)."""
    deadline = time.monotonic() + timeout
    while any(Path(f"/proc/{pid}").exists() for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)


def drain(port: int, timeout: float = 30) -> float:
    """Seconds until no connection to ``port`` is left (or ``timeout``)."""
    started = time.monotonic()
    while open_connections(port) and time.monotonic() - started < timeout:
        time.sleep(0.1)
    return time.monotonic() - started


def switch(control: ProcessControl, layout: SlotLayout, usecase: str, slot: str, bento: str, environment: str,
           model_version: str, ready_timeout: float) -> SlotState:
    """Make ``slot`` serve ``bento`` without a failed request (see the module's docstring)."""
    current = read_slot(layout, usecase, slot)
    color = COLORS[1 - COLORS.index(current.color)] if current else COLORS[0]
    program = layout.program(usecase, slot, color)
    control.stop(program)  # a leftover of an interrupted switch
    write_json(layout.server_file(usecase, slot, color),
               {"bento": bento, "environment": environment, "port": layout.server_port(usecase, slot, color),
                "bentoml_home": str(layout.bentoml_home)})
    control.start(program)
    try:
        wait_ready(f"http://127.0.0.1:{layout.server_port(usecase, slot, color)}", ready_timeout)
    except ServerError as error:
        control.stop(program)
        raise SwitchError(f"{program} did not become ready ({error}); {usecase} {slot} unchanged") from None
    old_workers = proxy_workers(layout)
    write_slot_conf(layout, usecase, slot, color)
    control.reload_proxy()
    wait_served_by(layout.endpoint(usecase, slot), program)
    if current is not None:
        wait_exited(old_workers)  # nothing can reach the old server once they are gone
        drain(layout.server_port(usecase, slot, current.color))
        control.stop(layout.program(usecase, slot, current.color))
    state = SlotState(color, bento, environment, model_version, time.time(),
                      previous={k: v for k, v in current.to_dict().items() if k != "previous"} if current else None)
    write_json(layout.slot_file(usecase, slot), state.to_dict())
    return state
