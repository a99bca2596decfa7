"""`plot_model`: a model's layers and connections drawn with matplotlib (no graphviz needed).

The layout (`_plot_layout`) sizes every box from its text at a fixed font size, so text stays
legible however large the model: the figure grows instead (ResNet-50 is a tall image). matplotlib
is imported inside the function, so `import kerasnp` never pays for it.
"""
import os
import sys
import warnings

from ._plot_layout import FONT_PT, FRAME_PAD, LINE_H, PAD_X, PAD_Y, RANKDIRS, layout_model

_SPLINES = ("ortho", "polyline", "line", "spline", "curved")
_MAX_PIXELS = 32000            # per side; Agg's hard limit is 2**16
_FONT = "DejaVu Sans Mono"     # ships with matplotlib; the layout assumes its character width
_HEADER, _EDGE, _FRAME = "#22384f", "#4a4a4a", "#8a8f98"
_STYLE = {"header": ("white", "bold"), "body": ("#1a1a1a", "normal"),
          "trainable": ("#1b7f3b", "bold"), "frozen": ("#b22222", "bold")}


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False,
               show_layer_names=True, rankdir="TB", expand_nested=False, dpi=200,
               show_layer_activations=False, show_trainable=False, **kwargs):
    """Draw a model's layers and their connections to an image file.

    One box per layer (its name and class, plus shapes, dtype, activation and trainable state
    as asked), arrows following the graph: a Sequential model as a chain, functional models
    with their branches, merges, skip connections and several inputs or outputs. Layers at the
    same depth sit side by side. Drawn with matplotlib: no pydot or graphviz needed.

    Args:
        model: a built kerasnp `Model` or `Sequential`.
        to_file: the image file; its extension picks the format (`.png`, `.pdf`, `.svg`, or
            any other format matplotlib writes). No extension: PNG.
        show_shapes: write each layer's input and output shapes.
        show_dtype: write each layer's output dtype.
        show_layer_names: write `name (Class)`; else the class only.
        rankdir: `"TB"` (top to bottom) or `"LR"` (left to right).
        expand_nested: draw a nested model's layers inside a frame instead of one box.
        dpi: resolution of raster formats (lowered, with a warning, when a very large model
            would exceed 32,000 pixels on a side).
        show_layer_activations: write the activation of layers that have one.
        show_trainable: mark layers with weights `Trainable` or `Non-trainable`.
        **kwargs: `splines`, as in Keras: `"ortho"` (default, right-angled arrows) or
            `"polyline"`/`"line"`/`"spline"`/`"curved"` (the same routes with rounded bends).

    Returns:
        An `IPython.display.Image` of the file when called from IPython or Jupyter with a PNG
        or JPEG file (so a notebook shows it, as Keras does); otherwise None.

    Example:
        >>> import os, tempfile
        >>> import kerasnp as keras
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
        >>> path = os.path.join(tempfile.mkdtemp(), "model.png")
        >>> keras.utils.plot_model(model, to_file=path, show_shapes=True)
        >>> os.path.exists(path)
        True
    """
    splines = kwargs.pop("splines", "ortho")
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("plot_model: argument `layer_range` is not supported (Keras 3 "
                         "dropped it too). Received: layer_range")
    if kwargs:
        raise ValueError(f"plot_model: unrecognized keyword arguments {sorted(kwargs)}. "
                         "Valid: splines")
    _check_model(model)
    if rankdir not in RANKDIRS:
        raise ValueError(f"plot_model: rankdir must be one of {', '.join(map(repr, RANKDIRS))}. "
                         f"Received: rankdir={rankdir!r}")
    if splines not in _SPLINES:
        raise ValueError(f"plot_model: splines must be one of {', '.join(_SPLINES)}. "
                         f"Received: splines={splines!r}")
    if isinstance(dpi, bool) or not isinstance(dpi, (int, float)) or not dpi > 0:
        raise ValueError(f"plot_model: dpi must be a positive number. Received: dpi={dpi!r}")
    to_file = os.fspath(to_file)
    fmt = os.path.splitext(to_file)[1][1:].lower() or "png"
    layout = layout_model(model, show_shapes=show_shapes, show_dtype=show_dtype,
                          show_layer_names=show_layer_names, rankdir=rankdir,
                          expand_nested=expand_nested,
                          show_layer_activations=show_layer_activations,
                          show_trainable=show_trainable)
    fig = draw_layout(layout, rounded=splines != "ortho")
    supported = fig.canvas.get_supported_filetypes()
    if fmt not in supported:
        raise ValueError(f"plot_model cannot write '{to_file}': unknown format '{fmt}'. "
                         f"Valid extensions: {', '.join(sorted(supported))}")
    side = max(layout.width, layout.height)
    if side * dpi > _MAX_PIXELS and fmt not in ("pdf", "svg", "eps", "ps", "svgz"):
        new_dpi = _MAX_PIXELS / side
        warnings.warn(f"plot_model: model '{model.name}' is drawn {side:.0f} inches long; dpi "
                      f"lowered from {dpi} to {new_dpi:.0f} to stay under {_MAX_PIXELS} pixels "
                      "a side (or save as .svg/.pdf, which have no pixel limit).", stacklevel=2)
        dpi = new_dpi
    fig.savefig(to_file, format=fmt, dpi=dpi)
    return _notebook_image(to_file, fmt)


