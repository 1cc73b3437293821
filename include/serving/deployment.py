"""Deployment steps as plain functions (operators, scripts and tests call these): resolve the
candidate, validate its Bento for real, move it into a slot with its alias, roll production back."""

from __future__ import annotations

import json
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from include.common.metadata import Alias, Artifact, TagKey
from include.common.registry import alias_version, set_alias
from include.common.usecase import UseCase
from include.serving.packaging import BentoRef, bento_environment, bento_model_dir, bento_name
from include.serving.server import running_bento
from include.serving.slots import ProcessControl, SlotLayout, SlotState, read_slot, switch
from include.serving.validation import InfraReport, offline_predictions, validate

if TYPE_CHECKING:
    from mlflow import MlflowClient

SLOT_ALIASES = {"staging": Alias.STAGING, "production": Alias.CHAMPION}


class DeploymentError(ValueError):
    """A deployment request that cannot be carried out (unknown or ungated version, nothing to roll back to)."""


@dataclass(frozen=True)
class Candidate:
    """A registered version asked to be deployed, with its evaluation gate's verdict."""

    model_name: str
    version: str
    run_id: str
    gate_verdict: str
    gate_reasons: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "model_version": self.version, "run_id": self.run_id,
                "gate_verdict": self.gate_verdict, "gate_reasons": self.gate_reasons}


def resolve_candidate(client: MlflowClient, usecase: UseCase, version: str) -> Candidate:
    """The version to deploy; it must exist and have passed the evaluation gate."""
    from mlflow.exceptions import MlflowException

    model_name = bento_name(usecase)
    if not version.isdigit():
        raise DeploymentError(f"model_version {version!r} is not a version number of {model_name}")
    try:
        found = client.get_model_version(model_name, version)
    except MlflowException:
        raise DeploymentError(f"{model_name} has no version {version}") from None
    verdict = found.tags.get(TagKey.GATE_VERDICT, "")
    if not verdict.startswith("pass"):
        raise DeploymentError(f"{model_name} version {version} has not passed the evaluation gate "
                              f"(verdict: {verdict or 'none'}); only gated versions are deployed")
    return Candidate(model_name, version, str(found.run_id), verdict,
                     json.loads(found.tags.get(TagKey.GATE_REASONS, "[]")))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def holdout_sample(client: MlflowClient, run_id: str, rows: int) -> pd.DataFrame:
    """The first ``rows`` of the held-out feature rows the training run recorded."""
    with tempfile.TemporaryDirectory() as folder:
        return pd.read_parquet(client.download_artifacts(run_id, Artifact.HOLDOUT_SAMPLE, folder)).head(rows)


def infra_validate(client: MlflowClient, usecase: UseCase, bento: BentoRef, bentoml_home: Path,
                   log_dir: Path) -> InfraReport:
    """Serve the Bento on a free loopback port from its own environment and run every check."""
    serving = usecase.require_serving()
    sample = holdout_sample(client, bento.run_id, serving.parity_rows)
    offline = offline_predictions(str(bento_model_dir(bentoml_home, bento.tag)), sample, usecase.task)
    log_file = log_dir / f"{bento.tag.replace(':', '-')}.log"
    try:
        with running_bento(Path(bento.environment), bentoml_home, bento.tag, free_port(),
                           serving.ready_timeout_seconds, log_file) as server:
            return validate(server.url, server.ready_seconds, bento.tag, usecase, sample, offline)
    except RuntimeError as error:  # never ready: the server's log says why
        tail = log_file.read_text(errors="replace")[-1500:] if log_file.exists() else ""
        return InfraReport(bento.tag, serving.ready_timeout_seconds,
                           reasons=[f"not served: {error}", *([f"server log: {tail}"] if tail else [])])


def record_infra_report(client: MlflowClient, bento: BentoRef, report: InfraReport) -> None:
    """The verdict on the training run (JSON artifact, metrics) and on the model version (tags)."""
    client.log_dict(bento.run_id, report.to_dict(), Artifact.INFRA_VALIDATION)
    for key, value in report.metrics().items():
        client.log_metric(bento.run_id, key, value)
    tags = {TagKey.INFRA_VERDICT: report.verdict, TagKey.INFRA_REASONS: json.dumps(report.reasons)[:5000],
            TagKey.INFRA_REPORT: f"runs:/{bento.run_id}/{Artifact.INFRA_VALIDATION}", TagKey.BENTO: bento.tag}
    for tag, text in tags.items():
        client.set_model_version_tag(bento.model_name, bento.model_version, tag, text)


def deploy(client: MlflowClient, control: ProcessControl, layout: SlotLayout, usecase: UseCase, bento: BentoRef,
           slot: str, approved_by: str = "") -> SlotState:
    """Switch ``slot`` to the Bento, then move the slot's alias (``staging`` or ``champion``) to its version.
    Production records the champion it replaced (what a rollback returns to) and who approved."""
    alias = SLOT_ALIASES[slot]
    previous = alias_version(client, bento.model_name, alias)
    state = switch(control, layout, usecase.name, slot, bento.tag, bento.environment, bento.model_version,
                   usecase.require_serving().ready_timeout_seconds)
    if slot == "production":
        if previous and previous != bento.model_version:
            client.set_model_version_tag(bento.model_name, bento.model_version, TagKey.PREVIOUS_CHAMPION, previous)
        if approved_by:
            client.set_model_version_tag(bento.model_name, bento.model_version, TagKey.APPROVED_BY, approved_by)
    set_alias(client, bento.model_name, alias, bento.model_version)
    return state


def rollback_target(client: MlflowClient, usecase: UseCase, layout: SlotLayout, to_version: str | None) -> BentoRef:
    """The version production goes back to: ``to_version``, else the champion's recorded predecessor."""
    model_name = bento_name(usecase)
    champion = alias_version(client, model_name, Alias.CHAMPION)
    if to_version is None:
        if champion is None:
            raise DeploymentError(f"{model_name} has no champion: nothing to roll back")
        recorded = client.get_model_version(model_name, champion).tags.get(TagKey.PREVIOUS_CHAMPION)
        if not recorded:
            raise DeploymentError(f"{model_name} champion version {champion} records no previous champion; "
                                  "name the version to roll back to")
        to_version = str(recorded)
    if to_version == champion and (state := read_slot(layout, usecase.name, "production")) is not None \
            and state.model_version == to_version:
        raise DeploymentError(f"production already serves {model_name} version {to_version}")
    target = client.get_model_version(model_name, to_version)
    tag = target.tags.get(TagKey.BENTO)
    if not tag:
        raise DeploymentError(f"{model_name} version {to_version} was never packaged (no Bento): deploy it instead")
    environment = bento_environment(layout.bentoml_home, tag)
    return BentoRef(tag, str(environment), model_name, to_version, str(target.run_id))


def rollback(client: MlflowClient, control: ProcessControl, layout: SlotLayout, usecase: UseCase,
             to_version: str | None = None) -> SlotState:
    """Production back to an earlier version, with the same no-failed-request switch; ``champion`` follows."""
    target = rollback_target(client, usecase, layout, to_version)
    state = switch(control, layout, usecase.name, "production", target.tag, target.environment,
                   target.model_version, usecase.require_serving().ready_timeout_seconds)
    set_alias(client, target.model_name, Alias.CHAMPION, target.model_version)
    return state
