"""kerasnp.utils.plot_model: written files, and the layout's boxes, ranks, frames and arrows."""
import warnings

import numpy as np
import pytest

import kerasnp as keras
from kerasnp.utils import _plot_layout
from kerasnp.utils._plot_layout import layout_model
from kerasnp.utils.plot_model import plot_model

layers = keras.layers


def mlp():
    return keras.Sequential([keras.Input((784,)), layers.Dense(32, activation="relu"),
                             layers.Dense(16, activation="relu"),
                             layers.Dense(10, activation="softmax")], name="mlp")


def cnn():
    return keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(8, 3, activation="relu"),
                             layers.MaxPooling2D(2), layers.Conv2D(16, 3, activation="relu"),
                             layers.MaxPooling2D(2), layers.Flatten(),
                             layers.Dense(10, activation="softmax")], name="cnn")


def two_in_two_out():
    a, b = keras.Input((8,), name="a"), keras.Input((4,), name="b")
    h = layers.Dense(16, activation="relu", name="h")(a)
    g = layers.Dense(16, name="g")(b)
    cat = layers.Concatenate(name="cat")([h, g, a])               # a skips a rank
    out1 = layers.Dense(3, activation="softmax", name="cls")(cat)
    out2 = layers.Dense(1, name="reg")(layers.Add(name="add")([h, g]))
    return keras.Model([a, b], [out1, out2], name="two_io")


# name -> names it feeds, for two_in_two_out
TWO_IO_EDGES = {("a", "h"), ("b", "g"), ("h", "cat"), ("g", "cat"), ("a", "cat"),
                ("cat", "cls"), ("h", "add"), ("g", "add"), ("add", "reg")}


def nested():
    enc = keras.Sequential([keras.Input((8,)), layers.Dense(4, name="e1"),
                            layers.Dense(2, name="e2")], name="encoder")
    x = keras.Input((8,), name="x")
    z = enc(x)
    return keras.Model(x, [layers.Dense(8, name="dec")(z), layers.Dense(1, name="side")(x)],
                       name="ae")


def resnet50():
    return keras.applications.ResNet50(weights=None)


def _overlap(b1, b2):
    x0, y0, x1, y1 = b1.bounds()
    u0, v0, u1, v1 = b2.bounds()
    return x0 < u1 and u0 < x1 and y0 < v1 and v0 < y1


def _crosses(p, q, box, eps=1e-6):
    """Whether the axis-aligned segment p-q enters the inside of `box`."""
    x0, y0, x1, y1 = box.bounds()
    lo_x, hi_x = sorted((p[0], q[0]))
    lo_y, hi_y = sorted((p[1], q[1]))
    return lo_x < x1 - eps and hi_x > x0 + eps and lo_y < y1 - eps and hi_y > y0 + eps


def _on_border(point, box, tol=1e-6):
    x, y = point
    x0, y0, x1, y1 = box.bounds()
    inside = x0 - tol <= x <= x1 + tol and y0 - tol <= y <= y1 + tol
    return inside and min(abs(x - x0), abs(x - x1), abs(y - y0), abs(y - y1)) <= tol


def check_layout(layout):
    """No overlaps; every edge joins two boxes, leaves and enters them on their border and
    runs (right-angled) through no other box."""
    boxes = layout.boxes
    for i, b1 in enumerate(boxes):
        assert b1.w > 0 and b1.h > 0
        x0, y0, x1, y1 = b1.bounds()
        assert 0 <= x0 and x1 <= layout.width and 0 <= y0 and y1 <= layout.height
        for b2 in boxes[i + 1:]:
            assert not _overlap(b1, b2), (b1.name, b2.name)
    for e in layout.edges:
        assert 0 <= e.src < len(boxes) and 0 <= e.dst < len(boxes)
        src, dst = boxes[e.src], boxes[e.dst]
        assert _on_border(e.points[0], src) and _on_border(e.points[-1], dst)
        if e.back:
            continue
        for p, q in zip(e.points, e.points[1:]):
            assert p[0] == q[0] or p[1] == q[1], "ortho segments only"
            for k, box in enumerate(boxes):
                if k not in (e.src, e.dst):
                    assert not _crosses(p, q, box), (src.name, dst.name, box.name)


