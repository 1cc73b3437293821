"""Provision the local MLOps stack and run its servers under supervisord.

supervisord (PyPI ``supervisor``) runs one program per server: PostgreSQL, lakeFS, the alert sink,
MLflow and the Airflow scheduler, dag-processor, triggerer and api-server, each in its own process
group, restarted if it dies, stopped as a group, logging to ``<home>/logs/<program>.log``. Its
configuration, unix socket and pid file live in the stack home (``.stack/<name>``). This script
only provisions (cluster, databases, secrets, config files, seeding, Airflow settings), starts the
programs in dependency order and waits for their health. Every server binds to 127.0.0.1.

Usage: ``python scripts/stack.py up|down|status|env|clean``, ``logs PROGRAM [-n N] [-f]``,
``restart PROGRAM``. Ports and folders come from the environment (``StackConfig.from_env``).
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import hashlib
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import xmlrpc.client
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
LAKEFS_CACHE = "{home}/.cache/mlops-airflow/lakefs-{version}"
PG_SUPERUSER_PASSWORD = "postgres"  # local placeholder, loopback only
DATABASES = {"airflow": "airflow", "mlflow": "mlflow", "source": "source", "mlops": "mlops"}  # db -> owner role
AIRFLOW_COMPONENTS = ("scheduler", "dag-processor", "triggerer", "api-server")
PROGRAMS = ("postgres", "lakefs", "alert-sink", "mlflow", *(f"airflow-{c}" for c in AIRFLOW_COMPONENTS),
            "serving-proxy")  # besides these, one program per serving slot colour (started by deployments)
ACTIVE = {"STARTING", "RUNNING", "BACKOFF", "STOPPING"}  # supervisord process states
PROGRAM_DEFAULTS = {"directory": REPO_ROOT, "autostart": False, "autorestart": True, "startsecs": 3, "startretries": 3,
                    "stopsignal": "TERM", "stopwaitsecs": 15, "stopasgroup": True, "killasgroup": True,
                    "redirect_stderr": True, "stdout_logfile_maxbytes": "50MB", "stdout_logfile_backups": 2}


class StackError(RuntimeError):
    """A server of the stack failed to start or stop."""


@dataclass(frozen=True)
class StackConfig:
    """Where the stack lives and which loopback ports it uses."""

    name: str
    home: Path
    pg_port: int
    lakefs_port: int
    mlflow_port: int
    airflow_port: int
    airflow_parallelism: int
    lakefs_repository: str
    smtp_port: int
    webhook_port: int
    serving_port_base: int
    admin_user: str = "admin"
    admin_password: str = "admin"
    lakefs_access_key_id: str = "AKIAIOSFOLQUICKSTART"
    lakefs_secret_access_key: str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> StackConfig:
        """Read the configuration from ``STACK_*`` and ``*_PORT`` environment variables."""
        env = dict(os.environ if env is None else env)
        name = env.get("STACK_NAME", "dev")
        return cls(
            name=name,
            home=Path(env.get("STACK_HOME", REPO_ROOT / ".stack" / name)).resolve(),
            pg_port=int(env.get("PG_PORT", "15432")),
            lakefs_port=int(env.get("LAKEFS_PORT", "8000")),
            mlflow_port=int(env.get("MLFLOW_PORT", "5000")),
            airflow_port=int(env.get("AIRFLOW_PORT", "8080")),
            airflow_parallelism=int(env.get("AIRFLOW_PARALLELISM", "6")),
            lakefs_repository=env.get("LAKEFS_REPOSITORY", "flights"),
            smtp_port=int(env.get("SMTP_PORT", "1025")),
            webhook_port=int(env.get("WEBHOOK_PORT", "8025")),
            serving_port_base=int(env.get("SERVING_PORT_BASE", "8300")),
        )

    @property
    def alerts(self) -> Path:
        return self.home / "alerts"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def run(self) -> Path:
        return self.home / "run"

    @property
    def supervisor_conf(self) -> Path:
        return self.home / "supervisord.conf"

    @property
    def supervisor_pidfile(self) -> Path:
        return self.run / "supervisord.pid"

    @property
    def ports(self) -> dict[str, int]:
        return {"postgres": self.pg_port, "lakefs": self.lakefs_port, "mlflow": self.mlflow_port,
                "airflow": self.airflow_port, "smtp": self.smtp_port, "webhook": self.webhook_port}

    @property
    def supervisor_socket(self) -> Path:
        return self.run / "supervisor.sock"

    @property
    def lakefs_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.lakefs_port}"

    @property
    def mlflow_uri(self) -> str:
        return f"http://127.0.0.1:{self.mlflow_port}"

    @property
    def airflow_url(self) -> str:
        return f"http://127.0.0.1:{self.airflow_port}"

    def pg_url(self, database: str, driver: str = "postgresql+psycopg2") -> str:
        role = DATABASES[database]
        return f"{driver}://{role}:{role}@127.0.0.1:{self.pg_port}/{database}"


# --------------------------------------------------------------------------- supervisord


def serving_layout(cfg: StackConfig) -> Any:
    """Ports, programs and folders of the serving slots (``include.serving.slots``)."""
    from include.common.usecase import load_usecases
    from include.serving.slots import SlotLayout

    return SlotLayout(cfg.home / "serving", tuple(sorted(u.name for u in load_usecases() if u.serving)),
                      cfg.serving_port_base)


def serving_programs(cfg: StackConfig) -> dict[str, dict[str, Any]]:
    """The nginx proxy in front of the slots, and one program per slot colour (started by deployments)."""
    layout = serving_layout(cfg)
    proxy_ports = [layout.proxy_port(u, s) for u in layout.usecases for s in ("staging", "production")]
    return {
        # SIGQUIT: nginx's graceful shutdown; SIGHUP (from the deployment) reloads the slots gracefully
        "serving-proxy": {"command": [shutil.which("nginx") or "/usr/sbin/nginx", "-c",
                                      layout.nginx_dir / "nginx.conf", "-e", layout.nginx_dir / "error.log"],
                          "ports": proxy_ports, "stopsignal": "QUIT"},
        **{layout.program(u, s, c): {"command": [sys.executable, REPO_ROOT / "scripts" / "serve_bento.py",
                                                 layout.server_file(u, s, c)],
                                     "ports": [layout.server_port(u, s, c)], "stopwaitsecs": 30, "startsecs": 1}
           for u, s, c in layout.programs()},
    }


def programs(cfg: StackConfig) -> dict[str, dict[str, Any]]:
    """supervisord's options per program, in start order (``ports``, ours, must be free to start it)."""
    pg = postgres_data_dir(cfg)
    return {
        # The postmaster alone gets the fast-shutdown signal: it stops its server processes, which
        # run in sessions of their own. PostgreSQL refuses to run as root.
        "postgres": {"command": [pg_bin("postgres"), "-D", pg / "data", "-p", cfg.pg_port, "-c",
                                 "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={pg / 'socket'}"],
                     "ports": [cfg.pg_port], "stopsignal": "INT", "stopasgroup": False, "stopwaitsecs": 30,
                     "directory": pg.resolve(), **({"user": "postgres"} if os.geteuid() == 0 else {})},
        "lakefs": {"command": [lakefs_binary(), "run", "--config", cfg.home / "lakefs" / "config.yaml"],
                   "ports": [cfg.lakefs_port],
                   "environment": {"LAKEFS_INSTALLATION_USER_NAME": cfg.admin_user,
                                   "LAKEFS_INSTALLATION_ACCESS_KEY_ID": cfg.lakefs_access_key_id,
                                   "LAKEFS_INSTALLATION_SECRET_ACCESS_KEY": cfg.lakefs_secret_access_key}},
        "alert-sink": {"command": [sys.executable, REPO_ROOT / "scripts" / "alert_sink.py", "--dir", cfg.alerts,
                                   "--smtp-port", cfg.smtp_port, "--webhook-port", cfg.webhook_port],
                       "ports": [cfg.smtp_port, cfg.webhook_port], "stopwaitsecs": 10},
        # MLflow 3.17's job runner adds ~7 workers (~1.6 GB) and /dev/shm folders; unused here.
        "mlflow": {"command": [VENV_BIN / "mlflow", "server", "--host", "127.0.0.1", "--port", cfg.mlflow_port,
                               "--workers", "1", "--backend-store-uri", cfg.pg_url("mlflow"), "--serve-artifacts",
                               "--artifacts-destination", cfg.home / "mlflow" / "artifacts"],
                   "ports": [cfg.mlflow_port], "environment": {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}},
        **{f"airflow-{c}": {"command": [VENV_BIN / "airflow", c,  # task logs are read from files: no log server
                                        *(["--skip-serve-logs"] if c in ("scheduler", "triggerer") else [])],
                            "ports": [cfg.airflow_port] if c == "api-server" else [],
                            "environment": airflow_env(cfg), "stopwaitsecs": 30} for c in AIRFLOW_COMPONENTS},
        **serving_programs(cfg),
    }


