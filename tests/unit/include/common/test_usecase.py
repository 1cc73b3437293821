from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from include.common.usecase import (
    SAFE_LOADER,
    USECASES_DIR,
    UseCaseError,
    load_usecase,
    load_usecase_file,
    load_usecases,
    replay_shift,
)

SHIPPED = USECASES_DIR


def test_shipped_use_cases_load() -> None:
    names = {u.name for u in load_usecases()}
    assert {"flights", "hotels"} <= names
    flights = load_usecase("flights")
    assert flights.task == "binary_classification" and flights.target == "delayed"
    assert flights.partition_path(date(2013, 1, 2)) == "curated/flights/flight_date=2013-01-02/part-0.parquet"
    assert load_usecase("hotels").task == "regression"


def test_the_fast_yaml_loader_reads_every_use_case_as_the_pure_python_one() -> None:
    for path in sorted(SHIPPED.glob("*.yaml")):
        assert yaml.load(path.read_text(), Loader=SAFE_LOADER) == yaml.load(path.read_text(), Loader=yaml.SafeLoader)


def write(tmp_path: Path, file_stem: str, **changes: object) -> Path:
    raw = yaml.safe_load((SHIPPED / "flights.yaml").read_text())
    raw["name"] = file_stem
    raw.update(changes)
    (tmp_path / "flights.expectations.json").write_text((SHIPPED / "flights.expectations.json").read_text())
    path = tmp_path / f"{file_stem}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_unknown_keys_and_bad_values_are_named(tmp_path: Path) -> None:
    with pytest.raises(UseCaseError, match="colour") as error:
        load_usecase_file(write(tmp_path, "bad1", colour="blue", task="clustering"))
    assert "task" in str(error.value)


def test_unbounded_source_query_is_rejected(tmp_path: Path) -> None:
    raw_source = {"connection_id": "source_db", "queries": {"flights": "SELECT * FROM flights"}}
    with pytest.raises(UseCaseError, match=r"bounded by %\(start\)s"):
        load_usecase_file(write(tmp_path, "bad2", source=raw_source))


def test_name_must_match_the_file(tmp_path: Path) -> None:
    with pytest.raises(UseCaseError, match="must match the file name"):
        load_usecase_file(write(tmp_path, "bad3", name="other"))


def test_missing_suite_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "bad4")
    (tmp_path / "flights.expectations.json").unlink()
    with pytest.raises(UseCaseError, match="expectation suite"):
        load_usecase_file(path)


def test_replay_moves_the_last_day_to_yesterday_or_just_after_in_whole_weeks() -> None:
    last = date(2013, 12, 31)
    anchor = date(2026, 11, 27)
    shift = replay_shift(last, anchor)
    assert shift.days % 7 == 0
    assert anchor - timedelta(days=1) <= last + shift < anchor + timedelta(days=6)
    assert (last + shift).weekday() == last.weekday()
    assert replay_shift(last, date(2013, 12, 1)) == timedelta(0)


def test_replay_mode_shifts_the_date_range(tmp_path: Path) -> None:
    clock = {"mode": "replay", "first_day": "2013-01-01", "last_day": "2013-12-31"}
    usecase = load_usecase_file(write(tmp_path, "replayed", clock=clock))
    first, last = usecase.date_range(anchor=date(2026, 11, 27))
    assert (last - first).days == 364 and first.weekday() == date(2013, 1, 1).weekday()
    assert last >= date(2026, 11, 26)


def test_monitoring_section_names_only_features_and_needs_training(tmp_path: Path) -> None:
    shipped = load_usecase("flights").require_monitoring()
    assert shipped.threshold("temp", False) == 3.0 and shipped.threshold("origin", True) == 0.1
    assert load_usecase("flights").monitored_columns[:2] == ["hour", "origin"]
    monitoring = yaml.safe_load((SHIPPED / "flights.yaml").read_text())["monitoring"]
    with pytest.raises(UseCaseError, match=r"monitoring names columns that are not features: \['colour'\]"):
        load_usecase_file(write(tmp_path, "mon1", monitoring={**monitoring, "column_thresholds": {"colour": 1}}))
    with pytest.raises(UseCaseError, match="monitoring needs a 'training' section"):
        load_usecase_file(write(tmp_path, "mon2", training=None))
    with pytest.raises(UseCaseError, match="numerical_method"):
        load_usecase_file(write(tmp_path, "mon3", monitoring={**monitoring, "numerical_method": "ks"}))
