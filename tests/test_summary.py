"""model.summary(): functional layout (Connected to, InputLayer rows), nesting, FLOPs."""
import pytest

import kerasnp as keras
from kerasnp import layers as L
from kerasnp.models.summary import print_summary, summary_lines


def lines_of(model, **kwargs):
    out = []
    print_summary(model, print_fn=out.append, **kwargs)
    return out


def table(lines):
    """The box-drawn part of a summary."""
    return [t for t in lines if t[:1] in "┏┃┡│├└"]


def two_input_add():
    a, b = keras.Input((4,)), keras.Input((4,))
    out = L.Add()([L.Dense(3)(a), L.Dense(3)(b)])
    return keras.Model([a, b], out, name="two_in")


def test_functional_two_inputs_connected_to_exact_lines():
    lines = lines_of(two_input_add())
    assert lines == [
        'Model: "two_in"',
        "┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━┓",
        "┃ Layer (type)                  ┃ Output Shape           ┃     Param # ┃ Connected to         ┃",
        "┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━┩",
        "│ input_layer (InputLayer)      │ (None, 4)              │           0 │ -                    │",
        "├───────────────────────────────┼────────────────────────┼─────────────┼──────────────────────┤",
        "│ input_layer_1 (InputLayer)    │ (None, 4)              │           0 │ -                    │",
        "├───────────────────────────────┼────────────────────────┼─────────────┼──────────────────────┤",
        "│ dense (Dense)                 │ (None, 3)              │          15 │ input_layer[0][0]    │",
        "├───────────────────────────────┼────────────────────────┼─────────────┼──────────────────────┤",
        "│ dense_1 (Dense)               │ (None, 3)              │          15 │ input_layer_1[0][0]  │",
        "├───────────────────────────────┼────────────────────────┼─────────────┼──────────────────────┤",
        "│ add (Add)                     │ (None, 3)              │           0 │ dense[0][0],         │",
        "│                               │                        │             │ dense_1[0][0]        │",
        "└───────────────────────────────┴────────────────────────┴─────────────┴──────────────────────┘",
        " Total params: 30 (120.00 B)",
        " Trainable params: 30 (120.00 B)",
        " Non-trainable params: 0 (0.00 B)",
    ]


def test_shared_layer_lists_every_call_with_its_node_index():
    a, b = keras.Input((4,)), keras.Input((4,))
    shared = L.Dense(3, name="shared")
    out = L.Concatenate()([shared(a), shared(b)])
    lines = lines_of(keras.Model([a, b], out))
    rows = "\n".join(lines)
    assert "│ shared (Dense) " in rows and rows.count("shared (Dense)") == 1   # one row per layer
    cells = [t.split("│")[4].strip() for t in lines if t.startswith("│")]
    assert cells == ["-", "-", "input_layer[0][0],", "input_layer_1[0][0]",
                     "shared[0][0],", "shared[1][0]"]    # the second call of `shared` is node 1


def test_box_drawing_is_rectangular_with_multiline_cells():
    for kwargs in ({}, {"show_trainable": True}, {"show_flops": True},
                   {"show_trainable": True, "show_flops": True, "line_length": 150}):
        rows = table(lines_of(two_input_add(), **kwargs))
        assert len({len(t) for t in rows}) == 1, kwargs
        width = len(rows[0])
        # column separators line up on every line
        seps = {i for i, ch in enumerate(rows[0]) if ch == "┳"}
        for t in rows[4:]:
            assert {i for i, ch in enumerate(t) if ch in "│┼┴"} >= seps
        if kwargs.get("line_length"):
            assert width == 150


def test_show_trainable_on_functional_model():
    a = keras.Input((4,))
    frozen = L.Dense(2, name="frozen", trainable=False)
    model = keras.Model(a, L.Dense(1)(frozen(a)))
    lines = lines_of(model, show_trainable=True)
    header = lines[2]
    assert header.index("Connected to") < header.index("Trainable")
    row = {t.split()[1]: t for t in lines if t.startswith("│ ")}
    assert row["frozen"].rstrip("│ ").endswith("N")
    assert row["dense"].rstrip("│ ").endswith("Y")
    assert row["input_layer"].rstrip("│ ").endswith("-")         # no weights: "-" as in Keras
    assert " Non-trainable params: 10 (40.00 B)" in lines


def test_sequential_keeps_three_columns_and_hides_its_input_layer():
    model = keras.Sequential([keras.Input((4,)), L.Dense(3)])
    lines = lines_of(model)
    assert "Connected to" not in lines[2] and "InputLayer" not in "\n".join(lines)
    assert lines[4] == ("│ dense (Dense)                 │ (None, 3)              │"
                        "          15 │")


def nested():
    inner = keras.Sequential([keras.Input((3,)), L.Dense(2), L.Dense(5)], name="inner")
    x = keras.Input((6,))
    return keras.Model(x, inner(L.Dense(3)(x)), name="outer")


def test_expand_nested_lists_inner_layers_indented_under_the_model():
    model = nested()
    flat = lines_of(model)
    assert "dense_1 (Dense)" not in "\n".join(flat)
    lines = lines_of(model, expand_nested=True)
    end = lines[1].index("┳")                     # the first column's right border
    names = [t[1:end].rstrip() for t in lines if t.startswith("│ ")]
    assert names == [" input_layer_1 (InputLayer)", " dense_2 (Dense)", " inner (Sequential)",
                     " │ dense (Dense)", " │ dense_1 (Dense)"]
    inner_row = next(t for t in lines if "inner (Sequential)" in t)
    assert "23" in inner_row and "dense_2[0][0]" in inner_row
    assert " Total params: 44 (176.00 B)" in lines      # 21 + 8 + 15, counted once
    assert len({len(t) for t in table(lines)}) == 1


