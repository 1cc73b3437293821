"""Environments as configuration: one YAML file per deployment in ``config/environments/``.

``MLOPS_ENVIRONMENT`` (``dev``, ``test``, ``staging`` or ``prod``; default ``dev``) selects the file. It
says what differs between deployments of the same DAGs and use cases: the names of the lakeFS
repositories, MLflow registered models and experiments (:func:`usecase_names`, the one place those
names are derived), whether the production approval may be automatic (only ``dev`` may allow it),
where alerts go, whether new DAGs start paused, and where the credentials come from. The files hold
connection ids and addresses only, never a secret: the schema has no field for one, and unknown keys
are refused.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from include.common.config import Strict, validation_problems
from include.common.metadata import monitoring_experiment_name, training_experiment_name

if TYPE_CHECKING:
    from include.common.usecase import UseCase

ENVIRONMENTS_DIR = Path(__file__).resolve().parents[2] / "config" / "environments"
ENVIRONMENT_ENV = "MLOPS_ENVIRONMENT"
MISSPELLED_ENV = "MLOPS_ENV"  # a likely guess at ENVIRONMENT_ENV's name
DEFAULT_ENVIRONMENT = "dev"
EnvironmentName = Literal["dev", "test", "staging", "prod"]
ENVIRONMENTS: tuple[str, ...] = get_args(EnvironmentName)
AUTO_APPROVAL_ENVIRONMENTS = ("dev",)  # the only environments whose file may allow automatic approval
PLACEHOLDER = "{name}"
# What each rendered name must look like (lakeFS's repository rule; the use case's model-name rule, longer)
REPOSITORY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{2,62}$")
MODEL_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{1,100}$")
EXPERIMENT_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./-]{0,200}$")


class EnvironmentConfigError(ValueError):
    """``MLOPS_ENVIRONMENT`` names no environment, or an environment file is missing or invalid."""


def render(template: str, name: str) -> str:
    return template.replace(PLACEHOLDER, name)


class NamingConfig(Strict):
    """How this environment names what a use case declares: ``{name}`` is the declared name."""

    lakefs_repository: str = Field(PLACEHOLDER, description="the use case's lakefs_repository, e.g. '{name}-prod'")
    registered_model: str = Field(PLACEHOLDER, description="training.registered_model, e.g. '{name}_prod'")
    experiment: str = Field(PLACEHOLDER, description="MLflow experiments train_<use case> and monitor_<use case>, "
                                                     "e.g. 'prod/{name}'")

    @model_validator(mode="after")
    def templates_are_valid(self) -> NamingConfig:
        for field, pattern, sample in (("lakefs_repository", REPOSITORY_PATTERN, "abc"),
                                       ("registered_model", MODEL_PATTERN, "abc"),
                                       ("experiment", EXPERIMENT_PATTERN, "train_abc")):
            template = getattr(self, field)
            if template.count(PLACEHOLDER) != 1 or "{" in render(template, "") or "}" in render(template, ""):
                raise ValueError(f"naming.{field} {template!r}: must contain {PLACEHOLDER} exactly once "
                                 "and no other braces")
            if not pattern.match(render(template, sample)):
                raise ValueError(f"naming.{field} {template!r} gives names like {render(template, sample)!r}, "
                                 f"which do not match {pattern.pattern}")
        return self

    def name(self, field: Literal["lakefs_repository", "registered_model", "experiment"], declared: str) -> str:
        """The name this environment gives to ``declared`` (checked: e.g. a repository name too long)."""
        pattern = {"lakefs_repository": REPOSITORY_PATTERN, "registered_model": MODEL_PATTERN,
                   "experiment": EXPERIMENT_PATTERN}[field]
        rendered = render(getattr(self, field), declared)
        if not pattern.match(rendered):
            raise EnvironmentConfigError(f"naming.{field} turns {declared!r} into {rendered!r}, which does not "
                                         f"match {pattern.pattern}")
        return rendered


class ApprovalConfig(Strict):
    allow_automatic: bool = Field(description="a use case's serving.auto_approve may skip the human approval "
                                              "before production; only dev may say true")


class AlertRoutes(Strict):
    """Where alerts go (failures, drift, gate rejections). The Variable ``mlops_alerts`` and ``MLOPS_ALERT_*``
    environment variables still override a key at notify time (``include.common.alerting``)."""

    recipients: list[str] = Field(min_length=1, description="email addresses")
    from_email: str | None = Field(None, description="None: the SMTP connection's from_email extra")
    smtp_conn_id: str = Field(description="an Airflow SMTP connection id; empty: no email")
    webhook_conn_id: str = Field(description="an Airflow Slack-webhook connection id; empty: no chat message")

    @field_validator("recipients")
    @classmethod
    def addresses(cls, recipients: list[str]) -> list[str]:
        bad = [r for r in recipients if not re.fullmatch(r"[^@\s,]+@[^@\s,]+", r)]
        if bad:
            raise ValueError(f"not email addresses: {bad}")
        return recipients

    def settings(self) -> dict[str, Any]:
        """The keys of ``include.common.alerting.AlertSettings`` these routes set."""
        return {"recipients": ", ".join(self.recipients), "from_email": self.from_email,
                "smtp_conn_id": self.smtp_conn_id, "webhook_conn_id": self.webhook_conn_id}


class DagsConfig(Strict):
    paused_upon_creation: bool = Field(description="a DAG the scheduler sees for the first time starts paused")


CredentialsSource = Literal["repository_placeholders", "environment_or_secrets_backend"]


class CredentialsConfig(Strict):
    """Where this environment's connections (and so its credentials) come from. Never a value here."""

    source: CredentialsSource = Field(description="repository_placeholders: the loopback-only placeholders of "
                                                  "airflow_settings.yaml (local stacks); environment_or_secrets_"
                                                  "backend: AIRFLOW_CONN_<ID> variables or Airflow's secrets backend")
    connections: list[str] = Field(min_length=1, description="connection ids the DAGs of this environment use")


