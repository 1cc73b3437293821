"""What a DAG's parameters may hold: the shapes the trigger form and the REST API refuse at once
(JSON schema of each ``Param``: Airflow answers ``400`` naming the parameter, and no run is
created), and the checks only the use case can make (a date inside its data range), which fail the
run's first task without retrying and before anything is written.

Trigger-form and REST values are user input like any other: a parameter that names a lakeFS
reference or a model version never accepts quotes, spaces or semicolons, so a SQL-looking or
shell-looking string cannot reach a client call.
"""

from __future__ import annotations

from datetime import date
from typing import Final

# A lakeFS reference: a commit id (hex, possibly abbreviated), a branch or a tag, optionally with
# ``~N`` / ``^N`` ancestry suffixes. Branch names are ``^\w[-\w]*$`` in lakeFS.
LAKEFS_REF_PATTERN: Final = r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,255}([~^][0-9]{0,3})*$"
# A registered model version: a positive integer.
MODEL_VERSION_PATTERN: Final = r"^[1-9][0-9]{0,8}$"
# numpy's and scikit-learn's seeds are 32-bit.
MAX_SEED: Final = 2**32 - 1
REASON_MIN_LENGTH: Final = 5
REASON_MAX_LENGTH: Final = 500


class ParameterError(ValueError):
    """A run's parameter is invalid; the message starts with the parameter's name."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"parameter '{name}': {problem}")
        self.name = name


def check_date_in_range(name: str, value: date, first: date, last: date, what: str = "the data") -> date:
    """``value`` if it lies in ``[first, last]``, else ``ParameterError`` naming the parameter and the range."""
    if not first <= value <= last:
        raise ParameterError(name, f"{value} is outside {what} ({first} to {last})")
    return value


def parse_date(name: str, value: str) -> date:
    """An ISO date parameter (``YYYY-MM-DD``), or ``ParameterError`` naming it."""
    try:
        return date.fromisoformat(value[:10]) if len(value) >= 10 else date.fromisoformat(value)
    except ValueError:
        raise ParameterError(name, f"{value!r} is not an ISO date (YYYY-MM-DD)") from None


def partitions_between(first: date, last: date, width: str) -> int:
    """How many partitions of ``width`` start in ``[first, last]`` (both partition starts)."""
    if width == "day":
        return (last - first).days + 1
    if width == "week":
        return (last - first).days // 7 + 1
    return (last.year - first.year) * 12 + last.month - first.month + 1
