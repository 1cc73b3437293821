"""The training service's pure parts: run settings from a run's parameters, the pinned window."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from include.common.usecase import load_usecase
from include.training.service import (
    PinnedData,
    TooFewDaysError,
    TrainingInputError,
    evaluate_version,
    parse_hyperparameters,
    pin_window,
    run_settings_for,
)

PINNED = PinnedData.from_dict({"repository": "flights", "commit_id": "c", "reference": "main",
                               "window_start": "2013-02-01", "window_end": "2013-03-28", "days": 56})


def test_pinned_data_round_trips_through_its_xcom_dict() -> None:
    assert PinnedData.from_dict(PINNED.to_dict()) == PINNED
    assert PINNED.to_dict()["window_end"] == "2013-03-28"


def test_run_parameters_override_the_use_case_defaults() -> None:
    usecase = load_usecase("flights")
    default = run_settings_for(usecase, PINNED, seed=42)
    assert default.family == "hist_gradient_boosting" and default.hyperparameters["max_iter"] == 200
    forest = run_settings_for(usecase, PINNED, family="random_forest", hyperparameters={"max_depth": 8}, seed=7)
    assert forest.hyperparameters == {"n_estimators": 200, "min_samples_leaf": 5, "max_depth": 8}
    assert forest.seed == 7 and str(forest.window_end) == "2013-03-28"
    with pytest.raises(TrainingInputError, match="do not fit model family 'linear'"):
        run_settings_for(usecase, PINNED, family="linear", hyperparameters={"max_iter": "many"})


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '"max_iter"'])
def test_hyperparameters_must_be_a_json_object(text: str) -> None:
    with pytest.raises(TrainingInputError, match="parameter 'hyperparameters' must be a JSON object"):
        parse_hyperparameters(text)
    assert parse_hyperparameters(None) == {} and parse_hyperparameters('{"max_iter": 3}') == {"max_iter": 3}


def test_the_pinned_window_must_hold_training_and_holdout_days() -> None:
    usecase = load_usecase("flights")  # 7 held out + at least 14 to train
    days = [date(2013, 1, 1) + timedelta(days=d) for d in range(30)]
    assert pin_window(usecase, days, 21, None) == days[-21:]
    assert pin_window(usecase, days, 56, date(2013, 1, 21)) == days[:21]
    with pytest.raises(TooFewDaysError, match="training needs at least 21"):
        pin_window(usecase, days, 20, None)
    with pytest.raises(TrainingInputError, match="run the ETL") as error:
        pin_window(usecase, days[10:], 56, date(2013, 1, 5))
    assert not isinstance(error.value, TooFewDaysError)


@pytest.mark.parametrize(("window_days", "window_end", "message"), [
    (366, None, "parameter 'window_days': 366 day partitions: the source holds 365"),
    (10**9, None, "parameter 'window_days'"),
    (0, None, "parameter 'window_days'"),
    (56, date(2012, 12, 31), "parameter 'window_end': 2012-12-31 is outside the source's days (2013-01-01 to"),
    (56, date(2099, 1, 1), "parameter 'window_end': 2099-01-01 is outside"),
])
def test_window_parameters_outside_the_data_range_are_refused_by_name(
        window_days: int, window_end: date | None, message: str) -> None:
    days = [date(2013, 1, 1) + timedelta(days=d) for d in range(30)]
    with pytest.raises(TrainingInputError, match=re.escape(message)) as error:
        pin_window(load_usecase("flights"), days, window_days, window_end)
    assert not isinstance(error.value, TooFewDaysError)


def test_an_unknown_model_version_to_evaluate_is_an_input_error() -> None:
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import RESOURCE_DOES_NOT_EXIST

    class Registry:
        def get_model_version_by_alias(self, name: str, alias: str) -> None:
            raise MlflowException("no alias", error_code=RESOURCE_DOES_NOT_EXIST)

        def get_model_version(self, name: str, version: str) -> None:
            raise MlflowException(f"{name} v{version} not found", error_code=RESOURCE_DOES_NOT_EXIST)

    settings = run_settings_for(load_usecase("flights"), PINNED)
    expected = "parameter 'evaluate_model_version': flights_delay has no version '9999'"
    with pytest.raises(TrainingInputError, match=expected):
        evaluate_version(Registry(), None, load_usecase("flights"), settings, "9999", None, {}, "abc")  # type: ignore[arg-type]
