"""Command-line commands beyond the core ones in `cmsbot.cli`, one module per area.

Each module defines `register(sub)`, which adds its sub-parsers to the `cmsbot` parser and
returns the command names it owns, and `run(args, settings) -> int`, which runs one of them
(bootstrapping what it needs itself, so that e.g. `serve` can start while the store is down).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from datetime import UTC, date, datetime
from types import ModuleType

# The dates an as-at option takes: every business date (they end ten years after today),
# with room for the periods reckoned from them (a digest's week, "next year").
EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(2999, 12, 31)


def date_arg(value: str) -> date:
    """An argparse type: a calendar date written YYYY-MM-DD, from 1900 to 2999."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise argparse.ArgumentTypeError(
            f"{value} is outside the dates this takes ({EARLIEST_DAY} to {LATEST_DAY})")
    return day


def timestamp_arg(value: str) -> datetime:
    """An argparse type: a recorded time, ISO 8601 ("2026-03-03T12:00:00Z"; UTC when no
    zone is given)."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a timestamp (e.g. 2026-03-03T12:00:00Z): {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def modules() -> list[ModuleType]:
    return [importlib.import_module(f"{__name__}.{info.name}")
            for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")]


def register_all(sub: argparse._SubParsersAction) -> dict[str, ModuleType]:  # type: ignore[type-arg]
    owners: dict[str, ModuleType] = {}
    for module in modules():
        for name in module.register(sub):
            owners[name] = module
    return owners
