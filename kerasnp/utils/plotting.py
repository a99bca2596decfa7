"""Matplotlib figures for training curves and 2-D decision boundaries.

matplotlib is imported inside the functions, so `import kerasnp` never pays for it. Neither
function calls `show()`: they return the `Figure` for the caller to show or save.
"""
import math
import os
import sys

import numpy as np

from .. import _validate


def _pyplot():
    """Import pyplot, choosing Agg only when no backend is configured and no display exists."""
    import matplotlib
    configured = bool(os.environ.get("MPLBACKEND")) or \
        dict.__getitem__(matplotlib.rcParams, "backend") is not _auto_sentinel(matplotlib)
    headless = sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")) and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if not configured and headless:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _auto_sentinel(matplotlib):
    return getattr(matplotlib.rcsetup, "_auto_backend_sentinel", None)


def _history_dict(history):
    """(dict of metric -> list, 1-based epoch numbers) from a History or a plain dict."""
    logs = history if isinstance(history, dict) else getattr(history, "history", None)
    if not isinstance(logs, dict):
        raise TypeError("plot_history expected a History object (with a `.history` dict) or a "
                        f"dict of lists. Received: history={history!r}")
    if not logs:
        raise ValueError("plot_history received an empty history: nothing to plot. "
                         "Received: history={}")
    return logs, getattr(history, "epoch", None)


def _panels(logs):
    """Metric names to draw, `loss` first, each once whether it is logged as `m` or `val_m`."""
    names = []
    for key in logs:
        name = key[4:] if key.startswith("val_") and len(key) > 4 else key
        if name not in names:
            names.append(name)
    if "loss" in names:
        names.remove("loss")
        names.insert(0, "loss")
    return names


def plot_history(history, metrics=None, figsize=None, title=None):
    """Plot training (and validation) curves, one panel per metric.

    Args:
        history: the `History` returned by `fit()` (anything with a `.history` dict, and optionally
            an `.epoch` list of 0-based epoch indices) or a plain dict of lists such as
            `{"loss": [...], "val_loss": [...], "accuracy": [...]}`.
        metrics: None for every metric (loss first), or a name / list of names such as
            `["loss", "accuracy"]`; each panel also draws the `val_` curve when logged.
        figsize: `(width, height)` in inches, or None for about 4.5 x 3.5 per panel.
        title: optional figure title.

    Returns:
        A matplotlib `Figure` with one `Axes` per metric: x axis "Epoch" (1-based), y label the
        metric name, lines labelled "train" and "validation".

    Example:
        >>> fig = plot_history({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]})
        >>> fig.savefig("history.png")
    """
    logs, epoch = _history_dict(history)
    available = _panels(logs)
    if metrics is None:
        names = available
    else:
        names = [metrics] if isinstance(metrics, str) else list(metrics)
        unknown = [m for m in names if m not in available]
        if unknown or not names:
            what = f"unknown metric {unknown[0]!r}" if unknown else "`metrics` is empty"
            raise ValueError(f"plot_history: {what}. Available: {', '.join(available)} "
                             f"(history keys: {', '.join(logs)}). Received: metrics={metrics!r}")
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator
    ncols = min(len(names), 3)
    nrows = math.ceil(len(names) / ncols)
    fig, axes = plt.subplots(nrows, ncols, squeeze=False,
                             figsize=figsize or (4.5 * ncols, 3.5 * nrows))
    axes = axes.ravel()
    for ax in axes[len(names):]:
        fig.delaxes(ax)
    for ax, name in zip(axes, names):
        for key, label in ((name, "train"), ("val_" + name, "validation")):
            if key in logs:
                values = np.asarray(logs[key], dtype=np.float64).ravel()
                ax.plot(_epochs(epoch, len(values)), values, marker="o" if len(values) < 30
                        else None, markersize=3, label=label)
        ax.set_xlabel("Epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(name)
        ax.grid(True, alpha=0.3)
        ax.legend()
    if title is not None:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _epochs(epoch, n):
    if epoch is not None and len(epoch) == n:
        return np.asarray(epoch) + 1
    return np.arange(1, n + 1)


def plot_decision_boundary(model, x, y, resolution=200, ax=None):
    """Colour the plane by a model's predicted class and scatter the data on top.

    Args:
        model: anything with `predict(x, verbose=0)` returning `(n, k)` class scores (argmax) or
            `(n, 1)` / `(n,)` probabilities (class 1 when > 0.5).
        x: array of shape `(n, 2)`.
        y: true labels, `(n,)` / `(n, 1)` integers (or 0./1. floats) or one-hot `(n, k)`.
        resolution: positive int, grid points per axis.
        ax: a matplotlib `Axes` to draw into, or None for a new figure.

    Returns:
        The matplotlib `Figure` holding the axes: an image of the predicted classes over the data
        range plus a 10% margin, and the points coloured by true class.

    Example:
        >>> fig = plot_decision_boundary(model, x, y)
        >>> fig.savefig("boundary.png")
    """
    if not callable(getattr(model, "predict", None)):
        raise TypeError(f"plot_decision_boundary expected a model with a `predict` method. "
                        f"Received: model={model!r}")
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] != 2 or len(x) == 0:
        raise ValueError("plot_decision_boundary expected 2-D inputs x of shape (n, 2), "
                         f"received shape {x.shape}. Received: x.shape={x.shape}")
    labels = _labels(y, len(x))
    resolution = _validate.positive_int(resolution, "resolution", "plot_decision_boundary")
    lo, hi = x.min(axis=0).astype(np.float64), x.max(axis=0).astype(np.float64)
    margin = np.maximum(0.1 * (hi - lo), 1e-3)
    lo, hi = lo - margin, hi + margin
    gx, gy = np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    xx, yy = np.meshgrid(gx, gy)
    dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float32
    grid = np.stack([xx.ravel(), yy.ravel()], axis=1).astype(dtype)
    scores = np.asarray(model.predict(grid, verbose=0))
    if scores.ndim == 1 or scores.shape[-1] == 1:
        pred = (scores.reshape(-1) > 0.5).astype(np.int64)
    else:
        pred = scores.reshape(len(grid), -1).argmax(axis=1)
    zz = pred.reshape(resolution, resolution)
    k = int(max(zz.max(), labels.max(), 1)) + 1

    plt = _pyplot()
    from matplotlib.colors import ListedColormap
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.5, 5))
    else:
        fig = ax.figure
    base = plt.get_cmap("tab10" if k <= 10 else "viridis")
    cmap = ListedColormap([base(i / max(k - 1, 1)) if k > 10 else base(i) for i in range(k)])
    ax.imshow(zz, origin="lower", extent=(lo[0], hi[0], lo[1], hi[1]), aspect="auto",
              interpolation="nearest", cmap=cmap, vmin=-0.5, vmax=k - 0.5, alpha=0.35)
    ax.scatter(x[:, 0], x[:, 1], c=labels, cmap=cmap, vmin=-0.5, vmax=k - 0.5, s=14,
               edgecolors="k", linewidths=0.4)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    return fig


def _labels(y, n):
    """True classes as int64 (n,) from integer, 0./1. float or one-hot labels."""
    y = np.asarray(y)
    if y.ndim == 0 or len(y) != n:
        raise ValueError(f"plot_decision_boundary expected {n} labels (one per row of x), "
                         f"received shape {y.shape}. Received: y.shape={y.shape}")
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1)
    y = y.reshape(n)
    if np.issubdtype(y.dtype, np.floating):
        return (y > 0.5).astype(np.int64) if np.all((y >= 0) & (y <= 1)) else \
            np.rint(y).astype(np.int64)
    return y.astype(np.int64)