def _check_model(model):
    from ..models import Model
    if not isinstance(model, Model):
        raise TypeError("plot_model expects a kerasnp Model or Sequential. "
                        f"Received: model={model!r} (type {type(model).__name__})")
    if not model.built or (type(model).call is Model.call and not model._nodes):
        raise ValueError(f"Model '{model.name}' has not yet been built, so plot_model has no "
                         "layers graph to draw. Build it first: start it with "
                         "keras.Input(shape), call model.build((None, ...)), or call the "
                         "model on a batch of data.")


def _notebook_image(path, fmt):
    ipython = sys.modules.get("IPython")
    if ipython is None or fmt not in ("png", "jpg", "jpeg") or ipython.get_ipython() is None:
        return None
    from IPython import display
    return display.Image(filename=path)


def draw_layout(layout, rounded=False):
    """A matplotlib `Figure` of a `PlotLayout` (inches map 1:1 to figure inches)."""
    from matplotlib.figure import Figure
    fig = Figure(figsize=(layout.width, layout.height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, layout.width)
    ax.set_ylim(layout.height, 0)          # y down, as the layout's coordinates
    ax.set_axis_off()
    for frame in sorted(layout.frames, key=lambda f: len(f.path)):
        _draw_frame(ax, frame)
    for edge in layout.edges:
        _draw_edge(ax, edge, rounded)
    for box in layout.boxes:
        _draw_box(ax, box)
    return fig


def _draw_frame(ax, f):
    from matplotlib.patches import Rectangle
    ax.add_patch(Rectangle((f.x0, f.y0), f.x1 - f.x0, f.y1 - f.y0, facecolor="#f3f5f8",
                           edgecolor=_FRAME, linestyle="--", linewidth=0.9,
                           zorder=0.5 + 0.01 * len(f.path)))
    ax.text(f.x0 + FRAME_PAD / 2, f.y0 + FRAME_PAD / 2 + LINE_H / 2, f.label, ha="left",
            va="center", fontsize=FONT_PT, family=_FONT, style="italic", color="#333",
            zorder=5, bbox=dict(facecolor="#f3f5f8", edgecolor="none", pad=0.5))


def _draw_edge(ax, edge, rounded):
    from matplotlib.patches import FancyArrowPatch
    from matplotlib.path import Path
    points = [p for k, p in enumerate(edge.points) if k == 0 or p != edge.points[k - 1]]
    if len(points) < 2:
        return
    verts, codes = [points[0]], [Path.MOVETO]
    if rounded and len(points) > 2:
        for k in range(1, len(points) - 1):     # a quadratic bend through each corner
            verts += [points[k], _towards(points[k], points[k + 1], 0.12)]
            codes += [Path.CURVE3, Path.CURVE3]
        verts.append(points[-1])
        codes.append(Path.LINETO)
    else:
        verts += points[1:]
        codes += [Path.LINETO] * (len(points) - 1)
    ax.add_patch(FancyArrowPatch(path=Path(verts, codes), arrowstyle="-|>", mutation_scale=9,
                                 color=_EDGE, linewidth=1.0, shrinkA=0, shrinkB=0,
                                 linestyle="--" if edge.back else "-", zorder=1))


def _towards(p, q, d):
    dx, dy = q[0] - p[0], q[1] - p[1]
    n = (dx * dx + dy * dy) ** 0.5 or 1.0
    d = min(d, n / 2)
    return (p[0] + dx / n * d, p[1] + dy / n * d)


def _draw_box(ax, box):
    from matplotlib.patches import FancyBboxPatch, Rectangle
    x0, y0, x1, y1 = box.bounds()
    shape = FancyBboxPatch((x0, y0), box.w, box.h, boxstyle="round,pad=0,rounding_size=0.05",
                           facecolor="white", edgecolor="#2b2b2b", linewidth=0.8, zorder=2)
    ax.add_patch(shape)
    band = PAD_Y + LINE_H + (PAD_Y / 2 if len(box.lines) > 1 else PAD_Y)
    header = Rectangle((x0, y0), box.w, band, facecolor=_HEADER, edgecolor="none", zorder=2.1)
    ax.add_patch(header)
    header.set_clip_path(shape)               # keep the rounded corners
    for k, (text, style) in enumerate(box.lines):
        color, weight = _STYLE[style]
        y = y0 + PAD_Y + LINE_H * (k + 0.5) + (PAD_Y / 2 if k else 0.0)
        x, ha = ((x0 + x1) / 2, "center") if style == "header" else (x0 + PAD_X, "left")
        ax.text(x, y, text, ha=ha, va="center", fontsize=FONT_PT, family=_FONT,
                color=color, weight=weight, zorder=3)
