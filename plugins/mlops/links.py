"""Extra links in the Airflow UI: each opens a URL that its task pushed as an XCom."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseOperatorLink


class XComUrlLink(BaseOperatorLink):
    """A button named ``name`` that opens the URL the task pushed under the XCom key ``key``."""

    name = ""
    key = ""

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        from airflow.sdk.execution_time.xcom import XCom

        return str(XCom.get_value(ti_key=ti_key, key=self.key) or "")


class LakeFSLink(XComUrlLink):
    """The lakeFS commit or branch the task wrote or read."""

    name = "lakeFS"
    key = "lakefs_url"


class MlflowRunLink(XComUrlLink):
    """The MLflow run the task logged (or judged)."""

    name = "MLflow run"
    key = "mlflow_run_url"


class MlflowModelLink(XComUrlLink):
    """The registered model version the task created (or judged)."""

    name = "MLflow model version"
    key = "mlflow_model_url"


class DriftReportLink(XComUrlLink):
    """The day's Evidently drift report (HTML), opened in MLflow's artifact viewer."""

    name = "Drift report"
    key = "drift_report_url"


class TrendPlotLink(XComUrlLink):
    """The trend plot (PNG) of the last monitored days."""

    name = "Trend plot"
    key = "trend_plot_url"


def push_link(context: Any, link: type[XComUrlLink], url: str) -> None:
    context["ti"].xcom_push(key=link.key, value=url)


class InfraReportLink(XComUrlLink):
    """The infra validation report (JSON on the model's MLflow run)."""

    name = "Infra validation report"
    key = "infra_report_url"


class BentoDocsLink(XComUrlLink):
    """The served endpoint's API docs (BentoML's Swagger UI at ``/docs``)."""

    name = "Endpoint docs"
    key = "endpoint_docs_url"