def test_expand_nested_functional_inside_functional_shows_inner_connections():
    x0 = keras.Input((3,))
    inner = keras.Model(x0, L.Dense(2, name="in_dense")(x0), name="inner")
    x = keras.Input((3,))
    model = keras.Model(x, inner(x))
    lines = lines_of(model, expand_nested=True, show_flops=True)
    inner_dense = next(t for t in lines if "in_dense (Dense)" in t)
    assert "│ │ in_dense (Dense)" in inner_dense
    assert "input_layer[0][0]" in inner_dense and inner_dense.rstrip(" │").endswith("6")
    assert " Total FLOPs: 6" in lines


def flops_by_layer(model):
    lines = lines_of(model, show_flops=True)
    header = lines[2]
    assert header.rstrip("┃ ").endswith("FLOPs")
    out = {}
    for t in lines:
        if t.startswith("│ ") and "(" in t:
            cells = [c.strip() for c in t.split("│")[1:-1]]
            out[cells[0].split(" (")[0]] = cells[-1]
    return out, lines


def test_flops_dense_and_conv_hand_computed():
    x = keras.Input((8, 8, 3))
    h = L.Conv2D(4, 3, name="conv")(x)                                     # -> (6, 6, 4)
    h = L.Conv2D(6, 3, padding="same", groups=2, name="grouped")(h)       # -> (6, 6, 6)
    h = L.BatchNormalization(name="bn")(h)
    h = L.MaxPooling2D(2, name="pool")(h)                                  # -> (3, 3, 6)
    h = L.Flatten(name="flat")(h)
    y = L.Dense(10, name="fc")(h)
    flops, lines = flops_by_layer(keras.Model(x, y))
    conv = 3 * 3 * 3 * 4 * 6 * 6          # kh*kw*cin*cout*oh*ow = 3,888
    grouped = 3 * 3 * (4 // 2) * 6 * 6 * 6  # cin/groups = 2 -> 3,888
    bn = 2 * 6 * 6 * 6                    # 2 per element = 432
    fc = 54 * 10                          # in*out = 540
    assert flops == {"input_layer": "-", "conv": "3,888", "grouped": "3,888", "bn": "432",
                     "pool": "-", "flat": "-", "fc": "540"}
    assert conv == grouped == 3888
    assert f" Total FLOPs: {conv + grouped + bn + fc:,}" in lines          # 8,748


def test_flops_other_convolutions_and_sequence_dense():
    x = keras.Input((5, 5, 2))
    d = L.DepthwiseConv2D(3, depth_multiplier=2, name="dw")(x)                 # -> (3, 3, 4)
    s = L.SeparableConv2D(6, 3, padding="same", name="sep")(x)               # -> (5, 5, 6)
    t = L.Conv2DTranspose(3, 2, strides=2, name="tr")(x)                      # -> (10, 10, 3)
    seq = keras.Input((7, 4))
    c1 = L.Conv1D(5, 3, name="c1")(seq)                                      # -> (5, 5)
    ln = L.LayerNormalization(name="ln")(c1)
    dn = L.Dense(2, name="td")(ln)                                           # (None, 5, 2)
    model = keras.Model([x, seq], [L.Flatten()(d), L.Flatten()(s), L.Flatten()(t), dn])
    flops, lines = flops_by_layer(model)
    assert flops["dw"] == f"{3 * 3 * 2 * 2 * 3 * 3:,}"                       # 324
    assert flops["sep"] == f"{(3 * 3 * 2 + 2 * 6) * 5 * 5:,}"               # 750
    assert flops["tr"] == f"{2 * 2 * 2 * 3 * 5 * 5:,}"                      # per input pixel: 600
    assert flops["c1"] == f"{3 * 4 * 5 * 5:,}"                              # 300
    assert flops["ln"] == f"{4 * 5 * 5:,}"                                  # 100
    assert flops["td"] == f"{5 * 5 * 2:,}"                                  # 5 positions: 50
    assert " Total FLOPs: 2,124" in lines


def test_flops_on_sequential_and_unbuilt_model():
    model = keras.Sequential([keras.Input((784,)), L.Dense(256), L.Dense(10)])
    lines = lines_of(model, show_flops=True)
    assert " Total FLOPs: 203,264" in lines                 # 784*256 + 256*10
    unbuilt = keras.Sequential([L.Dense(3)])
    lines = summary_lines(unbuilt, show_flops=True)
    assert " Total FLOPs: ?" in lines


@pytest.mark.parametrize("kwargs", [{}, {"show_trainable": True}])
def test_model_summary_method_still_prints(kwargs):
    out = []
    two_input_add().summary(print_fn=out.append, **kwargs)
    assert "Connected to" in out[2] and any("dense_1[0][0]" in t for t in out)


def test_a_layer_with_several_outputs_lists_every_shape_and_each_tensor_index():
    i = keras.Input((5, 3))
    out, h, c = L.LSTM(4, return_state=True)(i)          # h unused: its shape still shows
    model = keras.Model(i, L.Concatenate()([out, c]))
    text = "\n".join(summary_lines(model))
    assert "[(None, 4), (None, 4), (None, 4)]" in text
    assert "lstm[0][0]," in text and "lstm[0][2]" in text and "lstm[0][1]" not in text