def check_frames(layout):
    """A nested model's boxes lie inside its frame, every other box outside it."""
    for f in layout.frames:
        for b in layout.boxes:
            x0, y0, x1, y1 = b.bounds()
            if b.path[:len(f.path)] == f.path:
                assert f.x0 < x0 and x1 < f.x1 and f.y0 < y0 and y1 < f.y1, (f.label, b.name)
            else:
                assert x1 <= f.x0 or f.x1 <= x0 or y1 <= f.y0 or f.y1 <= y0, (f.label, b.name)


def _random_graph(rng, inputs, prefix, n):
    pool = list(inputs)
    for k in range(n):
        if rng.random() < 0.5 or len(pool) < 2:
            pool.append(layers.Dense(4, name=f"{prefix}d{k}")(rng.choice(pool)))
        else:
            pool.append(layers.Add(name=f"{prefix}m{k}")(rng.sample(pool, 2)))
    return pool


@pytest.mark.parametrize("seed", range(12))
def test_random_graphs_lay_out_cleanly(seed):
    """Random DAGs of Dense and Add (skips, fan-out, merges), with a random nested model."""
    import random
    rng = random.Random(seed)
    n_in = rng.randint(1, 2)
    sub_in = [keras.Input((4,), name=f"s_in{i}") for i in range(n_in)]
    sub_pool = _random_graph(rng, sub_in, "s_", rng.randint(2, 8))
    sub = keras.Model(sub_in, layers.Add(name="s_out")(sub_pool[-1:] + sub_in), name="sub")
    ins = [keras.Input((4,), name=f"in{i}") for i in range(n_in)]
    pool = _random_graph(rng, ins, "a_", rng.randint(1, 6))
    inner = sub(rng.sample(pool, n_in) if n_in > 1 else rng.choice(pool))
    pool = _random_graph(rng, pool + [inner], "b_", rng.randint(1, 8))
    model = keras.Model(ins, [layers.Add(name="out")(pool[-1:] + ins), inner])
    for rankdir in ("TB", "LR"):
        for expand in (False, True):
            layout = layout_model(model, rankdir=rankdir, expand_nested=expand,
                                  show_shapes=bool(seed % 2))
            check_layout(layout)
            check_frames(layout)
            assert len(layout.boxes) == len(model.layers) + expand * (len(sub.layers) - 1)


def _names(layout):
    return {(layout.boxes[e.src].name, layout.boxes[e.dst].name) for e in layout.edges}


@pytest.mark.parametrize("build", [mlp, cnn, two_in_two_out, nested])
@pytest.mark.parametrize("rankdir", ["TB", "LR"])
def test_one_box_per_layer_and_clean_arrows(build, rankdir):
    model = build()
    layout = layout_model(model, show_shapes=True, rankdir=rankdir)
    assert [b.layer for b in layout.boxes] == model.layers      # InputLayers: functional only
    check_layout(layout)


def test_sequential_is_a_chain_top_to_bottom():
    model = mlp()
    layout = layout_model(model)
    names = [l.name for l in model.layers]
    assert _names(layout) == set(zip(names, names[1:]))
    ys = [b.y for b in layout.boxes]
    assert ys == sorted(ys) and len(set(ys)) == len(ys)
    xs = {round(b.x, 6) for b in layout.boxes}
    assert len(xs) == 1                                          # a straight column


def test_functional_edges_and_depth_ranks():
    for rankdir, main, cross in (("TB", "y", "x"), ("LR", "x", "y")):
        layout = layout_model(two_in_two_out(), rankdir=rankdir)
        assert _names(layout) == TWO_IO_EDGES
        at = {b.name: b for b in layout.boxes}
        depth = {"a": 0, "b": 0, "h": 1, "g": 1, "cat": 2, "add": 2, "cls": 3, "reg": 3}
        for n1, d1 in depth.items():         # same depth: side by side; deeper: further on
            for n2, d2 in depth.items():
                m1, m2 = getattr(at[n1], main), getattr(at[n2], main)
                assert (m1 == pytest.approx(m2)) == (d1 == d2)
                assert (m1 < m2) == (d1 < d2) or d1 >= d2
        assert getattr(at["a"], cross) != pytest.approx(getattr(at["b"], cross))