def ini(value: Any) -> str:
    """A value in supervisord's INI syntax (``%`` is its interpolation character)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        if any('"' in v or "\n" in v for v in value.values()):
            raise StackError(f"cannot pass {value} through supervisord's configuration")
        return ",".join(f'{k}="{v}"' for k, v in value.items()).replace("%", "%%")
    return (shlex.join(map(str, value)) if isinstance(value, list) else str(value)).replace("%", "%%")


def supervisor_conf(cfg: StackConfig) -> str:
    """supervisord's configuration: a unix socket (mode 0700) and a pid file in the stack home."""
    socket_path = cfg.supervisor_socket
    sections: dict[str, dict[str, Any]] = {
        "unix_http_server": {"file": socket_path, "chmod": "0700"},
        "supervisord": {"logfile": cfg.logs / "supervisord.log", "logfile_maxbytes": "10MB",
                        "pidfile": cfg.supervisor_pidfile, "directory": REPO_ROOT, "childlogdir": cfg.logs,
                        "identifier": f"mlops-{cfg.name}"},
        "rpcinterface:supervisor": {
            "supervisor.rpcinterface_factory": "supervisor.rpcinterface:make_main_rpcinterface"},
        "supervisorctl": {"serverurl": f"unix://{socket_path}"},
    }
    for priority, (name, options) in enumerate(programs(cfg).items(), start=1):
        sections[f"program:{name}"] = {**PROGRAM_DEFAULTS, **{k: v for k, v in options.items() if k != "ports"},
                                       # supervisord's own shutdown stops the highest first: PostgreSQL last
                                       "priority": priority * 10, "stdout_logfile": cfg.logs / f"{name}.log"}
    return "\n".join(f"[{section}]\n" + "".join(f"{key}={ini(value)}\n" for key, value in options.items())
                     for section, options in sections.items())


