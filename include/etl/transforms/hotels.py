"""Curated daily partition of hotel bookings by arrival date (regression on the room price)."""

from __future__ import annotations

from datetime import date

import pandas as pd


def build_partition(frames: dict[str, pd.DataFrame], day: date) -> pd.DataFrame:
    """Bookings arriving on ``day``; ``arrival_date`` as an ISO date string, sorted by booking id."""
    bookings = frames["hotel_rates"].copy()
    bookings["arrival_date"] = day.isoformat()
    bookings["day_of_week"] = day.weekday()
    bookings["nights"] = bookings["stays_in_weekend_nights"] + bookings["stays_in_week_nights"]
    return bookings.sort_values("booking_id", kind="stable").reset_index(drop=True)
