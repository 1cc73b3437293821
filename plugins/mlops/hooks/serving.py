"""Airflow hook for the stack's serving slots: the one way tasks build, serve and switch Bentos.

The connection (default ``mlops_serving``, type ``generic``) has in its extra field ``home`` (the
BentoML store, the slot layout and state) and ``supervisor_socket`` (the stack's supervisord, which
runs the proxy and the slot servers). Ports come from the layout the stack recorded in ``home``.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook

if TYPE_CHECKING:
    from include.serving.slots import SlotLayout

STOPPED = {"STOPPED", "EXITED", "FATAL", "BACKOFF"}  # states in which a program serves nothing


class SupervisorControl:
    """``ProcessControl`` over supervisord's XML-RPC interface on its unix socket."""

    def __init__(self, socket_path: str) -> None:
        import xmlrpc.client

        from supervisor.xmlrpc import SupervisorTransport

        transport = SupervisorTransport(None, None, f"unix://{socket_path}")
        self.rpc: Any = xmlrpc.client.ServerProxy("http://localhost", transport=transport).supervisor

    def state(self, program: str) -> str:
        return str(self.rpc.getProcessInfo(program)["statename"])

    def start(self, program: str) -> None:
        if self.state(program) != "RUNNING":
            self.rpc.startProcess(program, True)

    def stop(self, program: str) -> None:
        if self.state(program) not in STOPPED:
            self.rpc.stopProcess(program, True)

    def reload_proxy(self) -> None:
        from include.serving.slots import PROXY_PROGRAM

        self.rpc.signalProcess(PROXY_PROGRAM, "HUP")


class ServingHook(BaseHook):
    """Slot layout, BentoML store and process control of one stack's serving slots."""

    conn_name_attr = "serving_conn_id"
    default_conn_name = "mlops_serving"
    conn_type = "generic"
    hook_name = "MLOps serving slots"

    def __init__(self, serving_conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.serving_conn_id = serving_conn_id

    @cached_property
    def _extra(self) -> dict[str, Any]:
        extra = dict(self.get_connection(self.serving_conn_id).extra_dejson)
        missing = [key for key in ("home", "supervisor_socket") if not extra.get(key)]
        if missing:
            raise ValueError(f"connection {self.serving_conn_id!r} lacks {missing} in its extra field")
        return extra

    @cached_property
    def layout(self) -> SlotLayout:
        from include.serving.slots import SlotLayout

        return SlotLayout.load(Path(self._extra["home"]))

    @property
    def bentoml_home(self) -> Path:
        return self.layout.bentoml_home

    def get_conn(self) -> SupervisorControl:
        return SupervisorControl(str(self._extra["supervisor_socket"]))

    def scratch_dir(self) -> Path:
        """Logs of the throw-away servers of infra validation."""
        folder = self.layout.home / "validation"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
