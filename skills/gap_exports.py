"""The gap audit's files: a stage x persona heatmap (PNG) and a per-question CSV.

Marketing reads these outside Slack, so they must stand alone: labelled axes, empty
cells visibly marked, one CSV row per buyer question. Drawn with matplotlib's Agg canvas
directly (no pyplot), so it needs no display and keeps no global figure state.
"""

from __future__ import annotations

import csv
import textwrap
from collections.abc import Sequence
from pathlib import Path

from skills.coverage import THIN_CELL_MAX, Match

CSV_COLUMNS = ("stage", "question_id", "question", "personas", "answered", "asset_ids", "score")
EMPTY_FILL = "#f8d0cc"
EMPTY_EDGE = "#c0392b"
THIN_EDGE = "#e67e22"


def write_csv(path: Path, matches: Sequence[Match]) -> Path:
    """One row per buyer question; list cells are ';'-joined, no personas = 'all'."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for m in matches:
            score = "" if m.score is None else f"{m.score:.3f}"
            writer.writerow(
                [m.stage_id, m.question_id, m.text, ";".join(m.personas) or "all", m.answered, ";".join(m.asset_ids), score]
            )
    return path


def write_heatmap(
    path: Path,
    counts: Sequence[Sequence[int]],
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    title: str,
) -> Path:
    """Rows = stages in order, columns = personas, cell = number of assets; empty cells
    filled red and labelled, thin ones outlined orange."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch, Rectangle

    rows, cols = len(row_labels), len(column_labels)
    if len(counts) != rows or any(len(row) != cols for row in counts):
        raise ValueError(f"heatmap of {len(counts)} rows for {rows} row labels and {cols} column labels")
    peak = max((c for row in counts for c in row), default=0)
    figure = Figure(figsize=(3.2 + 1.7 * cols, 1.9 + 0.62 * rows), dpi=120)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    top = max(peak, 4)
    # vmin below zero so that even a single asset gets a visible tint
    axes.imshow([[float(c) for c in row] for row in counts], cmap="Blues", vmin=-0.25 * top, vmax=top, aspect="auto")
    for r, row in enumerate(counts):
        for c, count in enumerate(row):
            if count == 0:
                axes.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, facecolor=EMPTY_FILL, edgecolor=EMPTY_EDGE,
                                         hatch="//", linewidth=2))
                axes.text(c, r, "0  empty", ha="center", va="center", fontsize=9, fontweight="bold", color=EMPTY_EDGE,
                          bbox={"facecolor": "white", "edgecolor": "none", "pad": 2})
                continue
            if count <= THIN_CELL_MAX:
                axes.add_patch(Rectangle((c - 0.47, r - 0.47), 0.94, 0.94, fill=False, edgecolor=THIN_EDGE, linewidth=2.5))
                axes.text(c, r, f"{count}  thin", ha="center", va="center", fontsize=10, fontweight="bold", color="#a04000")
                continue
            dark = count > 0.55 * top
            axes.text(c, r, str(count), ha="center", va="center", fontsize=11, color="white" if dark else "#222222")
    axes.set_xticks(range(cols), ["\n".join(textwrap.wrap(label, 18)) for label in column_labels], fontsize=9)
    axes.set_yticks(range(rows), list(row_labels), fontsize=9)
    axes.xaxis.tick_top()
    axes.set_xticks([x + 0.5 for x in range(cols - 1)], minor=True)
    axes.set_yticks([y + 0.5 for y in range(rows - 1)], minor=True)
    axes.grid(which="minor", color="#bbbbbb", linewidth=0.8)
    axes.tick_params(which="both", length=0)
    axes.set_title(title, fontsize=11, pad=12)
    figure.legend(
        handles=[
            Patch(facecolor=EMPTY_FILL, edgecolor=EMPTY_EDGE, hatch="//", label="no asset for this persona"),
            Patch(facecolor="white", edgecolor=THIN_EDGE, linewidth=2, label=f"thin (≤ {THIN_CELL_MAX} asset)"),
        ],
        loc="lower center",
        ncol=2,
        fontsize=9,
        frameon=False,
    )
    figure.tight_layout(rect=(0, 0.06, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path
