"""The readiness chart of a gap-check report: a PNG drawn with matplotlib's Agg canvas.

Reports are drawn on Bolt's worker threads, so no pyplot: its current-figure state and figure
manager are global to the process. Each chart is its own ``Figure`` on its own Agg canvas.
"""

from __future__ import annotations

import io

from bot.core.gapcheck import RATING_SCORE, Check, Rating, Report

COLOURS = {Rating.YES: "#2e7d32", Rating.PARTLY: "#f9a825", Rating.NO: "#c62828", Rating.SKIPPED: "#9e9e9e"}


def readiness_chart(check: Check, rep: Report) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    labels, values, colours = [], [], []
    for step, answer in rep.rows:
        rating = answer.rating if answer else Rating.SKIPPED
        labels.append(step.title[:40])
        values.append(RATING_SCORE.get(rating, 0.0) * 100 if rating != Rating.SKIPPED else 2)
        colours.append(COLOURS[rating])
    fig = Figure(figsize=(7, 0.45 * len(labels) + 1.4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    y = range(len(labels))[::-1]
    ax.barh(list(y), values, color=colours)
    ax.set_yticks(list(y), labels)
    ax.set_xlim(0, 100)
    ax.set_xlabel("met (100) · partly (50) · not yet (0) · grey = not assessed (counts as not met)")
    ax.set_title(f"{check.target_title}: {rep.readiness}% ready")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