class EnvironmentConfig(Strict):
    name: EnvironmentName
    description: str
    naming: NamingConfig = Field(default_factory=lambda: NamingConfig.model_validate({}))
    production_approval: ApprovalConfig
    alerts: AlertRoutes
    dags: DagsConfig
    credentials: CredentialsConfig

    @model_validator(mode="after")
    def only_dev_may_approve_automatically(self) -> EnvironmentConfig:
        if self.production_approval.allow_automatic and self.name not in AUTO_APPROVAL_ENVIRONMENTS:
            raise ValueError(f"production_approval.allow_automatic: true is allowed only in "
                             f"{', '.join(AUTO_APPROVAL_ENVIRONMENTS)}, not in {self.name}: a person approves "
                             "production here")
        return self

    @model_validator(mode="after")
    def shared_deployments_use_real_credentials(self) -> EnvironmentConfig:
        if self.name in ("staging", "prod") and self.credentials.source == "repository_placeholders":
            raise ValueError(f"credentials.source: {self.name} cannot use the repository's placeholders; "
                             "use environment_or_secrets_backend")
        return self

    @model_validator(mode="after")
    def alert_connections_are_declared(self) -> EnvironmentConfig:
        undeclared = [c for c in (self.alerts.smtp_conn_id, self.alerts.webhook_conn_id)
                      if c and c not in self.credentials.connections]
        if undeclared:
            raise ValueError(f"alerts use connections {undeclared} missing from credentials.connections")
        return self

    @property
    def allows_auto_approval(self) -> bool:
        return self.production_approval.allow_automatic


def environment_name(environ: Mapping[str, str] | None = None) -> str:
    """The environment this process runs in: ``MLOPS_ENVIRONMENT``, default ``dev``. ``MLOPS_ENV`` alone is
    refused rather than ignored: it would silently run as dev, the one environment that may self-approve."""
    environ = os.environ if environ is None else environ
    if environ.get(MISSPELLED_ENV, "").strip() and not environ.get(ENVIRONMENT_ENV, "").strip():
        raise EnvironmentConfigError(f"{MISSPELLED_ENV} is set but not read: set {ENVIRONMENT_ENV} "
                                     f"({', '.join(ENVIRONMENTS)})")
    value = environ.get(ENVIRONMENT_ENV, "").strip() or DEFAULT_ENVIRONMENT
    if value not in ENVIRONMENTS:
        raise EnvironmentConfigError(f"{ENVIRONMENT_ENV}={value!r}: must be one of {', '.join(ENVIRONMENTS)}")
    return value


def environment_file(name: str) -> Path:
    return ENVIRONMENTS_DIR / f"{name}.yaml"


def load_environment_file(path: Path) -> EnvironmentConfig:
    """Read and validate one environment file; every error names the file."""
    try:
        raw = yaml.safe_load(path.read_text())
        environment = EnvironmentConfig.model_validate(raw or {})
    except (OSError, yaml.YAMLError) as error:
        raise EnvironmentConfigError(f"{path}: cannot read: {error}") from error
    except ValidationError as error:
        raise EnvironmentConfigError(f"{path}: invalid environment: {validation_problems(error)}") from None
    if environment.name != path.stem:
        raise EnvironmentConfigError(f"{path}: name {environment.name!r} must match the file name {path.stem!r}")
    return environment


@cache
def load_environment(name: str) -> EnvironmentConfig:
    """The configuration of environment ``name`` (read once per process)."""
    if name not in ENVIRONMENTS:
        raise EnvironmentConfigError(f"unknown environment {name!r}: must be one of {', '.join(ENVIRONMENTS)}")
    return load_environment_file(environment_file(name))


def current_environment() -> EnvironmentConfig:
    """The configuration of the environment ``MLOPS_ENVIRONMENT`` selects."""
    return load_environment(environment_name())


@dataclass(frozen=True)
class UseCaseNames:
    """A use case's names in one environment: what every stage reads and writes."""

    environment: str
    usecase: str
    lakefs_repository: str
    training_experiment: str
    monitoring_experiment: str
    model: str | None  # None: the use case has no training section

    @property
    def registered_model(self) -> str:
        if self.model is None:
            from include.common.usecase import UseCaseError

            raise UseCaseError(f"use case {self.usecase!r} has no 'training' section (no registered model)")
        return self.model


def usecase_names(usecase: UseCase, environment: EnvironmentConfig | None = None) -> UseCaseNames:
    """The lakeFS repository, MLflow registered model and experiment names of ``usecase`` in ``environment``
    (default: the current one). Code reads these names only through this function."""
    env = environment or current_environment()
    naming = env.naming
    try:
        return UseCaseNames(
            environment=env.name, usecase=usecase.name,
            lakefs_repository=naming.name("lakefs_repository", usecase.lakefs_repository),
            training_experiment=naming.name("experiment", training_experiment_name(usecase.name)),
            monitoring_experiment=naming.name("experiment", monitoring_experiment_name(usecase.name)),
            model=naming.name("registered_model", usecase.training.registered_model) if usecase.training else None)
    except EnvironmentConfigError as error:
        raise EnvironmentConfigError(f"{environment_file(env.name)}, use case {usecase.name}: {error}") from None
