"""Environment files: each loads, bad ones are refused naming the file, and the names they derive."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from include.common.environments import (
    ENVIRONMENTS,
    ENVIRONMENTS_DIR,
    EnvironmentConfigError,
    current_environment,
    environment_file,
    environment_name,
    load_environment,
    load_environment_file,
    usecase_names,
)
from include.common.usecase import UseCaseError, load_usecase


def test_there_is_one_valid_file_per_environment_and_nothing_else() -> None:
    assert sorted(p.stem for p in ENVIRONMENTS_DIR.glob("*.yaml")) == sorted(ENVIRONMENTS)
    for name in ENVIRONMENTS:
        assert load_environment(name).name == name


def test_dev_and_test_keep_todays_names_staging_and_prod_have_their_own() -> None:
    flights, hotels = load_usecase("flights"), load_usecase("hotels")
    expected = {  # environment: flights repository, model, training experiment, monitoring experiment; hotels model
        "dev": ("flights", "flights_delay", "train_flights", "monitor_flights", "hotels_price"),
        "test": ("flights", "flights_delay", "train_flights", "monitor_flights", "hotels_price"),
        "staging": ("flights-staging", "flights_delay_staging", "staging/train_flights", "staging/monitor_flights",
                    "hotels_price_staging"),
        "prod": ("flights-prod", "flights_delay_prod", "prod/train_flights", "prod/monitor_flights",
                 "hotels_price_prod"),
    }
    for name, (repository, model, train, monitor, hotels_model) in expected.items():
        names = usecase_names(flights, load_environment(name))
        assert (names.lakefs_repository, names.registered_model, names.training_experiment,
                names.monitoring_experiment) == (repository, model, train, monitor), name
        assert usecase_names(hotels, load_environment(name)).registered_model == hotels_model
    # no two environments share a name: staging and prod may share lakeFS and MLflow servers
    for field in ("lakefs_repository", "model", "training_experiment"):
        values = {getattr(usecase_names(flights, load_environment(n)), field) for n in ("dev", "staging", "prod")}
        assert len(values) == 3, field


def test_the_current_environment_follows_mlops_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLOPS_ENVIRONMENT", raising=False)
    assert environment_name() == "dev" and current_environment().name == "dev"
    monkeypatch.setenv("MLOPS_ENVIRONMENT", "prod")
    assert current_environment().name == "prod"
    assert usecase_names(load_usecase("flights")).lakefs_repository == "flights-prod"
    assert environment_name({"MLOPS_ENVIRONMENT": "staging"}) == "staging"


def test_mlops_env_alone_is_refused_not_taken_for_dev() -> None:
    with pytest.raises(EnvironmentConfigError, match="MLOPS_ENV is set but not read: set MLOPS_ENVIRONMENT"):
        environment_name({"MLOPS_ENV": "prod"})
    assert environment_name({"MLOPS_ENV": "prod", "MLOPS_ENVIRONMENT": "prod"}) == "prod"


@pytest.mark.parametrize("value", ["production", "PROD", "qa"])
def test_an_unknown_environment_name_is_refused(value: str) -> None:
    with pytest.raises(EnvironmentConfigError, match=f"MLOPS_ENVIRONMENT='{value}': must be one of dev, test, "
                                                     "staging, prod"):
        environment_name({"MLOPS_ENVIRONMENT": value})
    with pytest.raises(EnvironmentConfigError, match="unknown environment"):
        load_environment(value)


def test_only_dev_may_approve_production_automatically() -> None:
    assert [n for n in ENVIRONMENTS if load_environment(n).allows_auto_approval] == ["dev"]


def test_paused_at_creation_except_in_prod() -> None:
    assert {n: load_environment(n).dags.paused_upon_creation for n in ENVIRONMENTS} == {
        "dev": True, "test": True, "staging": True, "prod": False}


def test_shared_deployments_take_credentials_from_outside_the_repository() -> None:
    for name in ENVIRONMENTS:
        environment = load_environment(name)
        expected = "repository_placeholders" if name in ("dev", "test") else "environment_or_secrets_backend"
        assert environment.credentials.source == expected
    assert load_environment("prod").alerts.webhook_conn_id == "slack_alerts_prod"


def variant(tmp_path: Path, name: str, edit: dict[str, object], file_name: str | None = None) -> Path:
    """A copy of ``name``'s file with top-level keys replaced (a value of None deletes the key)."""
    raw = yaml.safe_load(environment_file(name).read_text())
    for key, value in edit.items():
        if value is None:
            raw.pop(key)
        else:
            raw[key] = value
    folder = tmp_path / str(len(list(tmp_path.iterdir())))  # one folder per variant: names stay <env>.yaml
    folder.mkdir()
    path = folder / f"{file_name or name}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.mark.parametrize("name", ["test", "staging", "prod"])
