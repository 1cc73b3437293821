"""Build ``deploy_<use case>`` and ``rollback_<use case>`` from a use case's ``serving`` settings
(cheap to parse: operators import their libraries when they run)."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG, Param

from include.common.environments import current_environment, usecase_names
from include.common.usecase import UseCase
from mlops.assets import challenger_asset, production_asset
from mlops.factories import paused_upon_creation, retry_delay
from mlops.factories.guide import guide_link
from mlops.notifications.failure import failure_notifier
from mlops.operators.deployment import DeployToSlotOperator, ProductionApprovalOperator, RollbackProductionOperator
from mlops.operators.serving import InfraValidationOperator, PackageBentoOperator, ResolveCandidateOperator

APPROVAL_SUBJECT = ("Promote {{ ti.xcom_pull(task_ids='resolve_candidate')['model_name'] }} version "
                    "{{ ti.xcom_pull(task_ids='resolve_candidate')['model_version'] }} to production?")
APPROVAL_BODY = """{% set c = ti.xcom_pull(task_ids='resolve_candidate') %}\
{% set v = ti.xcom_pull(task_ids='infra_validation') %}\
{% set s = ti.xcom_pull(task_ids='deploy_staging') %}\
**{{ c['model_name'] }} version {{ c['model_version'] }}** replaces \
{{ ('version ' ~ c['champion_version']) if c['champion_version'] else 'nothing (first production model)' }}.
It already serves on staging: {{ s['endpoint'] }}.

**Evaluation gate:** {{ c['gate_verdict'] }}
{% for reason in c['gate_reasons'] %}
- {{ reason }}
{% endfor %}

**Infra validation** (served for real):
{% for line in v['summary'].splitlines() %}
- {{ line.lstrip('- ') }}
{% endfor %}

[MLflow model version]({{ c['model_url'] }}) · [Infra validation report]({{ v['report_url'] }}) · \
[Staging endpoint docs]({{ s['endpoint'] }}/docs)

Approve: production switches to this version with no failed request, and `champion` moves.
Reject: production and `champion` stay as they are."""


def deploy_doc(usecase: UseCase) -> str:
    serving, environment = usecase.require_serving(), current_environment()
    model = usecase_names(usecase, environment).registered_model
    if not serving.auto_approve:
        approval = ""
    elif environment.allows_auto_approval:
        approval = f" — **auto-approved** in {environment.name} (the use case's `serving.auto_approve`)"
    else:
        approval = (f" — the use case asks for `serving.auto_approve`, which {environment.name} refuses: this task "
                    "fails until the use case stops asking")
    return f"""
### Deploy `{usecase.name}`: challenger → Bento → infra validation → staging → approval → production

Starts on each `challenger_{usecase.name}` event (a version that passed the evaluation gate; backfilled
events are ignored), or manually with **model_version**. Only gated versions of `{model}` are deployed.

1. `resolve_candidate`: the version, its gate verdict and the current champion.
2. `package`: a Bento from the MLflow model version: request schema from the use case's features typed by the
   model's signature (1 to {serving.max_batch_size} records), adaptive batching (max latency
   {serving.max_latency_ms} ms), labels with the MLflow run, version, lakeFS commit and code version; its own
   pinned serving environment (no Airflow in it).
3. `infra_validation`: served for real on a free port: ready within {serving.ready_timeout_seconds:.0f} s;
   {serving.parity_rows} holdout rows must match the MLflow model (|Δ| ≤ {serving.parity_tolerance:g}); each
   malformed request gets a 4xx and the server stays up; load test ({serving.load_test.requests} requests at
   concurrency {serving.load_test.concurrency}) within p99 {serving.budget.p99_ms:.0f} ms and
   ≥ {serving.budget.min_requests_per_second:g} req/s. Report on the MLflow run; a failure fails the task,
   alerts, and nothing is promoted.
4. `deploy_staging`: the staging slot switches to the Bento; alias `staging` moves.
5. `approve_production`: a person approves in **Required actions** (the body shows the verdicts and
   links){approval}. Reject: nothing changes.
6. `deploy_production`: the production slot switches with no failed request (the new server must be ready
   before the proxy routes to it; the old one drains); `champion` moves and the replaced champion is
   recorded for `rollback_{usecase.name}`.

{guide_link("approve", "rollback", "alerts")}
"""


def build_deploy_dag(usecase: UseCase) -> DAG:
    usecase.require_serving()
    with DAG(
        dag_id=f"deploy_{usecase.name}",
        is_paused_upon_creation=paused_upon_creation(),
        schedule=[challenger_asset(usecase)],
        catchup=False,
        max_active_runs=1,  # events batch; the newest version is deployed
        tags=["deployment", usecase.name, "bentoml", "serving"],
        doc_md=deploy_doc(usecase),
        default_args={"owner": usecase.owner, "retries": 1, "retry_delay": retry_delay(30),
                      "on_failure_callback": failure_notifier()},
        params={"model_version": Param(None, type=["null", "string"], pattern=r"^\d+$", title="Model version",
                                       description="Registered version to deploy. Empty: the triggering "
                                                   "challenger event's version.")},
    ) as dag:
        common = {"usecase": usecase.name}
        candidate = ResolveCandidateOperator(task_id="resolve_candidate", model_version="{{ params.model_version }}",
                                             **common)
        bento = PackageBentoOperator(task_id="package", candidate=candidate.output,
                                     execution_timeout=timedelta(minutes=20), **common)
        # a failed check raises AirflowFailException: a verdict is never retried (errors reaching it are)
        validated = InfraValidationOperator(task_id="infra_validation", bento=bento.output,
                                            execution_timeout=timedelta(minutes=20), **common)
        staging = DeployToSlotOperator(task_id="deploy_staging", slot="staging", bento=bento.output,
                                       pool="serving_slots", execution_timeout=timedelta(minutes=10), **common)
        approval = ProductionApprovalOperator(task_id="approve_production", subject=APPROVAL_SUBJECT,
                                              body=APPROVAL_BODY, response_timeout=timedelta(days=3), **common)
        production = DeployToSlotOperator(task_id="deploy_production", slot="production", bento=bento.output,
                                          approval=approval.output, pool="serving_slots",
                                          outlets=[production_asset(usecase)],
                                          execution_timeout=timedelta(minutes=10), **common)
        candidate >> bento >> validated >> staging >> approval >> production
    return dag


def build_rollback_dag(usecase: UseCase) -> DAG:
    usecase.require_serving()
    with DAG(
        dag_id=f"rollback_{usecase.name}",
        is_paused_upon_creation=paused_upon_creation(),
        schedule=None,
        catchup=False,
        max_active_runs=1,
        tags=["deployment", usecase.name, "rollback"],
        doc_md=f"""
### Roll back `{usecase.name}` production

Production switches back to the champion's recorded predecessor (or **to_version**) with no failed request,
and `champion` follows. Also `make rollback USECASE={usecase.name}`.

{guide_link("rollback")}
""",
        default_args={"owner": usecase.owner, "retries": 1, "retry_delay": retry_delay(30),
                      "on_failure_callback": failure_notifier()},
        params={"to_version": Param(None, type=["null", "string"], pattern=r"^\d+$", title="Version to roll back to",
                                    description="Empty: the version the current champion replaced.")},
    ) as dag:
        RollbackProductionOperator(task_id="rollback_production", usecase=usecase.name,
                                   to_version="{{ params.to_version }}", pool="serving_slots",
                                   outlets=[production_asset(usecase)], execution_timeout=timedelta(minutes=10))
    return dag