def supervisor(cfg: StackConfig) -> Any:
    """supervisord's XML-RPC interface (``supervisor.*``) over the stack's unix socket."""
    from supervisor.xmlrpc import SupervisorTransport

    transport = SupervisorTransport(None, None, f"unix://{cfg.supervisor_socket}")
    return xmlrpc.client.ServerProxy("http://localhost", transport=transport).supervisor


def process_info(cfg: StackConfig) -> dict[str, dict[str, Any]]:
    """supervisord's view of each program (state, pid, uptime); {} when supervisord does not answer."""
    try:
        return {info["name"]: info for info in supervisor(cfg).getAllProcessInfo()}
    except (OSError, xmlrpc.client.Error):
        return {}


def recorded_supervisord(cfg: StackConfig) -> int | None:
    """supervisord's recorded pid, also the session id of what it started; a stale file is removed."""
    if not cfg.supervisor_pidfile.exists():
        return None
    pid = int(cfg.supervisor_pidfile.read_text())
    with contextlib.suppress(FileNotFoundError):  # gone: programs it started may still be in its session
        if str(cfg.supervisor_conf).encode() not in Path(f"/proc/{pid}/cmdline").read_bytes():
            cfg.supervisor_pidfile.unlink()  # the pid now belongs to another program
            return None
    return pid


def start_supervisord(cfg: StackConfig) -> None:
    """Write the configuration; start supervisord (it daemonizes into its own session) or update it."""
    text = supervisor_conf(cfg)
    changed = not cfg.supervisor_conf.exists() or cfg.supervisor_conf.read_text() != text
    cfg.supervisor_conf.touch(mode=0o600)  # it holds the secrets of Airflow's environment
    cfg.supervisor_conf.write_text(text)
    if process_info(cfg):
        if changed:  # programs whose section changed are restarted
            print("  supervisord: configuration changed, updating")
            subprocess.run([VENV_BIN / "supervisorctl", "-c", cfg.supervisor_conf, "update"], check=False)
        return
    subprocess.run([VENV_BIN / "supervisord", "-c", cfg.supervisor_conf], check=True, cwd=REPO_ROOT,
                   stdin=subprocess.DEVNULL, env={**os.environ, **telemetry_off(), "PATH": f"{VENV_BIN}:"
                                                  f"{os.environ.get('PATH', '/usr/bin:/bin')}"})
    if not wait_until(lambda: bool(process_info(cfg)), 20):
        raise StackError(f"supervisord did not start:\n{log_tail(cfg, 'supervisord')}")
    print(f"  supervisord: running (pid {recorded_supervisord(cfg)}, {cfg.supervisor_conf})")


def start_programs(cfg: StackConfig, *names: str) -> None:
    """Start those of ``names`` that supervisord does not run yet (their ports must be free)."""
    info, options = process_info(cfg), programs(cfg)
    for name in names:
        if info[name]["statename"] not in ACTIVE:
            for port in options[name]["ports"]:
                require_free_port(name, port)
            supervisor(cfg).startProcess(name, False)


def stop_programs(cfg: StackConfig) -> None:
    """Stop every program through supervisord: the servers at once, then PostgreSQL, which they use."""
    for phase in ([p for p in process_info(cfg) if p != "postgres"], ["postgres"]):
        active = [name for name, info in process_info(cfg).items() if name in phase and info["statename"] in ACTIVE]
        for name in active:
            with contextlib.suppress(xmlrpc.client.Fault):  # it stopped meanwhile
                supervisor(cfg).stopProcess(name, False)
        # supervisord sends SIGKILL to the process group after a program's stopwaitsecs
        wait_until(lambda: all(process_info(cfg)[n]["statename"] not in ACTIVE for n in active), 45)  # noqa: B023
        for name in active:
            print(f"  {name}: {process_info(cfg)[name]['statename'].lower()}")


# --------------------------------------------------------------------------- processes


def stack_processes(session: int) -> dict[int, int]:
    """The stack's processes as {pid: start time}: supervisord's session and all descendants
    (PostgreSQL's server processes open sessions of their own)."""
    table = {pid: stat for pid in map(int, filter(str.isdigit, os.listdir("/proc"))) if (stat := proc_stat(pid))}
    members = {pid for pid, stat in table.items() if stat[3] == str(session)}
    while children := {pid for pid, stat in table.items() if int(stat[1]) in members} - members:
        members |= children
    return {pid: int(table[pid][19]) for pid in members}


def proc_stat(pid: int) -> list[str] | None:
    """``/proc/<pid>/stat`` after the command: [0] state, [1] parent, [3] session, [19] start time."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def alive(processes: dict[int, int]) -> list[int]:
    """Those of ``processes`` still running (same pid and start time, not a zombie)."""
    return sorted(pid for pid, start in processes.items()
                  if (stat := proc_stat(pid)) and int(stat[19]) == start and stat[0] != "Z")


def terminate(processes: dict[int, int], grace_seconds: float = 10) -> None:
    """SIGTERM the recorded processes, wait, SIGKILL what is left; fail if anything survives."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in alive(processes):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        if wait_until(lambda: not alive(processes), grace_seconds):
            return
    raise StackError(f"processes survived SIGKILL: {alive(processes)}")


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.3) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return check()