def test_resnet50_layout_stays_legible():
    model = resnet50()
    layout = layout_model(model, show_shapes=True)
    assert len(layout.boxes) == len(model.layers) == 177
    check_layout(layout)
    # 16 residual blocks: 16 adds, each fed by two arrows
    adds = [i for i, b in enumerate(layout.boxes) if type(b.layer).__name__ == "Add"]
    assert len(adds) == 16 and all(sum(e.dst == i for e in layout.edges) == 2 for i in adds)
    # text keeps its size: boxes are sized from their text, the drawing grows instead
    longest = max(max(len(t) for t, _ in b.lines) for b in layout.boxes)
    assert max(b.w for b in layout.boxes) == pytest.approx(
        longest * _plot_layout.CHAR_W + 2 * _plot_layout.PAD_X)
    assert layout.height > 100 and layout.width < 12


def test_expand_nested_draws_a_frame_around_the_inner_layers():
    model = nested()
    closed = layout_model(model)
    assert [b.name for b in closed.boxes] == ["x", "encoder", "dec", "side"]
    assert not closed.frames
    for rankdir in ("TB", "LR"):
        layout = layout_model(model, expand_nested=True, show_shapes=True, rankdir=rankdir)
        check_layout(layout)
        check_frames(layout)
        assert [b.name for b in layout.boxes] == ["x", "e1", "e2", "dec", "side"]
        assert [b.path for b in layout.boxes][1] == ("encoder", "e1")
        (frame,) = layout.frames
        assert frame.label == "encoder (Sequential)"
        for b in layout.boxes:
            x0, y0, x1, y1 = b.bounds()
            inside = frame.x0 < x0 and x1 < frame.x1 and frame.y0 < y0 and y1 < frame.y1
            assert inside == (b.path[0] == "encoder")
        assert _names(layout) == {("x", "e1"), ("e1", "e2"), ("e2", "dec"), ("x", "side")}


def test_nested_functional_with_two_inputs_and_a_shared_layer():
    a, b = keras.Input((6,), name="a_in"), keras.Input((6,), name="b_in")
    tower = keras.Sequential([keras.Input((6,)), layers.Dense(6, name="t1")], name="tower")
    merged = layers.Add(name="inner_add")([tower(a), b])
    pair = keras.Model([a, b], [merged, layers.Dense(2, name="head")(merged)], name="pair")
    x, y = keras.Input((6,), name="x"), keras.Input((6,), name="y")
    p, q = pair([x, y])
    shared = layers.Dense(6, name="shared")
    out = layers.Concatenate(name="cat")([shared(shared(p)), q])
    model = keras.Model([x, y], out)
    layout = layout_model(model, expand_nested=True, show_shapes=True)
    check_layout(layout)
    check_frames(layout)
    assert [f.label for f in layout.frames] == ["pair (Model)", "tower (Sequential)"]
    assert _names(layout) == {("x", "a_in"), ("y", "b_in"), ("a_in", "t1"),
                              ("t1", "inner_add"), ("b_in", "inner_add"),
                              ("inner_add", "head"), ("inner_add", "shared"),
                              ("shared", "shared"), ("shared", "cat"), ("head", "cat")}
    (loop,) = [e for e in layout.edges if e.back]
    assert loop.src == loop.dst                      # the shared layer fed its own output
    cat = next(b for b in layout.boxes if b.name == "cat")
    assert ("Input shape: [(None, 6), (None, 2)]", "body") in cat.lines


def test_labels_follow_the_switches():
    model = mlp()
    model.layers[1].trainable = False
    layout = layout_model(model, show_shapes=True, show_dtype=True,
                          show_layer_activations=True, show_trainable=True)
    first, second = layout.boxes[0], layout.boxes[1]
    assert first.lines == [("dense (Dense)", "header"), ("Activation: relu", "body"),
                           ("Input shape: (None, 784)", "body"),
                           ("Output shape: (None, 32)", "body"),
                           ("Output dtype: float32", "body"), ("Trainable", "trainable")]
    assert second.lines[-1] == ("Non-trainable", "frozen")
    plain = layout_model(model, show_layer_names=False)
    assert [b.lines for b in plain.boxes] == [[("Dense", "header")]] * 3
    inputs = layout_model(two_in_two_out(), show_shapes=True).boxes[0]
    assert inputs.lines == [("a (InputLayer)", "header"), ("Output shape: (None, 8)", "body")]


