"""Build the images and run the compose stack (``docker-compose.yaml``) with podman, or with Docker.

Usage: ``python scripts/compose.py images|up|down|status``, ``serve <Bento image>`` (profile "serving": the Bento
behind the nginx proxy, ``COMPOSE_SERVING_PORT``); ``make images``, ``make compose-up``,
``make compose-down`` call it.

With podman (the default, ``CONTAINER_ENGINE=podman``): the project's ``deploy/podman/containers.conf``
(``CONTAINERS_CONF``), Debian's ``docker-compose`` 1.29 talking to a ``podman system service`` socket that this
script starts for the duration of each command (it honours ``depends_on`` conditions, which podman-compose
1.0.3 ignores), and a **health-check ticker**: podman schedules container health checks with systemd timers,
and without systemd (these machines) no check ever runs, so a container stays ``starting`` for ever. The ticker
(``python scripts/compose.py ticker``, started by ``up``, stopped by ``down`` by its recorded pid) runs
``podman healthcheck run`` for each container of the project every few seconds.

With Docker (``CONTAINER_ENGINE=docker``): ``docker build`` and ``docker compose up -d --wait``; Docker runs the
health checks itself.

The project name (``COMPOSE_PROJECT_NAME``, default ``mlops``) labels every container, network and volume;
``down`` removes them all and checks that none is left. State (socket, pids, logs) lives in
``.stack/compose-<project>/``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
IMAGES = {  # image -> Dockerfile
    "localhost/mlops-airflow:latest": "deploy/containers/project.Dockerfile",
    "localhost/mlops-postgres:latest": "deploy/containers/postgres.Dockerfile",
    "localhost/mlops-redis:latest": "deploy/containers/redis.Dockerfile",
    "localhost/mlops-nginx:latest": "deploy/containers/nginx.Dockerfile",
}
PROJECT_LABEL = "com.docker.compose.project"
ONE_SHOT = {"airflow-init"}  # services that run to completion (exit 0) instead of staying healthy
NICE = ["nice", "-n", "19", "ionice", "-c3"]  # builds and the stack share the machine


class ComposeError(RuntimeError):
    """A build, start or tear-down of the compose stack failed."""


@dataclass(frozen=True)
class Compose:
    engine: str
    project: str
    base_image: str

    @classmethod
    def from_env(cls) -> Compose:
        engine = os.environ.get("CONTAINER_ENGINE", "podman")
        if engine not in ("podman", "docker"):
            raise ComposeError(f"CONTAINER_ENGINE must be podman or docker, not {engine!r}")
        return cls(engine=engine, project=os.environ.get("COMPOSE_PROJECT_NAME", "mlops"),
                   base_image=os.environ.get("BASE_IMAGE", "localhost/debian-base" if engine == "podman"
                                             else "debian:bookworm-slim"))

    @property
    def state(self) -> Path:
        return REPO_ROOT / ".stack" / f"compose-{self.project}"

    @property
    def socket(self) -> Path:
        return self.state / "podman.sock"

    @property
    def env(self) -> dict[str, str]:
        env = {**os.environ, "COMPOSE_PROJECT_NAME": self.project}
        if self.engine == "podman":
            env["CONTAINERS_CONF"] = os.environ.get("CONTAINERS_CONF",
                                                    str(REPO_ROOT / "deploy" / "podman" / "containers.conf"))
            env["DOCKER_HOST"] = f"unix://{self.socket}"
        return env

    def run(self, *args: str | Path, check: bool = True, capture: bool = False,
            timeout: float | None = None) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([str(a) for a in args], env=self.env, cwd=REPO_ROOT, text=True, check=False,
                                capture_output=capture, timeout=timeout)
        if check and result.returncode != 0:
            detail = f"\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}" if capture else ""
            raise ComposeError(f"{' '.join(map(str, args))} exited {result.returncode}{detail}")
        return result

    def compose_command(self, *profiles: str) -> list[str]:
        options = ["-p", self.project, "-f", str(REPO_ROOT / "docker-compose.yaml"),
                   *(arg for profile in profiles for arg in ("--profile", profile))]
        return ["docker", "compose", *options] if self.engine == "docker" else ["docker-compose", *options]


# --------------------------------------------------------------------------- images


def git_revision() -> str:
    try:
        revision = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True,
                                  check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{revision}-dirty" if dirty else revision


def prepare_build_context() -> None:
    """``build/``: the lakeFS server the project builds, this machine's extra CA certificates, the git revision."""
    revision = REPO_ROOT / "build" / "REVISION"
    revision.parent.mkdir(parents=True, exist_ok=True)
    if not revision.exists() or revision.read_text().strip() != git_revision():
        revision.write_text(git_revision() + "\n")
    lakefs_dir = subprocess.run(["bash", str(REPO_ROOT / "scripts" / "install_lakefs.sh")], capture_output=True,
                                text=True, check=True).stdout.strip().splitlines()[-1]
    target = REPO_ROOT / "build" / "lakefs" / "lakefs"
    target.parent.mkdir(parents=True, exist_ok=True)
    source = Path(lakefs_dir) / "lakefs"
    if not target.exists() or target.stat().st_mtime != source.stat().st_mtime:
        shutil.copy2(source, target)  # same mtime and content: the build's COPY layer stays cached
    certs = REPO_ROOT / "build" / "ca-certificates"
    certs.mkdir(parents=True, exist_ok=True)
    for cert in Path("/usr/local/share/ca-certificates").glob("*.crt"):
        if not (certs / cert.name).exists() or (certs / cert.name).read_bytes() != cert.read_bytes():
            shutil.copy2(cert, certs / cert.name)


