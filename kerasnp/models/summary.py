"""`model.summary()`: Keras 3's table, with thousands separators and parameter sizes."""
from ..layers.base import shape_str


def readable_size(nbytes):
    """`215.04 KB` style sizes (1 KB = 1024 B), as Keras prints them."""
    size = float(nbytes)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.2f} {unit}"
        size /= 1024


def _count(variables):
    return sum(v.value.size for v in variables), sum(v.value.nbytes for v in variables)


def summary_lines(model, line_length=None, show_trainable=False):
    """The summary as a list of text lines."""
    header = ["Layer (type)", "Output Shape", "Param #"] + (["Trainable"] if show_trainable else [])
    rows = []
    built = model.built and bool(getattr(model, "_nodes", None))
    for node in (model._nodes if built else []):
        layer = node.layer
        if type(layer).__name__ == "InputLayer" and type(model).__name__ == "Sequential":
            continue
        params = f"{sum(v.value.size for v in layer.weights):,}"
        row = [f"{layer.name} ({type(layer).__name__})", shape_str(node.shape), params]
        if show_trainable:
            row.append("Y" if layer.trainable else "N")
        rows.append(row)
    if not built:
        for layer in model.layers:
            row = [f"{layer.name} ({type(layer).__name__})", "?", "0 (unbuilt)"]
            rows.append(row + (["Y" if layer.trainable else "N"] if show_trainable else []))
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    widths = [max(w, m) for w, m in zip(widths, (29, 22, 11, 9))]
    if line_length:
        extra = line_length - (sum(widths) + 3 * len(widths) + 1)
        if extra > 0:
            widths[0] += extra
    right = {2}

    def line(cells, l, m, r, v):
        parts = [(f" {c:>{w}} " if i in right else f" {c:<{w}} ")
                 for i, (c, w) in enumerate(zip(cells, widths))]
        return l + v.join(parts) + r

    def rule(l, m, r, h):
        return l + m.join(h * (w + 2) for w in widths) + r

    out = [f'Model: "{model.name}"', rule("┏", "┳", "┓", "━"), line(header, "┃", "", "┃", "┃"),
           rule("┡", "╇", "┩", "━")]
    for k, row in enumerate(rows):
        out.append(line(row, "│", "", "│", "│"))
        if k < len(rows) - 1:
            out.append(rule("├", "┼", "┤", "─"))
    out.append(rule("└", "┴", "┘", "─"))
    trainable = model.trainable_weights if built else []
    non_trainable = model.non_trainable_weights if built else []
    t_n, t_b = _count(trainable)
    n_n, n_b = _count(non_trainable)
    out.append(f" Total params: {t_n + n_n:,} ({readable_size(t_b + n_b)})")
    out.append(f" Trainable params: {t_n:,} ({readable_size(t_b)})")
    out.append(f" Non-trainable params: {n_n:,} ({readable_size(n_b)})")
    opt = getattr(model, "optimizer", None)
    slots = getattr(opt, "_slots", None)
    if built and opt is not None and slots:
        arrays = [a for var in trainable for a in opt.get_slots(var).values()]
        if arrays:
            o_n = sum(a.size for a in arrays)
            o_b = sum(a.nbytes for a in arrays)
            out.append(f" Optimizer params: {o_n:,} ({readable_size(o_b)})")
    return out


def print_summary(model, line_length=None, print_fn=None, show_trainable=False):
    """Print the summary (or call `print_fn(line)` once per line)."""
    lines = summary_lines(model, line_length=line_length, show_trainable=show_trainable)
    fn = print_fn or print
    for text in lines:
        fn(text)
