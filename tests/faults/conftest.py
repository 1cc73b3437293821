"""The fault tier: recovery times observed by each fault test, printed as one table at the end of the run
(``README.md``, "Reliability", keeps the measured figures)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pytest

RECOVERIES = pytest.StashKey[list["Recovery"]]()


@dataclass(frozen=True)
class Recovery:
    fault: str
    detection: str
    recovery_seconds: float
    lost: int
    duplicates: int
    notes: str = ""

    def row(self) -> str:
        return (f"| {self.fault} | {self.detection} | {self.recovery_seconds:.1f} s | {self.lost} | "
                f"{self.duplicates} | {self.notes} |")


@pytest.fixture
def record_recovery(request: pytest.FixtureRequest, record_property):  # type: ignore[no-untyped-def]
    """Record a fault's observed recovery (shown in the run's summary and in the JUnit properties)."""
    def record(recovery: Recovery) -> None:
        request.config.stash.setdefault(RECOVERIES, []).append(recovery)
        for key, value in asdict(recovery).items():
            record_property(key, value)
        print(f"\nRECOVERY {recovery.row()}")
    return record


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    recoveries = config.stash.get(RECOVERIES, [])
    if not recoveries:
        return
    terminalreporter.section("fault injection: observed recovery")
    terminalreporter.write_line("| fault | detection | recovery time | data lost | duplicates | notes |")
    terminalreporter.write_line("| --- | --- | --- | --- | --- | --- |")
    for recovery in recoveries:
        terminalreporter.write_line(recovery.row())