def check_environment(environ: dict[str, str]) -> str:
    """The environment the stack would run as (``MLOPS_ENVIRONMENT``), checked before anything is built or started:
    otherwise airflow-init would be the first to refuse it, inside a container."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from include.common.environments import EnvironmentConfigError, environment_name, load_environment

    try:
        return load_environment(environment_name(environ)).name
    except EnvironmentConfigError as error:
        raise ComposeError(str(error)) from None


def build_images(compose: Compose) -> None:
    if compose.engine == "podman":
        subprocess.run(["bash", str(REPO_ROOT / "scripts" / "install_podman.sh")], check=True, env=compose.env)
    prepare_build_context()
    for image, dockerfile in IMAGES.items():
        started = time.monotonic()
        args = ["--build-arg", f"BASE_IMAGE={compose.base_image}"]
        print(f"images: building {image} from {dockerfile} (base {compose.base_image})", flush=True)
        compose.run(*NICE, compose.engine, "build", "-q", "-f", dockerfile, "-t", image, *args, ".")
        print(f"images: {image} built in {time.monotonic() - started:.1f}s", flush=True)
    compose.run(compose.engine, "images", "--filter", "reference=localhost/*")


# --------------------------------------------------------------------------- podman API socket and ticker


@contextlib.contextmanager
def api_service(compose: Compose) -> Iterator[None]:
    """podman's Docker-compatible API on the project's socket, for docker-compose; stopped afterwards."""
    if compose.engine != "podman":
        yield
        return
    compose.state.mkdir(parents=True, exist_ok=True)
    compose.socket.unlink(missing_ok=True)
    log = (compose.state / "podman-service.log").open("a")
    service = subprocess.Popen(["podman", "system", "service", "--time=0", f"unix://{compose.socket}"],
                               env=compose.env, stdout=log, stderr=log, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not compose.socket.exists():
            if service.poll() is not None or time.monotonic() > deadline:
                raise ComposeError(f"podman system service did not open {compose.socket} "
                                   f"(log: {compose.state / 'podman-service.log'})")
            time.sleep(0.2)
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(service.pid, signal.SIGTERM)
        try:
            service.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(service.pid, signal.SIGKILL)
            service.wait(timeout=5)
        log.close()


def container_name(container: dict[str, Any]) -> str:
    names = container.get("Names", "")
    return str(names[0] if isinstance(names, list) else names)


def containers(compose: Compose) -> list[dict[str, Any]]:
    """The project's containers as ``podman ps -a --format json`` / ``docker ps -a`` lists them."""
    result = compose.run(compose.engine, "ps", "-a", "--filter", f"label={PROJECT_LABEL}={compose.project}",
                         "--format", "json", capture=True)
    if compose.engine == "docker":
        return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return list(json.loads(result.stdout or "[]"))


def health(compose: Compose) -> dict[str, str]:
    """Service -> ``healthy``, ``starting``, ``unhealthy``, ``exited(<code>)`` or the container's state."""
    states: dict[str, str] = {}
    for container in containers(compose):
        name = container_name(container)
        inspect = json.loads(compose.run(compose.engine, "inspect", name, capture=True).stdout)[0]
        service = inspect["Config"]["Labels"].get("com.docker.compose.service", name)
        state = inspect["State"]
        if state.get("Status") == "exited":
            states[service] = f"exited({state.get('ExitCode')})"
        elif (state.get("Health") or state.get("Healthcheck") or {}).get("Status"):
            states[service] = str((state.get("Health") or state.get("Healthcheck"))["Status"])
        else:
            states[service] = str(state.get("Status"))
    return states


