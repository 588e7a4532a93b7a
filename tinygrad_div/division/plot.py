"""`--plot`: the training loss and predicted-vs-true quotients as one image (needs the optional matplotlib).

The image is written like a model file (`files.write_atomically`): whole or not at all.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from tinygrad_div.division.data import wider_range
from tinygrad_div.division.training import TrainResult
from tinygrad_div.files import write_atomically

INSTALL_HINT = "pip install 'tinygrad_div[plot]'"
FORMATS = (".png", ".svg", ".pdf")


def plot_problem(path: str | os.PathLike) -> str | None:
    """Why `plot_training(..., path)` would fail for its format or a missing matplotlib, or None.

    Checked before a long run, not after it (`files.output_problem` checks the path itself).
    """
    if Path(path).suffix.lower() not in FORMATS:
        return f"--plot: {path} must end in {', '.join(FORMATS)}"
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return f"--plot needs matplotlib, which is not installed ({INSTALL_HINT})"
    return None


def plot_training(result: TrainResult, path: str | os.PathLike) -> None:
    """Left: each step's loss (and its running mean). Right: predicted vs true a/b on test and wider pairs."""
    # A bare Figure, not pyplot: no display, no backend switch, no global state left behind
    from matplotlib.figure import Figure

    config = result.config
    figure = Figure(figsize=(11, 4.5))
    loss_axes, quotient_axes = figure.subplots(1, 2)
    steps = np.arange(1, len(result.losses) + 1)
    window = max(1, len(result.losses) // 100)
    running = np.convolve(result.losses, np.ones(window) / window, mode="valid")
    # a loss of exactly 0 (the log network at convergence) has no place on a log axis: leave it out
    positive = lambda y: np.where(y > 0, y, np.nan)
    loss_axes.semilogy(steps, positive(result.losses), ",", alpha=0.3, label="each step")
    loss_axes.semilogy(steps[window - 1:], positive(running), label=f"mean of {window} steps")
    loss_axes.set(xlabel="step", ylabel="MSE of t = a/(a+b)", title="training loss")
    loss_axes.legend()

    low, high = wider_range(config.low, config.high)
    for pairs, label, marker in ((result.wide, f"wider range [{low:g}, {high:g})", "x"),
                                 (result.test, f"test [{config.low:g}, {config.high:g})", ".")):
        quotient_axes.loglog(pairs.quotient, result.divider.quotients(pairs.a, pairs.b), marker,
                             linestyle="none", markersize=3, alpha=0.5, label=label)
    bounds = [low / high, high / low]
    quotient_axes.loglog(bounds, bounds, "k-", linewidth=0.8, label="predicted = true")
    quotient_axes.set(xlabel="true a/b", ylabel="predicted a/b", title="quotients")
    quotient_axes.legend()

    hidden = " ".join(map(str, config.hidden)) or "none"
    figure.suptitle(f"{config.inputs} inputs, hidden layers: {hidden}, {config.epochs} epoch(s), "
                    f"batch {config.batch_size}, lr {config.lr:g}, {len(result.train)} training pairs")
    figure.tight_layout()
    image_format = Path(path).suffix.lower().lstrip(".")
    write_atomically(path, lambda file: figure.savefig(file, format=image_format, dpi=110))
