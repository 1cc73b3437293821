"""Operators that move a validated Bento into a serving slot: staging, the human approval for
production, production itself, and production's rollback (``include.serving.deployment``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.providers.standard.operators.hitl import ApprovalOperator

from mlops.links import BentoDocsLink, MlflowModelLink, push_link
from mlops.operators.base import InputError, optional_text
from mlops.operators.serving import ServingOperator


class DeployToSlotOperator(ServingOperator):
    """Switch ``slot`` (staging or production) to the Bento with no failed request, then move the slot's
    alias (``staging`` / ``champion``). Production records who approved and the champion it replaced,
    and emits the outlet Asset event (model name, version, Bento, endpoint)."""

    template_fields: Sequence[str] = ("bento", "approval")
    operator_extra_links = (BentoDocsLink(), MlflowModelLink())

    def __init__(self, *, slot: str, bento: Any, approval: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if slot not in ("staging", "production"):
            raise ValueError(f"slot must be staging or production, not {slot!r}")
        self.slot = slot
        self.bento = bento
        self.approval = approval

    def execute(self, context: Any) -> dict[str, Any]:
        from include.common.metadata import AssetExtra
        from include.serving.deployment import deploy
        from include.serving.packaging import BentoRef

        usecase = self.load_usecase()
        bento = BentoRef.from_dict(self.bento)
        mlflow, serving = self.mlflow(), self.serving()
        approved_by = approver(self.approval)
        state = deploy(mlflow.get_conn(), serving.get_conn(), serving.layout, usecase, bento, self.slot, approved_by)
        endpoint = serving.layout.endpoint(usecase.name, self.slot)
        push_link(context, BentoDocsLink, f"{endpoint}/docs")
        push_link(context, MlflowModelLink, self.model_url(mlflow, bento.model_name, bento.model_version))
        previous = (state.previous or {}).get("model_version")
        self.log.info("%s %s now serves %s version %s (%s) at %s%s", usecase.name, self.slot, bento.model_name,
                      bento.model_version, bento.tag, endpoint, f"; before: version {previous}" if previous else "")
        for asset in self.outlets:
            context["outlet_events"][asset].extra = {
                AssetExtra.MODEL_NAME: bento.model_name, AssetExtra.MODEL_VERSION: bento.model_version,
                AssetExtra.BENTO: bento.tag, AssetExtra.ENDPOINT: endpoint}
        return {"endpoint": endpoint, "model_version": bento.model_version, "bento": bento.tag,
                "previous_version": previous, "approved_by": approved_by}


def approver(approval: Any) -> str:
    """Who answered the approval task (its XCom), or empty without one."""
    if not isinstance(approval, dict):
        return ""
    user = approval.get("responded_by_user") or {}
    return str(user.get("name") or user.get("id") or "") if isinstance(user, dict) else str(user)


class ProductionApprovalOperator(ApprovalOperator):
    """The human approval before production (Airflow's HITL screen; subject and body are templates).

    With the use case's ``auto_approve`` setting, allowed only in the ``dev`` environment, it approves at
    once and says so. A rejection skips the promotion: production and ``champion`` stay as they were."""

    def __init__(self, *, usecase: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.usecase = usecase

    def execute(self, context: Any) -> Any:
        from include.common.usecase import current_environment, load_usecase

        serving = load_usecase(self.usecase).require_serving()
        environment = current_environment()
        if serving.auto_approve:
            if environment != "dev":
                raise InputError(f"use case {self.usecase}: auto_approve is allowed only in dev, not in "
                                 f"{environment}; a person approves production here")
            self.log.info("auto-approved (use case setting auto_approve, environment dev)")
            return {"chosen_options": [self.APPROVE], "params_input": {},
                    "responded_by_user": {"id": "auto", "name": "auto-approval (dev)"}}
        return super().execute(context)

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        if event.get("chosen_options") == [self.REJECT]:  # before super(): it ends by skipping downstream
            self.log.warning("rejected by %s: production and the champion alias stay as they were",
                             approver(event) or "unknown")
        return super().execute_complete(context=context, event=event)


class RollbackProductionOperator(ServingOperator):
    """Production back to the champion's recorded predecessor (or ``to_version``), with the same switch."""

    template_fields: Sequence[str] = ("to_version",)
    operator_extra_links = (BentoDocsLink(), MlflowModelLink())

    def __init__(self, *, to_version: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.to_version = to_version

    def execute(self, context: Any) -> dict[str, Any]:
        from include.common.metadata import AssetExtra
        from include.serving.deployment import DeploymentError, rollback

        usecase = self.load_usecase()
        mlflow, serving = self.mlflow(), self.serving()
        try:
            state = rollback(mlflow.get_conn(), serving.get_conn(), serving.layout, usecase,
                             optional_text(self.to_version))
        except DeploymentError as error:
            raise InputError(f"rollback: {error}") from None
        endpoint = serving.layout.endpoint(usecase.name, "production")
        model_name = usecase.require_training().registered_model
        push_link(context, BentoDocsLink, f"{endpoint}/docs")
        push_link(context, MlflowModelLink, self.model_url(mlflow, model_name, state.model_version))
        self.log.info("%s production rolled back to version %s (%s)", usecase.name, state.model_version, state.bento)
        for asset in self.outlets:
            context["outlet_events"][asset].extra = {
                AssetExtra.MODEL_NAME: model_name, AssetExtra.MODEL_VERSION: state.model_version,
                AssetExtra.BENTO: state.bento, AssetExtra.ENDPOINT: endpoint}
        return {"endpoint": endpoint, "model_version": state.model_version, "bento": state.bento}