def log_tail(cfg: StackConfig, program: str, lines: int = 30) -> str:
    path = cfg.logs / f"{program}.log"
    tail = "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else "(no log)"
    return f"Last lines of {path}:\n{tail}"


def wait_healthy(cfg: StackConfig, program: str, check: Callable[[], bool], timeout: float) -> None:
    """Wait for ``check``; fail with the program's log tail on timeout or when supervisord gave it up."""
    started = time.monotonic()

    def healthy() -> bool:
        if process_info(cfg).get(program, {}).get("statename") == "FATAL":
            raise StackError(f"{program} exited and supervisord gave up.\n{log_tail(cfg, program)}")
        return check()

    if not wait_until(healthy, timeout, interval=0.5):
        raise StackError(f"{program} did not become healthy within {timeout:.0f}s.\n{log_tail(cfg, program)}")
    print(f"  {program}: healthy ({time.monotonic() - started:.1f}s)")


def http_ok(url: str, expected: tuple[int, ...] = (200, 204)) -> bool:
    try:
        return requests.get(url, timeout=2).status_code in expected
    except requests.RequestException:
        return False


def proxy_ok(cfg: StackConfig) -> bool:
    """The proxy answers on its first slot port (503 while nothing is deployed there)."""
    layout = serving_layout(cfg)
    if not layout.usecases:
        return True
    return http_ok(layout.endpoint(layout.usecases[0], "staging") + "/livez", (200, 503))


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def require_free_port(program: str, port: int) -> None:
    if not port_free(port):
        raise StackError(f"{program}: port {port} on 127.0.0.1 is taken by another program. "
                         f"Stop it or choose another port (see README, 'Ports').")


# --------------------------------------------------------------------------- PostgreSQL


