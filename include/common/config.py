"""The base of every configuration model: unknown keys are errors, values are immutable."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, ValidationError


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def validation_problems(error: ValidationError) -> str:
    """Each problem as ``key.path: message`` (``(file)`` for one about the whole file), joined by ``; ``."""
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or '(file)'}: {e['msg']}" for e in error.errors())