def test_automatic_approval_outside_dev_is_refused_at_load(tmp_path: Path, name: str) -> None:
    path = variant(tmp_path, name, {"production_approval": {"allow_automatic": True}})
    with pytest.raises(EnvironmentConfigError) as error:
        load_environment_file(path)
    assert str(path) in str(error.value)
    assert f"allow_automatic: true is allowed only in dev, not in {name}" in str(error.value)


def test_an_unknown_key_is_refused_naming_the_file_and_the_key(tmp_path: Path) -> None:
    path = variant(tmp_path, "prod", {"lakefs_password": "hunter2"})  # no field could hold a secret
    with pytest.raises(EnvironmentConfigError, match=r"prod\.yaml: invalid environment: lakefs_password: Extra "
                                                     "inputs are not permitted"):
        load_environment_file(path)
    path = variant(tmp_path, "prod", {"alerts": {"recipients": ["a@example.com"], "smtp_conn_id": "smtp_default",
                                                 "webhook_conn_id": "", "smtp_password": "x"}})
    with pytest.raises(EnvironmentConfigError, match=r"alerts\.smtp_password: Extra inputs"):
        load_environment_file(path)


def test_other_mistakes_are_refused_with_clear_errors(tmp_path: Path) -> None:
    cases = [
        (variant(tmp_path, "staging", {}, file_name="prod"), "name 'staging' must match the file name 'prod'"),
        (variant(tmp_path, "dev", {"name": "preprod"}, file_name="preprod"), "name: Input should be 'dev'"),
        (variant(tmp_path, "prod", {"dags": None}), "dags: Field required"),
        (variant(tmp_path, "prod", {"naming": {"lakefs_repository": "prod-flights"}}),
         r"must contain \{name\} exactly once"),
        (variant(tmp_path, "prod", {"naming": {"lakefs_repository": "{name}_prod"}}),
         "gives names like 'abc_prod', which do not match"),
        (variant(tmp_path, "prod", {"naming": {"experiment": "{name}/{env}"}}), "no other braces"),
        (variant(tmp_path, "staging", {"credentials": {"source": "repository_placeholders",
                                                       "connections": ["smtp_default", "slack_alerts_staging"]}}),
         "staging cannot use the repository's placeholders"),
        (variant(tmp_path, "prod", {"alerts": {"recipients": ["oncall@example.com"], "smtp_conn_id": "smtp_default",
                                               "webhook_conn_id": "pager"}}),
         r"alerts use connections \['pager'\] missing from credentials.connections"),
        (variant(tmp_path, "prod", {"alerts": {"recipients": ["oncall"], "smtp_conn_id": "smtp_default",
                                               "webhook_conn_id": ""}}), r"not email addresses: \['oncall'\]"),
    ]
    for path, message in cases:
        with pytest.raises(EnvironmentConfigError, match=message) as error:
            load_environment_file(path)
        assert str(path) in str(error.value)
    missing = tmp_path / "nowhere" / "prod.yaml"
    with pytest.raises(EnvironmentConfigError, match=f"{missing}: cannot read"):
        load_environment_file(missing)


def test_a_name_the_environment_cannot_give_is_an_error_naming_file_and_use_case(tmp_path: Path) -> None:
    environment = load_environment_file(variant(tmp_path, "prod", {"naming": {"lakefs_repository": "{name}-"
                                                                              + "x" * 57}}))
    with pytest.raises(EnvironmentConfigError, match=r"prod\.yaml, use case flights: naming.lakefs_repository "
                                                     "turns 'flights' into"):
        usecase_names(load_usecase("flights"), environment)


def test_a_use_case_without_training_has_no_registered_model() -> None:
    flights = load_usecase("flights")
    bare = flights.model_copy(update={"training": None, "serving": None, "monitoring": None})
    names = usecase_names(bare, load_environment("prod"))
    assert names.lakefs_repository == "flights-prod" and names.model is None
    with pytest.raises(UseCaseError, match="has no 'training' section"):
        _ = names.registered_model
