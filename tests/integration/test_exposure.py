"""Every server of the stack binds to loopback only: the listening sockets of all its processes
(supervisord's session and every descendant: servers, executor workers, PostgreSQL backends) are listed
from the kernel (psutil) and any address outside 127.0.0.0/8 or ::1 fails the test."""

from __future__ import annotations

import ipaddress
import socket

import psutil

from scripts.stack import StackConfig, recorded_supervisord, stack_processes


def listening_sockets(pids: list[int]) -> list[tuple[int, str, str, int, str]]:
    """(pid, process name, address, port, tcp|udp) of every listening TCP and bound UDP socket."""
    found = []
    for pid in pids:
        try:
            process = psutil.Process(pid)
            name, connections = process.name(), process.net_connections(kind="inet")
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            continue  # ended meanwhile
        for conn in connections:
            udp = conn.type == socket.SOCK_DGRAM
            if conn.laddr and (conn.status == psutil.CONN_LISTEN or (udp and not conn.raddr)):
                found.append((pid, name, conn.laddr.ip, conn.laddr.port, "udp" if udp else "tcp"))
    return found


def test_every_listening_socket_of_the_stack_is_on_loopback(stack: StackConfig) -> None:
    session = recorded_supervisord(stack)
    assert session is not None, "the test stack's supervisord is not running"
    sockets = listening_sockets(sorted(stack_processes(session)))
    exposed = [entry for entry in sockets if not ipaddress.ip_address(entry[2].split("%")[0]).is_loopback]
    assert exposed == [], f"listening beyond loopback: {exposed}"
    # the check saw the servers themselves (not an empty list): every configured port is among them
    assert set(stack.ports.values()) <= {port for _, _, _, port, kind in sockets if kind == "tcp"}, sockets
