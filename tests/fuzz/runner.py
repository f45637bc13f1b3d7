"""Budgets, outcome counting and the summary table of the fuzz suite.

`EWELINK_FUZZ_COUNT` is the total number of inputs of a run (default: the CI slice) and
`EWELINK_FUZZ_SEED` its seed (default fixed, so CI is reproducible). Each target takes a share
of the total. Every input gets its own `random.Random` seeded from (seed, target, index): a
failing input is replayed with `FuzzRun.rng(index)`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
import json
import os
import random
import time
import traceback
from typing import Any

DEFAULT_COUNT = 6000
DEFAULT_SEED = 20261109
RESULTS: list[FuzzRun] = []


def total_count() -> int:
    """Return the number of inputs of the whole run."""
    return int(os.environ.get("EWELINK_FUZZ_COUNT", DEFAULT_COUNT))


def seed() -> int:
    """Return the run's seed."""
    return int(os.environ.get("EWELINK_FUZZ_SEED", DEFAULT_SEED))


class InvariantError(AssertionError):
    """A call returned, but what it returned (or left behind) is invalid."""


@dataclass
class FuzzRun:
    """One target's inputs and what became of them."""

    target: str
    budget: int
    seed: int
    inputs: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    """Accepted results and expected (typed) errors, by kind."""
    unhandled: Counter[str] = field(default_factory=Counter)
    """Anything else: exceptions that escaped, invariants broken. Must stay empty."""
    samples: dict[str, str] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    wall: float = 0.0

    def rng(self, index: int) -> random.Random:
        """Return the generator of input `index` (replayable)."""
        return random.Random(f"{self.seed}:{self.target}:{index}")

    def ok(self, kind: str = "ok") -> None:
        """Count an accepted result."""
        self.inputs += 1
        self.outcomes[kind] += 1

    def handled(self, err: BaseException) -> None:
        """Count an expected, typed error."""
        self.inputs += 1
        self.outcomes[type(err).__name__] += 1

    def fail(self, index: int, err: BaseException) -> None:
        """Count an unhandled exception or a broken invariant (keep one sample per kind)."""
        self.inputs += 1
        kind = type(err).__name__
        self.unhandled[kind] += 1
        if kind not in self.samples:
            tail = "".join(traceback.format_exception(err)[-4:])
            self.samples[kind] = f"replay: seed {self.seed}, {self.target} #{index}\n{tail}"

    def finish(self) -> FuzzRun:
        """Stop the clock and keep the run for the summary table."""
        self.wall = time.monotonic() - self.started
        RESULTS.append(self)
        return self

    def verdict(self) -> str:
        """Return the failure report (empty when nothing escaped)."""
        return "\n\n".join(self.samples.values())


def new_run(target: str, share: float) -> FuzzRun:
    """Start a run of `target` with its share of the total budget (at least 1 input)."""
    return FuzzRun(target, max(1, round(total_count() * share)), seed())


def strict_json(value: Any) -> None:
    """Raise InvariantError unless `value` is standard JSON encodable as UTF-8 (what storage,
    diagnostics and the frontend need)."""
    try:
        json.dumps(value, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except (ValueError, TypeError, RecursionError) as err:
        raise InvariantError(f"not strict JSON: {type(err).__name__}") from err


def table(runs: list[FuzzRun]) -> list[str]:
    """Return the summary table lines."""
    lines = [
        f"{'target':<18} {'inputs':>8} {'unhandled':>9} {'wall s':>7}  outcomes (top) / unhandled",
    ]
    for run in runs:
        top = ", ".join(f"{k} {v}" for k, v in run.outcomes.most_common(5))
        bad = ", ".join(f"{k} {v}" for k, v in run.unhandled.most_common())
        lines.append(
            f"{run.target:<18} {run.inputs:>8} {sum(run.unhandled.values()):>9} "
            f"{run.wall:>7.1f}  {bad or top}"
        )
    total = sum(r.inputs for r in runs)
    failed = sum(sum(r.unhandled.values()) for r in runs)
    wall = sum(r.wall for r in runs)
    lines.append(f"{'total':<18} {total:>8} {failed:>9} {wall:>7.1f}  seed {runs[0].seed}")
    return lines