@pytest.mark.parametrize("build", [mlp, cnn, two_in_two_out, resnet50])
def test_png_is_written_and_reads_back(tmp_path, build):
    import matplotlib.image
    path = tmp_path / "model.png"
    model = build()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # ResNet-50 is taller than the pixel cap at 200 dpi
        assert plot_model(model, to_file=str(path), show_shapes=True) is None
    image = matplotlib.image.imread(path)
    layout = layout_model(model, show_shapes=True)
    assert image.ndim == 3 and image.shape[0] > 100
    scale = image.shape[0] / layout.height          # 200 dpi, less for ResNet-50
    assert image.shape[1] == pytest.approx(layout.width * scale, abs=2)
    assert np.ptp(image[..., :3]) > 0.5                # there is a drawing on it


def test_pdf_svg_and_no_extension(tmp_path):
    model = nested()
    plot_model(model, to_file=tmp_path / "m.pdf", expand_nested=True, rankdir="LR")
    assert (tmp_path / "m.pdf").read_bytes().startswith(b"%PDF")
    plot_model(model, to_file=str(tmp_path / "m.svg"), splines="curved", show_trainable=True)
    svg = (tmp_path / "m.svg").read_text()
    assert "<svg" in svg and "</svg>" in svg
    plot_model(model, to_file=str(tmp_path / "model"))
    assert (tmp_path / "model").read_bytes().startswith(b"\x89PNG")


def test_very_long_models_lower_the_dpi(tmp_path, monkeypatch):
    import importlib

    import matplotlib.image
    module = importlib.import_module("kerasnp.utils.plot_model")   # the attribute is the function
    monkeypatch.setattr(module, "_MAX_PIXELS", 600)
    with pytest.warns(UserWarning, match="dpi lowered from 200"):
        plot_model(cnn(), to_file=str(tmp_path / "m.png"), show_shapes=True)
    assert max(matplotlib.image.imread(tmp_path / "m.png").shape[:2]) <= 600


def test_subclassed_model_is_one_box(tmp_path):
    class Net(keras.Model):
        def __init__(self):
            super().__init__(name="net")
            self.dense = layers.Dense(3)

        def call(self, x):
            return self.dense(x)

    model = Net()
    model.build((None, 4))
    layout = layout_model(model)
    assert [b.name for b in layout.boxes] == ["net"] and not layout.edges
    plot_model(model, to_file=str(tmp_path / "net.png"))


def test_errors_name_the_problem(tmp_path):
    path = str(tmp_path / "m.png")
    with pytest.raises(ValueError, match=r"rankdir must be one of 'TB', 'LR'.*rankdir='BT'"):
        plot_model(mlp(), to_file=path, rankdir="BT")
    with pytest.raises(ValueError, match="'unbuilt' has not yet been built"):
        plot_model(keras.Sequential([layers.Dense(2)], name="unbuilt"), to_file=path)
    with pytest.raises(TypeError, match="expects a kerasnp Model"):
        plot_model(layers.Dense(2), to_file=path)
    with pytest.raises(ValueError, match="unknown format 'xyz'. Valid extensions:.*png"):
        plot_model(mlp(), to_file=str(tmp_path / "m.xyz"))
    with pytest.raises(ValueError, match=r"unrecognized keyword arguments \['show_colors'\]"):
        plot_model(mlp(), to_file=path, show_colors=True)
    with pytest.raises(ValueError, match="splines must be one of"):
        plot_model(mlp(), to_file=path, splines="wavy")
    with pytest.raises(ValueError, match="dpi must be a positive number"):
        plot_model(mlp(), to_file=path, dpi=0)
    with pytest.raises(ValueError, match="layer_range"):
        plot_model(mlp(), to_file=path, layer_range=["a", "b"])


def test_exported_as_keras_utils_plot_model():
    assert keras.utils.plot_model is plot_model
