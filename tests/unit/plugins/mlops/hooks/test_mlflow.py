"""MlflowHook's credentials: the connection's token or login, and nothing left from another connection."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from mlops.hooks.mlflow import CREDENTIAL_VARIABLES, MlflowHook


def hook_for(login: str | None = None, password: str | None = None, token: str | None = None) -> MlflowHook:
    hook = MlflowHook("mlflow_test")
    hook.__dict__["_connection"] = SimpleNamespace(  # the cached connection: no Airflow connection lookup
        host="http://mlflow.test:5000/", schema=None, port=None, login=login, password=password,
        extra_dejson={"token": token} if token else {})
    return hook


def test_a_token_wins_over_a_login_and_an_open_server_needs_nothing() -> None:
    assert hook_for("u", "p", token="t").credentials() == {"MLFLOW_TRACKING_TOKEN": "t"}
    assert hook_for("u", "p").credentials() == {"MLFLOW_TRACKING_USERNAME": "u", "MLFLOW_TRACKING_PASSWORD": "p"}
    assert hook_for("u").credentials() == {"MLFLOW_TRACKING_USERNAME": "u", "MLFLOW_TRACKING_PASSWORD": ""}
    assert hook_for().credentials() == {}


def test_the_client_uses_the_connection_and_clears_credentials_of_another(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in CREDENTIAL_VARIABLES:  # set through monkeypatch, so they are restored after the test
        monkeypatch.setenv(variable, "left over from another connection")
    hook = hook_for("alice", "secret")
    client = hook.get_conn()
    assert client is hook.get_conn() and client.tracking_uri == "http://mlflow.test:5000"
    assert {v: os.environ.get(v) for v in CREDENTIAL_VARIABLES} == {
        "MLFLOW_TRACKING_USERNAME": "alice", "MLFLOW_TRACKING_PASSWORD": "secret", "MLFLOW_TRACKING_TOKEN": None}