def ticker(compose: Compose, fast: float = 3, slow: float = 15) -> None:
    """Run every health check of the project's running containers, forever: every ``fast`` seconds while one is
    starting or unhealthy, every ``slow`` seconds once all are healthy (podman has no scheduler without systemd)."""
    while True:
        all_healthy = True
        try:
            for container in containers(compose):
                if container.get("State") != "running":
                    continue
                name = container_name(container)
                result = subprocess.run(["podman", "healthcheck", "run", name], env=compose.env,
                                        capture_output=True, text=True, check=False, timeout=60)
                if "has no defined healthcheck" in result.stderr:
                    continue
                all_healthy &= result.returncode == 0
        except (ComposeError, subprocess.TimeoutExpired, ValueError) as error:  # podman busy: try again
            print(f"ticker: {error}", file=sys.stderr, flush=True)
            all_healthy = False
        time.sleep(slow if all_healthy else fast)


def pidfile(compose: Compose) -> Path:
    return compose.state / "ticker.pid"


def start_ticker(compose: Compose) -> None:
    if compose.engine != "podman" or ticker_pid(compose):
        return
    compose.state.mkdir(parents=True, exist_ok=True)
    log = (compose.state / "ticker.log").open("a")
    process = subprocess.Popen([*NICE, sys.executable, str(Path(__file__).resolve()), "ticker"], env=compose.env,
                               stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
    pidfile(compose).write_text(str(process.pid))


def ticker_pid(compose: Compose) -> int | None:
    """The recorded ticker's pid when that process is still the ticker (not a reused pid)."""
    path = pidfile(compose)
    if not path.exists():
        return None
    pid = int(path.read_text())
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        path.unlink()
        return None
    return pid if b"compose.py\x00ticker" in cmdline else None


def stop_ticker(compose: Compose) -> None:
    pid = ticker_pid(compose)
    if pid:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)  # its own session: the process group is the ticker and its podman calls
        deadline = time.monotonic() + 10
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
    pidfile(compose).unlink(missing_ok=True)


# --------------------------------------------------------------------------- up / down


def wait_healthy(compose: Compose, timeout: float) -> dict[str, str]:
    deadline, last = time.monotonic() + timeout, {}
    while time.monotonic() < deadline:
        last = health(compose)
        failed = {s: h for s, h in last.items() if h == "unhealthy" or (h.startswith("exited")
                                                                        and not (s in ONE_SHOT and h == "exited(0)"))}
        if failed:
            raise ComposeError(f"services failed: {failed}\n{logs_hint(compose, failed)}")
        if last and all(h == "healthy" or (s in ONE_SHOT and h == "exited(0)") for s, h in last.items()):
            return last
        time.sleep(3)
    waiting = {s: h for s, h in last.items() if h != "healthy" and s not in ONE_SHOT}
    raise ComposeError(f"not every service became healthy within {timeout:.0f}s: {last}\n"
                       f"{logs_hint(compose, waiting)}")


def logs_hint(compose: Compose, services: dict[str, str], lines: int = 25) -> str:
    """The last log lines of each of ``services`` (what a failed start needs to be understood)."""
    parts = []
    for service in services:
        name = f"{compose.project}_{service}_1"
        result = compose.run(compose.engine, "logs", "--tail", str(lines), name, check=False, capture=True)
        parts.append(f"--- {compose.engine} logs {name} (last {lines} lines):\n{result.stdout}{result.stderr}")
    return "\n".join(parts)


def up(compose: Compose, timeout: float) -> None:
    started = time.monotonic()
    missing = [image for image in IMAGES
               if compose.run(compose.engine, "image", "inspect", image, check=False, capture=True).returncode]
    if missing:
        raise ComposeError(f"images missing: {missing}; run `make images` first")
    if compose.engine == "docker":
        compose.run(*compose.compose_command(), "up", "-d", "--wait", "--wait-timeout", str(int(timeout)))
    else:
        start_ticker(compose)  # docker-compose waits on service_healthy conditions: checks must run meanwhile
        with api_service(compose):
            try:
                compose.run(*NICE, *compose.compose_command(), "up", "-d", "--no-build", timeout=timeout)
            except ComposeError as error:  # e.g. airflow-init exited non-zero: say which service and why
                states = health(compose)
                failed = {s: h for s, h in states.items() if h not in ("healthy", "exited(0)")}
                raise ComposeError(f"{error}\nservices: {states}\n{logs_hint(compose, failed)}") from None
    states = wait_healthy(compose, timeout)
    env = compose.env
    print(f"compose: project {compose.project} up in {time.monotonic() - started:.1f}s as environment "
          f"{env.get('MLOPS_ENVIRONMENT') or 'dev'}: " + ", ".join(f"{s} {h}" for s, h in sorted(states.items())))
    print(f"  Airflow UI  http://127.0.0.1:{env.get('COMPOSE_AIRFLOW_PORT', '28080')}   login admin / admin\n"
          f"  MLflow UI   http://127.0.0.1:{env.get('COMPOSE_MLFLOW_PORT', '25000')}\n"
          f"  lakeFS UI   http://127.0.0.1:{env.get('COMPOSE_LAKEFS_PORT', '28000')}   "
          f"placeholder access key and secret: LAKEFS_INSTALLATION_* in docker-compose.yaml\n"
          f"  PostgreSQL  127.0.0.1:{env.get('COMPOSE_PG_PORT', '35432')}\n"
          f"  alert sink  SMTP 127.0.0.1:{env.get('COMPOSE_SMTP_PORT', '21025')}, "
          f"webhook http://127.0.0.1:{env.get('COMPOSE_WEBHOOK_PORT', '28025')}")


