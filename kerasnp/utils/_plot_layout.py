"""Where `plot_model` puts each box and how its arrows run: a layered (Sugiyama-style) layout.

Sizes are in inches at a fixed font size, so text keeps its size and a large model gets a large
figure instead of small print. The layout works in two axes: *main* (from rank to rank: down for
"TB", right for "LR") and *cross* (along a rank). Steps, per model level:

1. rank = longest path from the inputs (layers at the same depth side by side); edges that close
   a cycle (a shared layer fed by its own output) are drawn as back edges;
2. an edge spanning several ranks gets a thin placeholder in each rank between, so it runs
   through a free column instead of across boxes;
3. order within each rank by barycentres (sweeps down and up, keeping the order with the fewest
   crossings), then cross positions: each node near the mean of its neighbours, no overlaps
   (a least-squares placement with minimum gaps, solved by pool-adjacent-violators);
4. arrows are right-angled: down a node's own column, across on a track of their own in the gap
   between ranks, down into the target.

An expanded nested model is laid out the same way and placed as one big node in its parent, its
arrows running from the parent's boxes to its input boxes and out from its output boxes.
"""
from . import _plot_route as route

FONT_PT = 10.0
CHAR_W = 0.61 * FONT_PT / 72     # DejaVu Sans Mono advance (0.602 em), plus a little room
LINE_H = 1.5 * FONT_PT / 72
PAD_X, PAD_Y = 0.10, 0.05        # text to box edge
FRAME_PAD = 0.14                 # box to frame edge of an expanded nested model
MARGIN = 0.15                    # around the whole drawing
RANKDIRS = ("TB", "LR")


class Box:
    """A drawn layer: center `(x, y)` and size `(w, h)` in inches, y pointing down."""

    __slots__ = ("layer", "path", "lines", "x", "y", "w", "h")

    def __init__(self, layer, path, lines, x, y, w, h):
        self.layer, self.path, self.lines = layer, path, lines
        self.x, self.y, self.w, self.h = x, y, w, h

    @property
    def name(self):
        return self.layer.name

    def bounds(self):
        return (self.x - self.w / 2, self.y - self.h / 2, self.x + self.w / 2,
                self.y + self.h / 2)


class Frame:
    """An expanded nested model: its label and rectangle `(x0, y0, x1, y1)`."""

    __slots__ = ("label", "path", "x0", "y0", "x1", "y1")

    def __init__(self, label, path, x0, y0, x1, y1):
        self.label, self.path = label, path
        self.x0, self.y0, self.x1, self.y1 = x0, y0, x1, y1


class Edge:
    """An arrow from box `src` to box `dst` (indices into `PlotLayout.boxes`) along `points`;
    `back` for an edge against the rank order (a cycle through a shared layer)."""

    __slots__ = ("src", "dst", "points", "back")

    def __init__(self, src, dst, points, back):
        self.src, self.dst, self.points, self.back = src, dst, points, back


class PlotLayout:
    """Boxes, edges and frames of a model's drawing, with its size in inches."""

    def __init__(self, boxes, edges, frames, width, height, rankdir):
        self.boxes, self.edges, self.frames = boxes, edges, frames
        self.width, self.height, self.rankdir = width, height, rankdir


def text_size(lines):
    """(width, height) in inches of a box holding `lines` of monospaced text."""
    chars = max((len(t) for t, _ in lines), default=1)
    header_gap = PAD_Y / 2 if len(lines) > 1 else 0.0        # below the header band
    return chars * CHAR_W + 2 * PAD_X, len(lines) * LINE_H + 2 * PAD_Y + header_gap


def layout_model(model, show_shapes=False, show_dtype=False, show_layer_names=True,
                 rankdir="TB", expand_nested=False, show_layer_activations=False,
                 show_trainable=False):
    """The `PlotLayout` of a built model (see the module docstring; arguments as plot_model)."""
    from ._plot_graph import read_level
    opts = dict(show_shapes=show_shapes, show_dtype=show_dtype,
                show_layer_names=show_layer_names, show_trainable=show_trainable,
                show_layer_activations=show_layer_activations)
    level = read_level(model, opts, expand_nested)
    horiz = rankdir == "LR"
    placed = _layout_level(level, horiz, (), nested=False)

    def xy(c, m):
        return (m, c) if horiz else (c, m)

    def pt(c, m):
        x, y = xy(c, m)
        return (x + MARGIN, y + MARGIN)

    boxes = []
    for layer, path, lines, c, m, ce, me in placed.boxes:
        x, y = pt(c, m)
        w, h = xy(ce, me)
        boxes.append(Box(layer, path, lines, x, y, w, h))
    frames = []
    for label, path, c0, m0, c1, m1 in placed.frames:
        (x0, y0), (x1, y1) = pt(c0, m0), pt(c1, m1)
        frames.append(Frame(label, path, x0, y0, x1, y1))
    edges = [Edge(s, d, [pt(c, m) for c, m in points], back)
             for s, d, points, back in placed.edges]
    width, height = xy(placed.ce, placed.me)
    return PlotLayout(boxes, edges, frames, width + 2 * MARGIN, height + 2 * MARGIN, rankdir)


def _layout_level(level, horiz, path, nested):
    """Lay out one model level in (cross, main) coordinates; returns a `Placed`."""
    nodes, subs = [], {}
    for i, item in enumerate(level.items):
        if item.sub is not None:
            inner = _layout_level(item.sub, horiz, path + (item.layer.name,), nested=True)
            label = f"{item.layer.name} ({type(item.layer).__name__})"
            pads = _frame_pads(horiz)
            ce = inner.ce + pads[0] + pads[1]
            me = inner.me + pads[2] + pads[3]
            need = len(label) * CHAR_W + 2 * FRAME_PAD        # the label fits along the top
            if horiz:
                me = max(me, need)
            else:
                ce = max(ce, need)
            subs[i] = (inner, label, pads)
            nodes.append(route.Node("block", ce, me, i))
        else:
            w, h = text_size(item.lines)
            nodes.append(route.Node("box", h if horiz else w, w if horiz else h, i))
    edges = list(level.edges)
    if nested:                      # exits: where the arrows leave a nested model's frame
        for k, (item, idx) in enumerate(level.outputs):
            edges.append((item, len(nodes), idx, 0))
            nodes.append(route.Node("exit", 0.0, 0.0, k))
    grid = route.Grid(nodes, edges)
    return grid.place(level, subs, path)


def _frame_pads(horiz):
    """(cross start, cross end, main start, main end) padding; the label band is on top."""
    band = LINE_H + FRAME_PAD / 2
    if horiz:
        return (FRAME_PAD + band, FRAME_PAD, FRAME_PAD, FRAME_PAD)
    return (FRAME_PAD, FRAME_PAD, FRAME_PAD + band, FRAME_PAD)


__all__ = ["Box", "Edge", "Frame", "PlotLayout", "layout_model", "text_size"]
