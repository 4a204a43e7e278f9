"""The bench's one table: printed, written as JSON, drawn as a PNG chart.

A row is one budget: what is measured, the budget, the measured figure and the
verdict (`within`, `OVER`, `n/a` when the thing measured is not there, `info`
for figures reported without a budget). `used` is the measured value divided by
what the budget allows (1.0 = exactly on budget); the chart draws it.
"""

from __future__ import annotations

import json
import platform
import textwrap
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

WITHIN, OVER, NA, INFO = "within", "OVER", "n/a", "info"
SECTIONS = {
    1: "Overhead",
    2: "Calls to the realm",
    3: "Box size",
    4: "Memory",
    5: "Throughput",
    6: "Login",
    7: "Upstream round trips per user action",
}


@dataclass
class Row:
    item: int  # the numbering, 1-7
    measure: str
    budget: str
    figure: str
    verdict: str
    used: float | None = None  # measured / allowed
    details: dict[str, Any] = field(default_factory=dict)


def verdict(used: float | None) -> str:
    if used is None:
        return NA
    return WITHIN if used <= 1.0 else OVER


def table(rows: list[Row]) -> str:
    """The rows as a fixed-width text table, grouped by the issue's items."""
    headers = ("#", "measure", "budget", "measured", "verdict")
    cells = [(str(r.item), r.measure, r.budget, r.figure, r.verdict) for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)), line]
    previous = None
    for row, cell in zip(rows, cells, strict=True):
        if previous is not None and row.item != previous:
            out.append("")
        previous = row.item
        out.append("  ".join(c.ljust(w) for c, w in zip(cell, widths, strict=True)).rstrip())
    over = sum(r.verdict == OVER for r in rows)
    within = sum(r.verdict == WITHIN for r in rows)
    out += [
        line,
        f"{within} within budget, {over} OVER, "
        f"{sum(r.verdict == NA for r in rows)} n/a, "
        f"{sum(r.verdict == INFO for r in rows)} reported without a budget",
    ]
    return "\n".join(out)


def write_json(rows: list[Row], path: Path, context: dict[str, Any]) -> None:
    document = {
        "generated": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "context": context,
        "rows": [asdict(r) for r in rows],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def write_png(rows: list[Row], path: Path) -> str | None:
    """A bar per budgeted row (measured / allowed, budget line at 1.0); None if drawn."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (pip install -e '.[bench]'): no PNG"
    drawn = [r for r in rows if r.used is not None]
    labels = [f"{r.item}. {r.measure}" for r in drawn]
    height = max(3.0, 0.42 * len(drawn) + 1.4)
    fig, ax = plt.subplots(figsize=(13, height))
    colours = [
        "#c0392b" if r.verdict == OVER else "#2e86c1" if r.verdict == INFO else "#27ae60"
        for r in drawn
    ]
    positions = list(range(len(drawn)))[::-1]
    values = [r.used or 0.0 for r in drawn]
    ax.barh(positions, values, color=colours)
    ax.axvline(1.0, color="black", linestyle="--", linewidth=1)
    for y, row, value in zip(positions, drawn, values, strict=True):
        # At most two short lines beside the bar: the whole figure is in the table and JSON.
        short = "\n".join(textwrap.wrap(textwrap.shorten(row.figure, 120, placeholder=" …"), 62))
        ax.text(value + 0.02, y, short, va="center", fontsize=6.5, linespacing=1.1)
    ax.set_yticks(positions, labels, fontsize=8)
    ax.set_xlabel("measured ÷ budget (dashed line = budget; blue = ratio reported, no budget)")
    ax.set_xlim(0, max([1.5, *values]) * 2.3)  # room for the figures after the bars
    ax.set_title("ehbox-webapp: make bench")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None
