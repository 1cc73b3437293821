from datetime import date

import pandas as pd

from include.etl.transforms.flights import KEY, build_partition

DAY = date(2013, 3, 4)


def frames(**overrides: pd.DataFrame) -> dict[str, pd.DataFrame]:
    hour = pd.Timestamp("2013-03-04 14:00", tz="UTC")
    flights = pd.DataFrame({
        "year": 2013, "month": 3, "day": 4, "dep_time": [905.0, None, 910.0], "sched_dep_time": [900, 930, 900],
        "dep_delay": [5.0, None, 10.0], "arr_time": [1200.0, None, 1230.0], "sched_arr_time": [1200, 1230, 1200],
        "arr_delay": [14.0, None, 15.0], "carrier": ["UA", "AA", "B6"], "flight": [1, 2, 3],
        "tailnum": ["N1", None, "N3"], "origin": ["EWR", "JFK", "EWR"], "dest": ["IAH", "MIA", "XXX"],
        "air_time": [200.0, None, 210.0], "distance": [1400.0, 1089.0, 1000.0], "hour": 9, "minute": 0,
        "time_hour": [hour, hour, hour]})
    weather = pd.DataFrame({"origin": ["EWR"], "time_hour": [hour], "temp": [40.0], "dewp": [20.0],
                            "humid": [50.0], "wind_dir": [270.0], "wind_speed": [10.0], "wind_gust": [None],
                            "precip": [0.0], "pressure": [1010.0], "visib": [10.0]})
    planes = pd.DataFrame({"tailnum": ["N1"], "year": [2004.0], "type": ["t"], "manufacturer": ["m"],
                           "seats": [55], "engines": [2]})
    airports = pd.DataFrame({"faa": ["IAH", "MIA"], "lat": [29.9, 25.8], "lon": [-95.3, -80.3], "alt": [97, 8],
                             "tz": [-6, -5]})
    return {"flights": flights, "weather": weather, "planes": planes, "airports": airports, **overrides}


def test_labels_cancellations_and_the_15_minute_threshold() -> None:
    out = build_partition(frames(), DAY).set_index("carrier")
    assert out.loc["UA", "delayed"] is False or out.loc["UA", "delayed"] == False  # noqa: E712 - 14 min
    assert out.loc["B6", "delayed"] == True  # noqa: E712 - exactly 15 min is delayed
    assert bool(out.loc["AA", "cancelled"]) and pd.isna(out.loc["AA", "delayed"])
    assert not out["cancelled"].loc[["UA", "B6"]].any()


def test_joins_weather_plane_and_destination_without_changing_the_row_count() -> None:
    out = build_partition(frames(), DAY)
    assert len(out) == 3
    ua = out.set_index("carrier").loc["UA"]
    assert ua["temp"] == 40.0 and ua["plane_year"] == 2004.0 and ua["dest_lat"] == 29.9
    assert pd.isna(out.set_index("carrier").loc["AA", "temp"])  # no JFK weather row: left join keeps the flight
    assert set(out["flight_date"]) == {"2013-03-04"} and set(out["day_of_week"]) == {0}


def test_output_is_sorted_by_key_so_reruns_are_identical() -> None:
    shuffled = frames(flights=frames()["flights"].sample(frac=1, random_state=3))
    pd.testing.assert_frame_equal(build_partition(frames(), DAY), build_partition(shuffled, DAY))
    assert list(build_partition(frames(), DAY)[KEY].itertuples(index=False)) == sorted(
        build_partition(frames(), DAY)[KEY].itertuples(index=False))


def test_a_missing_source_column_stays_missing_for_validation_to_report() -> None:
    weather = frames()["weather"].drop(columns=["visib"])
    out = build_partition(frames(weather=weather), DAY)
    assert "visib" not in out.columns and "temp" in out.columns