def serve(compose: Compose, image: str, timeout: float) -> None:
    """Profile "serving": the Bento ``image`` behind the nginx proxy, in the running stack's project."""
    started = time.monotonic()
    os.environ["BENTO_IMAGE"] = image
    services = ("bento", "serving-proxy")
    if compose.engine == "docker":
        compose.run(*compose.compose_command("serving"), "up", "-d", "--wait", *services)
    else:
        start_ticker(compose)
        with api_service(compose):
            compose.run(*NICE, *compose.compose_command("serving"), "up", "-d", "--no-build", *services,
                        timeout=timeout)
    states = wait_healthy(compose, timeout)
    port = compose.env.get("COMPOSE_SERVING_PORT", "28301")
    print(f"compose: {image} served in {time.monotonic() - started:.1f}s behind http://127.0.0.1:{port} "
          f"({', '.join(f'{s} {states.get(s)}' for s in services)})")


def leftovers(compose: Compose) -> dict[str, list[str]]:
    """Containers, networks and volumes that still carry the project's label."""
    label = f"label={PROJECT_LABEL}={compose.project}"
    found = {}
    for kind, args in (("containers", ["ps", "-a", "--filter", label, "--format", "{{.Names}}"]),
                       ("networks", ["network", "ls", "--filter", label, "--format", "{{.Name}}"]),
                       ("volumes", ["volume", "ls", "--filter", label, "--format", "{{.Name}}"])):
        found[kind] = compose.run(compose.engine, *args, capture=True).stdout.split()
    return found


def down(compose: Compose) -> None:
    started = time.monotonic()
    stop_ticker(compose)
    with api_service(compose):
        compose.run(*compose.compose_command("serving"), "down", "--volumes", "--remove-orphans", "--timeout", "10",
                    check=False)
    left = leftovers(compose)
    if any(left.values()):  # e.g. a container created by hand in the project: remove, then say so
        print(f"compose: removing leftovers {left}")
        if left["containers"]:
            compose.run(compose.engine, "rm", "-f", "-t", "5", *left["containers"], check=False)
        if left["networks"]:
            compose.run(compose.engine, "network", "rm", *left["networks"], check=False)
        if left["volumes"]:
            compose.run(compose.engine, "volume", "rm", "-f", *left["volumes"], check=False)
        left = leftovers(compose)
        if any(left.values()):
            raise ComposeError(f"left behind after down: {left}")
    print(f"compose: project {compose.project} down in {time.monotonic() - started:.1f}s; "
          f"no container, network or volume left")


def status(compose: Compose) -> int:
    states = health(compose)
    for service, state in sorted(states.items()):
        print(f"  {service:24s} {state}")
    print(f"  health-check ticker: {f'pid {ticker_pid(compose)}' if ticker_pid(compose) else 'not running'}")
    return 0 if states and all(h == "healthy" or s in ONE_SHOT for s, h in states.items()) else 1


def terminated(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # runs the finally blocks: the podman API service is stopped too


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, terminated)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("images", "up", "down", "status", "ticker", "serve"))
    parser.add_argument("image", nargs="?", help="serve: the Bento image (scripts/bento_image.py built it)")
    parser.add_argument("--timeout", type=float, default=float(os.environ.get("COMPOSE_UP_TIMEOUT", "900")))
    args = parser.parse_args(argv)
    try:
        compose = Compose.from_env()
        if args.command in ("images", "up"):
            check_environment(compose.env)
        if args.command == "images":
            build_images(compose)
        elif args.command == "up":
            up(compose, args.timeout)
        elif args.command == "down":
            down(compose)
        elif args.command == "serve":
            if not args.image:
                raise ComposeError("usage: compose.py serve <Bento image>")
            serve(compose, args.image, args.timeout)
        elif args.command == "status":
            return status(compose)
        else:
            ticker(compose)
    except (ComposeError, subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