def pg_bin(tool: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"), key=lambda p: int(Path(p).parts[-3]))
    if not found:
        raise StackError("PostgreSQL server binaries not found: run `make setup` (installs Debian's postgresql)")
    return found[-1]


def as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the ``postgres`` user then."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def postgres_data_dir(cfg: StackConfig) -> Path:
    """The cluster folder; outside the stack home only when ``postgres`` cannot reach it."""
    wanted = cfg.home / "postgres"
    if os.geteuid() != 0 or wanted.is_symlink() or not cfg.home.exists():
        return wanted
    if subprocess.run(as_postgres(["test", "-x", str(cfg.home)]), check=False).returncode == 0:
        return wanted
    # A parent folder is closed to other users (e.g. under /root): keep the cluster in
    # /var/lib and link it from the stack home, so state still has one place to look.
    outside = Path("/var/lib/mlops-airflow") / f"{cfg.name}-{hashlib.sha1(str(cfg.home).encode()).hexdigest()[:10]}"
    outside.mkdir(parents=True, exist_ok=True)
    wanted.symlink_to(outside, target_is_directory=True)
    return wanted


def provision_postgres(cfg: StackConfig) -> None:
    """Create the cluster once (owned by ``postgres`` when root); supervisord runs the server."""
    root = postgres_data_dir(cfg)
    (root / "socket").mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        for path in (root.resolve(), root / "socket"):
            shutil.chown(path, "postgres", "postgres")
    if not (root / "data" / "PG_VERSION").exists():
        pwfile = root / "pwfile"
        pwfile.write_text(PG_SUPERUSER_PASSWORD + "\n")
        if os.geteuid() == 0:
            shutil.chown(pwfile, "postgres", "postgres")
        subprocess.run(as_postgres([pg_bin("initdb"), "-D", str(root / "data"), "-U", "postgres", "--auth-local=peer",
                                    "--auth-host=scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8",
                                    "--locale=C.UTF-8"]), check=True, stdout=subprocess.DEVNULL)
        pwfile.unlink()


def seed_source_database(cfg: StackConfig, clock: dict[str, str]) -> None:
    """Load the nycflights13 and hotel tables into ``source`` (skipped when already there)."""
    import psycopg2

    from include.etl.source_seed import seed_source

    started = time.monotonic()
    conn = psycopg2.connect(host="127.0.0.1", port=cfg.pg_port, user="source", password="source", dbname="source")
    try:
        counts = seed_source(conn, clock["mode"], date.fromisoformat(clock["anchor"]))
    finally:
        conn.close()
    summary = ", ".join(f"{name} {rows:,}" for name, rows in counts.items())
    print(f"  postgres: source database ready, {clock['mode']} clock ({summary}; {time.monotonic() - started:.1f}s)")


def source_clock(cfg: StackConfig) -> dict[str, str]:
    """The source's clock: ``SOURCE_CLOCK`` (history|replay); a replay anchor is kept until stale.

    The anchor (the day replay aligned the data to) is stored in the stack home and passed to
    Airflow as ``MLOPS_REPLAY_ANCHOR``, so DAG date ranges and the seeded data always agree.
    A new anchor is taken only when replayed data would end before yesterday.
    """
    path = cfg.home / "source_clock.json"
    mode = os.environ.get("SOURCE_CLOCK", "history")
    if mode not in ("history", "replay"):
        raise StackError(f"SOURCE_CLOCK must be 'history' or 'replay', not {mode!r}")
    stored = json.loads(path.read_text()) if path.exists() else {}
    anchor = stored.get("anchor", date.today().isoformat())
    if mode == "replay" and stored.get("mode") == "replay":
        from include.common.usecase import replay_shift
        from include.etl.source_seed import FLIGHTS

        last_day = FLIGHTS.last_day or date.today()
        if last_day + replay_shift(last_day, date.fromisoformat(anchor)) < date.today() - timedelta(days=1):
            anchor = date.today().isoformat()
    elif stored.get("mode") != mode:
        anchor = date.today().isoformat()
    clock = {"mode": mode, "anchor": anchor}
    path.write_text(json.dumps(clock))
    return clock


def pg_connect_ok(cfg: StackConfig) -> bool:
    import psycopg2

    try:
        psycopg2.connect(host="127.0.0.1", port=cfg.pg_port, user="postgres",
                         password=PG_SUPERUSER_PASSWORD, dbname="postgres", connect_timeout=2).close()
    except psycopg2.OperationalError:
        return False
    return True


def ensure_databases(cfg: StackConfig) -> None:
    """Create each role and database once (local placeholder passwords = role names)."""
    import psycopg2

    conn = psycopg2.connect(host="127.0.0.1", port=cfg.pg_port, user="postgres",
                            password=PG_SUPERUSER_PASSWORD, dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        for database, role in DATABASES.items():
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
            if cur.fetchone() is None:
                cur.execute(f'CREATE ROLE "{role}" LOGIN PASSWORD %s', (role,))
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{database}" OWNER "{role}"')
    conn.close()


# --------------------------------------------------------------------------- lakeFS


def lakefs_binary() -> Path:
    versions = (REPO_ROOT / "scripts" / "versions.sh").read_text()
    version = next(line.split("=")[1].strip('"') for line in versions.splitlines()
                   if line.startswith("LAKEFS_VERSION="))
    path = Path(LAKEFS_CACHE.format(home=Path.home(), version=version)) / "lakefs"
    if not path.exists():
        raise StackError(f"lakeFS binary missing at {path}: run `make setup` (builds it with Go)")
    return path


def stack_secret(cfg: StackConfig, name: str, generate: Callable[[], str] | None = None) -> str:
    """A random secret (64 bytes unless ``generate`` says) made once per stack, kept in its home folder."""
    path = cfg.home / "secrets" / name
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(generate() if generate else secrets.token_urlsafe(64))
    return path.read_text().strip()


def provision_lakefs(cfg: StackConfig) -> None:
    state = cfg.home / "lakefs"
    state.mkdir(exist_ok=True)
    (state / "config.yaml").write_text(json.dumps({  # JSON is valid YAML
        "listen_address": f"127.0.0.1:{cfg.lakefs_port}",
        "database": {"type": "local", "local": {"path": str(state / "metadata")}},
        "blockstore": {"type": "local", "local": {"path": str(state / "data")}},
        "committed": {"local_cache": {"dir": str(state / "cache")}},
        "auth": {"encrypt": {"secret_key": stack_secret(cfg, "lakefs_encrypt_key")}},
        "stats": {"enabled": False},
        "usage_report": {"enabled": False},
        "email_subscription": {"enabled": False},  # no sign-up form in the local UI
        "logging": {"format": "text", "level": "INFO"},
    }, indent=2))


def ensure_lakefs_repository(cfg: StackConfig) -> None:
    """Create the default use case's repository (branch ``main``) if it does not exist."""
    import lakefs
    from lakefs.client import Client

    client = Client(host=cfg.lakefs_endpoint, username=cfg.lakefs_access_key_id,
                    password=cfg.lakefs_secret_access_key)
    lakefs.Repository(cfg.lakefs_repository, client=client).create(
        storage_namespace=f"local://{cfg.lakefs_repository}", default_branch="main", exist_ok=True)


# --------------------------------------------------------------------------- Airflow


def telemetry_off() -> dict[str, str]:
    """No usage data leaves a local stack, and nothing waits on a blocked network."""
    return {"GX_ANALYTICS_ENABLED": "False", "MLFLOW_DISABLE_TELEMETRY": "true",
            "BENTOML_DO_NOT_TRACK": "True", "DO_NOT_TRACK": "1", "SCARF_ANALYTICS": "false",
            "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False"}


def airflow_env(cfg: StackConfig) -> dict[str, str]:
    """Settings shared by every Airflow component and by the ``airflow`` CLI."""
    home = cfg.home / "airflow"
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        # LocalExecutor whose workers preload pandas, pyarrow, GX and lakeFS (plugins/mlops/executors)
        "AIRFLOW__CORE__EXECUTOR": "mlops.executors.warm_local.WarmLocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": str(cfg.airflow_parallelism),
        "AIRFLOW__CORE__FERNET_KEY": stack_secret(cfg, "airflow_fernet_key", new_fernet_key),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{cfg.admin_user}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{cfg.airflow_url}/execution/",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": cfg.pg_url("airflow"),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(cfg.airflow_port),
        "AIRFLOW__API__BASE_URL": cfg.airflow_url,
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API_AUTH__JWT_SECRET": stack_secret(cfg, "airflow_jwt_secret"),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "20",
        # how long a running task may go without a heartbeat before the scheduler fails it (and retries it):
        # Airflow's default, 300 s, unless MLOPS_TASK_HEARTBEAT_TIMEOUT says otherwise (the fault tests: 60 s)
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": os.environ.get("MLOPS_TASK_HEARTBEAT_TIMEOUT", "300"),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(cfg.logs / "airflow-tasks"),
        "PYTHONPATH": f"{REPO_ROOT}{os.pathsep}{REPO_ROOT / 'plugins'}",
        "MLOPS_REPLAY_ANCHOR": stored_replay_anchor(cfg),
        "MLOPS_ENVIRONMENT": os.environ.get("MLOPS_ENVIRONMENT", "dev"),  # dev, staging or production
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",  # progress bars would flood task logs
        **telemetry_off(),
        # alert settings from the caller's environment override the Variable mlops_alerts
        **{key: value for key, value in os.environ.items() if key.startswith("MLOPS_ALERT_")},
        # every DAG's delay between retries (mlops.factories.retry_delay; the test stack: 5 s), when set
        **{key: os.environ[key] for key in ("MLOPS_RETRY_DELAY_SECONDS",) if os.environ.get(key)},
    }


def stored_replay_anchor(cfg: StackConfig) -> str:
    path = cfg.home / "source_clock.json"
    return str(json.loads(path.read_text())["anchor"]) if path.exists() else date.today().isoformat()


def new_fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def migrate_airflow(cfg: StackConfig) -> None:
    """Write the login file; migrate the metadata DB when Airflow's version changed."""
    from importlib.metadata import version

    home = cfg.home / "airflow"
    home.mkdir(exist_ok=True)
    (home / "passwords.json").write_text(json.dumps({cfg.admin_user: cfg.admin_password}))
    stamp, started = home / "migrated-version", time.monotonic()
    if stamp.exists() and stamp.read_text() == version("apache-airflow"):
        return
    migrate = subprocess.run([VENV_BIN / "airflow", "db", "migrate"], env={**os.environ, **airflow_env(cfg)},
                             capture_output=True, text=True, check=False)
    if migrate.returncode != 0:
        raise StackError(f"airflow db migrate failed:\n{migrate.stdout[-3000:]}\n{migrate.stderr[-3000:]}")
    stamp.write_text(version("apache-airflow"))
    print(f"  airflow: metadata DB migrated to Airflow {version('apache-airflow')} ({time.monotonic() - started:.1f}s)")


def airflow_healthy(cfg: StackConfig, parts: tuple[str, ...] = ("metadatabase", "scheduler", "triggerer",
                                                               "dag_processor")) -> bool:
    """The API answers and the given components (all by default) report healthy."""
    try:
        health = requests.get(f"{cfg.airflow_url}/api/v2/monitor/health", timeout=3).json()
    except (requests.RequestException, ValueError):
        return False
    return all((health.get(part) or {}).get("status") == "healthy" for part in parts)


def load_airflow_settings(cfg: StackConfig) -> None:
    """Load connections, pools and variables of ``airflow_settings.yaml``, overwriting existing ones."""
    from scripts.airflow_settings import import_over_api, load_settings

    started = time.monotonic()
    settings = load_settings(stack_variables(cfg))
    import_over_api(settings, cfg.airflow_url, cfg.admin_user, cfg.admin_password)
    print(f"  airflow: loaded {len(settings.connections)} connections, {len(settings.pools)} pools, "
          f"{len(settings.variables)} variables from airflow_settings.yaml ({time.monotonic() - started:.1f}s)")


# --------------------------------------------------------------------------- commands


def stack_variables(cfg: StackConfig) -> dict[str, str]:
    """Values that ``airflow_settings.yaml`` and ``make env`` may refer to as ``${NAME}``."""
    return {
        "PG_HOST": "127.0.0.1",
        "PG_PORT": str(cfg.pg_port),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(cfg.smtp_port),
        "WEBHOOK_HOST": "127.0.0.1",
        "WEBHOOK_PORT": str(cfg.webhook_port),
        "LAKEFS_ENDPOINT": cfg.lakefs_endpoint,
        "LAKEFS_ACCESS_KEY_ID": cfg.lakefs_access_key_id,
        "LAKEFS_SECRET_ACCESS_KEY": cfg.lakefs_secret_access_key,
        "LAKEFS_REPOSITORY": cfg.lakefs_repository,
        "MLFLOW_TRACKING_URI": cfg.mlflow_uri,
        "AIRFLOW_API_URL": cfg.airflow_url,
        "AIRFLOW_USERNAME": cfg.admin_user,
        "AIRFLOW_PASSWORD": cfg.admin_password,
        "SERVING_HOME": str(cfg.home / "serving"),
        "SUPERVISOR_SOCKET": str(cfg.supervisor_socket),
    }


def client_connections(cfg: StackConfig) -> dict[str, str]:
    """``AIRFLOW_CONN_*`` for every connection of ``airflow_settings.yaml``: hooks outside Airflow tasks
    (scripts, tests, benchmarks) reach the stack through the same definitions as its tasks."""
    from scripts.airflow_settings import connection_env, load_settings

    return connection_env(load_settings(stack_variables(cfg)))


def env_lines(cfg: StackConfig) -> Iterator[str]:
    """Shell ``export`` lines that point lakeFS, MLflow, Airflow and psql clients at the stack."""
    values = {
        **stack_variables(cfg),
        "LAKECTL_SERVER_ENDPOINT_URL": cfg.lakefs_endpoint,
        "LAKECTL_CREDENTIALS_ACCESS_KEY_ID": cfg.lakefs_access_key_id,
        "LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY": cfg.lakefs_secret_access_key,
        "SOURCE_DB_URL": cfg.pg_url("source", driver="postgresql"),
        **airflow_env(cfg),
    }
    for key, value in values.items():
        yield f"export {key}={shlex.quote(value)}"
    tools = f"{shlex.quote(str(VENV_BIN))}:{shlex.quote(str(lakefs_binary().parent))}"
    yield f'export PATH={tools}:"$PATH"  # airflow, mlflow, lakectl'


def health_checks(cfg: StackConfig) -> dict[str, Callable[[], bool]]:
    """One check per program (an Airflow component: its entry in the API's health report)."""
    airflow_parts = {"scheduler": "scheduler", "dag-processor": "dag_processor", "triggerer": "triggerer",
                     "api-server": "metadatabase"}
    return {
        "postgres": partial(pg_connect_ok, cfg),
        "lakefs": partial(http_ok, f"{cfg.lakefs_endpoint}/api/v1/healthcheck"),
        "alert-sink": partial(http_ok, f"http://127.0.0.1:{cfg.webhook_port}/"),
        "mlflow": partial(http_ok, f"{cfg.mlflow_uri}/health"),
        "serving-proxy": partial(proxy_ok, cfg),
        **{f"airflow-{c}": partial(airflow_healthy, cfg, (part,)) for c, part in airflow_parts.items()},
    }


def start_serving(cfg: StackConfig, checks: dict[str, Callable[[], bool]]) -> None:
    """The proxy, and the slot servers that served before (``make up`` after ``make down``)."""
    from include.serving.slots import live_programs, wait_served_by, write_proxy_files

    layout = serving_layout(cfg)
    write_proxy_files(layout)
    start_programs(cfg, "serving-proxy")
    wait_healthy(cfg, "serving-proxy", checks["serving-proxy"], 30)
    served = live_programs(layout)
    start_programs(cfg, *served)
    for program in served:
        wait_healthy(cfg, program, partial(http_ok, f"http://127.0.0.1:{bento_port(layout, program)}/readyz"), 300)
        _, usecase, slot, _ = program.split("-")  # the slot answers 503 until its server is ready (serve_bento.py)
        wait_served_by(layout.endpoint(usecase, slot), program, 60)
    if served:
        print(f"  serving: {', '.join(served)}")


def bento_port(layout: Any, program: str) -> int:
    return int(json.loads(layout.server_file(*program.split("-")[1:]).read_text())["port"])


def up(cfg: StackConfig) -> None:
    started = time.monotonic()
    for folder in (cfg.logs, cfg.run, cfg.alerts, cfg.home / "mlflow" / "artifacts"):
        folder.mkdir(parents=True, exist_ok=True)
    print(f"Starting the local stack '{cfg.name}' (state and logs in {cfg.home})")
    stop_unsupervised(cfg)
    clock = source_clock(cfg)  # first: Airflow's environment carries its anchor
    provision_postgres(cfg)
    provision_lakefs(cfg)
    start_supervisord(cfg)
    checks = health_checks(cfg)
    start_programs(cfg, "postgres", "lakefs", "alert-sink")
    wait_healthy(cfg, "postgres", checks["postgres"], 60)
    ensure_databases(cfg)
    start_programs(cfg, "mlflow")
    migrate_airflow(cfg)
    start_programs(cfg, *(f"airflow-{c}" for c in AIRFLOW_COMPONENTS))
    seed_source_database(cfg, clock)  # while MLflow and Airflow boot
    wait_healthy(cfg, "lakefs", checks["lakefs"], 60)
    ensure_lakefs_repository(cfg)
    wait_healthy(cfg, "alert-sink", checks["alert-sink"], 30)
    # generous: a crash is seen at once (supervisord gives up: FATAL); a busy machine boots slowly
    wait_healthy(cfg, "mlflow", checks["mlflow"], 600)
    wait_healthy(cfg, "airflow-api-server", partial(airflow_healthy, cfg), 600)
    load_airflow_settings(cfg)
    start_serving(cfg, checks)
    print(f"Stack up in {time.monotonic() - started:.1f}s.\n")
    print(f"  Airflow UI  {cfg.airflow_url}   login {cfg.admin_user} / {cfg.admin_password}")
    print(f"  MLflow UI   {cfg.mlflow_uri}")
    print(f"  lakeFS UI   {cfg.lakefs_endpoint}   access key {cfg.lakefs_access_key_id}"
          f" / secret {cfg.lakefs_secret_access_key}")
    print(f"  PostgreSQL  127.0.0.1:{cfg.pg_port}  (source db: {cfg.pg_url('source', 'postgresql')})")
    layout = serving_layout(cfg)
    for usecase in layout.usecases:
        print(f"  Serving     {usecase}: production {layout.endpoint(usecase, 'production')}, "
              f"staging {layout.endpoint(usecase, 'staging')}  (POST /predict, /docs)")
    print(f"  Alerts      SMTP 127.0.0.1:{cfg.smtp_port}, webhook 127.0.0.1:{cfg.webhook_port}; "
          f"received in {cfg.alerts}/mail.jsonl, webhook.jsonl")
    print(f"  Logs        {cfg.logs}  (make logs SERVER=<program>; make status)\n"
          f"  Shell env   eval \"$(make -s env)\"")


def down(cfg: StackConfig) -> None:
    """Stop the programs through supervisord, then supervisord by its recorded pid; check that no
    process of the stack and no port is left, escalating to SIGKILL if needed."""
    print(f"Stopping the local stack '{cfg.name}'")
    stopped = stop_unsupervised(cfg)
    session = recorded_supervisord(cfg)
    if session is not None:
        stopped, processes = True, stack_processes(session)
        if process_info(cfg):
            stop_programs(cfg)
        if session in alive(processes):
            os.kill(session, signal.SIGTERM)
            wait_until(lambda: session not in alive(processes), 30)
        if left := alive(remaining := {**processes, **stack_processes(session)}):
            print(f"  still running: pids {left}; terminating them")
            terminate(remaining)
        cfg.supervisor_pidfile.unlink(missing_ok=True)
        print("  supervisord: stopped")
    if not stopped:
        print("  nothing was running")
    elif not wait_until(lambda: all(map(port_free, cfg.ports.values())), 10):
        raise StackError(f"ports still in use: {[p for p in cfg.ports.values() if not port_free(p)]}")
    else:
        print("  no process of the stack and no port left")


def stop_unsupervised(cfg: StackConfig) -> bool:
    """Stop what the earlier, unsupervised stack.py started (``run/<server>.pid`` sessions, a
    ``pg_ctl`` cluster); True if there was any."""
    legacy = [path for path in cfg.run.glob("*.pid") if path != cfg.supervisor_pidfile]
    if legacy:
        print(f"  stopping {', '.join(p.stem for p in legacy)} (started without supervisord)")
        terminate({pid: start for path in legacy if path.stem != "postgres"
                   for pid, start in stack_processes(int(path.read_text())).items()}, 30)
        if any(path.stem == "postgres" for path in legacy):
            subprocess.run(as_postgres([pg_bin("pg_ctl"), "-D", str(postgres_data_dir(cfg) / "data"), "-m", "fast",
                                        "-w", "stop"]), check=False, capture_output=True)
        for path in legacy:
            path.unlink()
    return bool(legacy)


def clean(cfg: StackConfig) -> None:
    """Stop the stack and delete all its state (data, logs, secrets), wherever it lives."""
    down(cfg)
    postgres = cfg.home / "postgres"
    if postgres.is_symlink():
        shutil.rmtree(postgres.resolve(), ignore_errors=True)
    shutil.rmtree(cfg.home, ignore_errors=True)
    print(f"  deleted {cfg.home}")


def status(cfg: StackConfig) -> int:
    """supervisord's state of each program (as ``supervisorctl status``) and its health check."""
    info = process_info(cfg)
    print(f"  supervisord: {f'running, pid {recorded_supervisord(cfg)}' if info else 'not running'}")
    healthy = {name: check() for name, check in health_checks(cfg).items()}
    for name, ok in healthy.items():
        program = info.get(name, {})
        print(f"  {name:22s} {program.get('statename', '-'):9s} {'healthy' if ok else 'DOWN':8s} "
              f"{program.get('description', '')}")
    for name, program in info.items():  # the slot servers deployments started
        if name.startswith("bento-") and program["statename"] != "STOPPED":
            print(f"  {name:34s} {program['statename']:9s} {program.get('description', '')}")
    return 0 if all(healthy.values()) else 1


def restart(cfg: StackConfig, program: str) -> None:
    if not process_info(cfg):
        raise StackError(f"the stack '{cfg.name}' is not running: make up")
    print(f"Restarting {program}")
    with contextlib.suppress(xmlrpc.client.Fault):  # it was not running
        supervisor(cfg).stopProcess(program, True)
    supervisor(cfg).startProcess(program, False)
    wait_healthy(cfg, program, health_checks(cfg)[program], 600)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("up", "down", "status", "env", "clean"):
        commands.add_parser(name)
    logs = commands.add_parser("logs", help="print a program's log (-f: follow it)")
    layout = serving_layout(StackConfig.from_env())
    logs.add_argument("program", choices=(*PROGRAMS, *(layout.program(*p) for p in layout.programs()), "supervisord"))
    logs.add_argument("-n", "--lines", type=int, default=100)
    logs.add_argument("-f", "--follow", action="store_true")
    commands.add_parser("restart", help="restart one program").add_argument("program", choices=PROGRAMS)
    args = parser.parse_args(argv)
    cfg = StackConfig.from_env()
    if args.command == "logs":  # the file itself: readable when the stack is down too
        os.execvp("tail", ["tail", "-n", str(args.lines), *(["-F"] if args.follow else []),
                           str(cfg.logs / f"{args.program}.log")])
    try:
        if args.command == "env":
            print("\n".join(env_lines(cfg)))
        elif args.command == "status":
            return status(cfg)
        elif args.command == "restart":
            restart(cfg, args.program)
        else:
            {"up": up, "down": down, "clean": clean}[args.command](cfg)
    except StackError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO_ROOT))
    sys.exit(main())
