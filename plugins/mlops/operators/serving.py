"""Operators of ``deploy_<use case>`` up to the verdict: resolve the candidate version, package it
as a Bento, validate it served for real. Each wires Airflow to ``include.serving`` with clients
from the hooks; inputs are explicit templated arguments."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk.exceptions import AirflowFailException

from mlops.hooks.mlflow import MlflowHook
from mlops.hooks.serving import ServingHook
from mlops.links import InfraReportLink, MlflowModelLink, push_link
from mlops.operators.base import InputError, UseCaseOperator, optional_text


class InfraValidationFailed(AirflowFailException):
    """The served Bento failed a check: the model is not promoted (no retry: the verdict stands)."""


class ServingOperator(UseCaseOperator):
    """Serving-stage wiring: the MLflow and serving connections, links to what a task acted on."""

    def __init__(self, *, mlflow_conn_id: str = MlflowHook.default_conn_name,
                 serving_conn_id: str = ServingHook.default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mlflow_conn_id = mlflow_conn_id
        self.serving_conn_id = serving_conn_id

    def mlflow(self) -> MlflowHook:
        return MlflowHook(self.mlflow_conn_id)

    def serving(self) -> ServingHook:
        return ServingHook(self.serving_conn_id)

    @staticmethod
    def model_url(mlflow: MlflowHook, model_name: str, version: str) -> str:
        return f"{mlflow.ui_url}/#/models/{model_name}/versions/{version}"


class ResolveCandidateOperator(ServingOperator):
    """The version to deploy: ``model_version``, else the newest ``challenger_<name>`` event's. It must
    exist and have passed the evaluation gate. Runs of backfilled events are skipped."""

    template_fields: Sequence[str] = ("model_version",)
    operator_extra_links = (MlflowModelLink(),)

    def __init__(self, *, model_version: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model_version = model_version

    def execute(self, context: Any) -> dict[str, Any]:
        from include.common.metadata import Alias, AssetExtra
        from include.common.registry import alias_version
        from include.serving.deployment import DeploymentError, resolve_candidate

        usecase = self.load_usecase()
        usecase.require_serving()
        events = self.live_asset_events(context, "nothing deployed")
        from_event = next((str(e.extra[AssetExtra.MODEL_VERSION]) for e in reversed(events)
                           if (e.extra or {}).get(AssetExtra.MODEL_VERSION)), None)
        version = optional_text(self.model_version) or from_event
        if version is None:
            raise InputError("model_version: give the registered version to deploy (or trigger from a "
                             f"challenger_{usecase.name} event)")
        mlflow = self.mlflow()
        try:
            candidate = resolve_candidate(mlflow.get_conn(), usecase, version)
        except DeploymentError as error:
            raise InputError(f"model_version: {error}") from None
        push_link(context, MlflowModelLink, self.model_url(mlflow, candidate.model_name, candidate.version))
        self.log.info("deploying %s version %s (gate: %s)", candidate.model_name, candidate.version,
                      candidate.gate_verdict)
        champion = alias_version(mlflow.get_conn(), candidate.model_name, Alias.CHAMPION)
        return {**candidate.to_dict(), "champion_version": champion,
                "model_url": self.model_url(mlflow, candidate.model_name, candidate.version)}


class PackageBentoOperator(ServingOperator):
    """Build the Bento of the candidate version (and its serving environment); rebuilding replaces it."""

    template_fields: Sequence[str] = ("candidate",)
    operator_extra_links = (MlflowModelLink(),)

    def __init__(self, *, candidate: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.candidate = candidate

    def execute(self, context: Any) -> dict[str, str]:
        from include.common.lineage import code_version
        from include.serving.packaging import build_bento

        usecase = self.load_usecase()
        mlflow = self.mlflow()
        push_link(context, MlflowModelLink, self.candidate["model_url"])
        bento = build_bento(mlflow.get_conn(), usecase, self.candidate["model_version"],
                           self.serving().bentoml_home, code_version())
        self.log.info("built Bento %s; serving environment %s", bento.tag, bento.environment)
        return bento.to_dict()


class InfraValidationOperator(ServingOperator):
    """Serve the Bento on a free port and check readiness, parity with the MLflow model, malformed
    requests and a load test against the use case's budget. The report goes to the MLflow run and
    version; a failure fails the task (an alert names every reason) and nothing is promoted."""

    template_fields: Sequence[str] = ("bento",)
    operator_extra_links = (InfraReportLink(), MlflowModelLink())

    def __init__(self, *, bento: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bento = bento

    def execute(self, context: Any) -> dict[str, Any]:
        from include.common.metadata import Artifact
        from include.serving.deployment import infra_validate, record_infra_report
        from include.serving.packaging import BentoRef

        usecase = self.load_usecase()
        bento = BentoRef.from_dict(self.bento)
        mlflow, serving = self.mlflow(), self.serving()
        client = mlflow.get_conn()
        report = infra_validate(client, usecase, bento, serving.bentoml_home, serving.scratch_dir())
        record_infra_report(client, bento, report)
        run = client.get_run(bento.run_id)
        report_url = (f"{mlflow.ui_url}/#/experiments/{run.info.experiment_id}/runs/{bento.run_id}"
                      f"/artifacts/{Artifact.INFRA_VALIDATION}")
        push_link(context, InfraReportLink, report_url)
        push_link(context, MlflowModelLink, self.model_url(mlflow, bento.model_name, bento.model_version))
        self.log.info("%s", report.summary())
        if not report.passed:
            raise InfraValidationFailed(f"{bento.model_name} version {bento.model_version} failed infra validation, "
                                        f"not promoted:\n{report.summary()}\nReport: {report_url}")
        return {"summary": report.summary(), "report_url": report_url, "load": report.load,
                "ready_seconds": report.ready_seconds}
