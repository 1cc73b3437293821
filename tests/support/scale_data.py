"""Curated flights partitions for the data-scale engines' tests: real days (the ETL's transform on the offline
source) and a copy with deliberate breaks, so that both the arrow engine and GX have something to find."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from tests.support.source_data import partition


def curated_days(first: date, days: int) -> pd.DataFrame:
    """``days`` consecutive curated flights partitions from ``first``, as the ETL writes them."""
    return pd.concat([partition("flights", first + timedelta(days=n)) for n in range(days)], ignore_index=True)


def broken(frame: pd.DataFrame, seed: int, rows: int = 12) -> pd.DataFrame:
    """``frame`` with ``rows`` rows broken per rule (range, set, nulls, relationships, keys, lengths)."""
    out = frame.copy()
    rng = np.random.default_rng(seed)
    picks = [out.index[p] for p in np.split(rng.choice(len(out), rows * 10, replace=False), 10)]
    out.loc[picks[0], "hour"] = (out.loc[picks[0], "hour"] + 1) % 24
    out.loc[picks[1], "dep_delay"] = out.loc[picks[1], "dep_delay"] + 7
    out.loc[picks[2], "carrier"] = "ZZ"
    out.loc[picks[3], "origin"] = None
    out.loc[picks[4], "dest"] = out.loc[picks[4], "origin"]
    out.loc[picks[5], "temp"] = 200.0
    out.loc[picks[6], "dest"] = "ABCD"
    out.loc[picks[7], "air_time"] = 1.0
    out.loc[picks[8], "arr_delay"] = np.nan
    return pd.concat([out, out.loc[picks[9]]], ignore_index=True)  # duplicated keys
