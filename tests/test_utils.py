import numpy as np
import pytest

from kerasnp.utils import normalize, plot_decision_boundary, plot_history, to_categorical

plt = pytest.importorskip("matplotlib.pyplot")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ---------------------------------------------------------------- to_categorical

def test_to_categorical_values():
    out = to_categorical([1, 0, 3])
    assert out.dtype == np.float32 and out.shape == (3, 4)
    np.testing.assert_array_equal(out, np.eye(4, dtype=np.float32)[[1, 0, 3]])
    out = to_categorical(np.array([[2], [0]]), num_classes=5)  # (n, 1) labels
    assert out.shape == (2, 5)
    np.testing.assert_array_equal(out.argmax(1), [2, 0])
    assert out.sum() == 2


def test_to_categorical_shapes_and_float_labels():
    assert to_categorical(np.zeros((2, 3), np.int32), 4).shape == (2, 3, 4)
    np.testing.assert_array_equal(to_categorical(np.array([1.0, 2.0]), 3),
                                  [[0, 1, 0], [0, 0, 1]])
    assert to_categorical(np.array([], np.int64), num_classes=3).shape == (0, 3)
    y = np.arange(10, dtype=np.uint8)
    np.testing.assert_array_equal(to_categorical(y), np.eye(10))


@pytest.mark.parametrize("x, k, match", [
    ([0, -2, 1], None, "label -2"),
    ([0, 1.5], None, "label 1.5"),
    ([0, np.nan], 3, "label nan"),
    ([0, 4, 7], 5, "label 7 "),
    ([0, 3], 3, "label 3"),
    ([0, 1], 0, "num_classes=0"),
    (["a", "b"], None, "dtype"),
    ([], None, "empty"),
])
def test_to_categorical_errors(x, k, match):
    with pytest.raises(ValueError, match=match):
        to_categorical(x, num_classes=k)


def test_to_categorical_names_first_offender():
    with pytest.raises(ValueError, match=r"label 7 at flat index 2.*num_classes=5"):
        to_categorical([0, 4, 7, 9], num_classes=5)


# ---------------------------------------------------------------- normalize

def test_normalize_l2_rows_and_zero_rows():
    x = np.array([[3.0, 4.0], [0.0, 0.0], [1.0, 0.0]], dtype=np.float32)
    out = normalize(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[0.6, 0.8], [0, 0], [1, 0]], rtol=1e-6)
    assert not np.shares_memory(out, x)


def test_normalize_axis_and_order():
    x = np.array([[1.0, 2.0], [3.0, 6.0]])
    np.testing.assert_allclose(normalize(x, axis=0, order=1), [[0.25, 0.25], [0.75, 0.75]])
    np.testing.assert_allclose(normalize(x, order=np.inf), [[0.5, 1.0], [0.5, 1.0]])
    rng = np.random.default_rng(0)
    z = rng.standard_normal((4, 5, 6))
    np.testing.assert_allclose(np.linalg.norm(normalize(z, axis=1), axis=1), 1.0)
    assert normalize([[1, 1]]).dtype == np.float32  # ints become floatx
    with pytest.raises(ValueError, match="axis=2"):
        normalize(x, axis=2)


# ---------------------------------------------------------------- plot_history

class FakeHistory:
    def __init__(self, history, epoch=None):
        self.history = history
        self.epoch = epoch if epoch is not None else list(range(len(history["loss"])))


HIST = {"accuracy": [0.5, 0.7, 0.8], "loss": [1.0, 0.6, 0.4],
        "val_loss": [1.1, 0.8, 0.7], "val_accuracy": [0.4, 0.6, 0.7], "auc": [0.6, 0.7, 0.9]}


def _lines(ax):
    return {line.get_label(): line for line in ax.get_lines()}


def test_plot_history_panels_lines_labels():
    fig = plot_history(FakeHistory(HIST), title="run 1")
    assert len(fig.axes) == 3
    assert [ax.get_ylabel() for ax in fig.axes] == ["loss", "accuracy", "auc"]  # loss first
    assert all(ax.get_xlabel() == "Epoch" for ax in fig.axes)
    loss = _lines(fig.axes[0])
    assert set(loss) == {"train", "validation"}
    np.testing.assert_array_equal(loss["train"].get_xdata(), [1, 2, 3])  # 1-based epochs
    np.testing.assert_array_equal(loss["train"].get_ydata(), HIST["loss"])
    np.testing.assert_array_equal(loss["validation"].get_ydata(), HIST["val_loss"])
    np.testing.assert_array_equal(_lines(fig.axes[1])["validation"].get_ydata(),
                                  HIST["val_accuracy"])
    assert set(_lines(fig.axes[2])) == {"train"}  # no val_auc logged
    legend = fig.axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["train", "validation"]
    assert fig._suptitle.get_text() == "run 1"


def test_plot_history_uses_epoch_attribute_and_plain_dict():
    fig = plot_history(FakeHistory({"loss": [3.0, 2.0]}, epoch=[4, 5]))
    np.testing.assert_array_equal(fig.axes[0].get_lines()[0].get_xdata(), [5, 6])
    fig = plot_history({"loss": [3.0, 2.0, 1.0]}, figsize=(3, 2))
    assert len(fig.axes) == 1
    np.testing.assert_allclose(fig.get_size_inches(), [3, 2])


def test_plot_history_metric_selection():
    fig = plot_history(HIST, metrics=["loss"])
    assert len(fig.axes) == 1 and fig.axes[0].get_ylabel() == "loss"
    fig = plot_history(HIST, metrics="auc")
    assert [ax.get_ylabel() for ax in fig.axes] == ["auc"]
    fig = plot_history(HIST, metrics=["auc", "loss"])
    assert [ax.get_ylabel() for ax in fig.axes] == ["auc", "loss"]


def test_plot_history_many_metrics_grid_has_no_empty_axes():
    hist = {f"m{i}": [1.0, 2.0] for i in range(4)}
    assert len(plot_history(hist).axes) == 4


def test_plot_history_errors():
    with pytest.raises(ValueError, match=r"unknown metric 'acc'.*loss, accuracy, auc"):
        plot_history(HIST, metrics=["acc"])
    with pytest.raises(ValueError, match="empty"):
        plot_history({})
    with pytest.raises(TypeError, match="History"):
        plot_history([1, 2, 3])


# ---------------------------------------------------------------- plot_decision_boundary

class HalfPlane:
    """Predicts class 1 where x0 > 0; records how predict was called."""

    def __init__(self, columns):
        self.columns = columns
        self.calls = []

    def predict(self, x, verbose=1):
        self.calls.append((x.shape, x.dtype, verbose))
        p = (x[:, 0] > 0).astype(np.float32)
        if self.columns == 1:
            return p[:, None]
        return np.stack([1 - p, p] + [np.zeros_like(p)] * (self.columns - 2), axis=1)


@pytest.mark.parametrize("columns", [1, 3])
def test_plot_decision_boundary(columns):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (40, 2)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = HalfPlane(columns)
    fig = plot_decision_boundary(model, x, y, resolution=50)
    assert model.calls == [((2500, 2), np.float32, 0)]
    ax = fig.axes[0]
    zz = np.asarray(ax.images[0].get_array())
    x0, x1, y0, y1 = ax.images[0].get_extent()
    assert x0 < x[:, 0].min() and x1 > x[:, 0].max()  # grid covers the data plus a margin
    assert y0 < x[:, 1].min() and y1 > x[:, 1].max()
    gx = np.linspace(x0, x1, 50)
    np.testing.assert_array_equal(zz, np.broadcast_to((gx > 0).astype(int), (50, 50)))
    points = ax.collections[-1]
    np.testing.assert_allclose(points.get_offsets(), x)
    np.testing.assert_array_equal(points.get_array(), y)


def test_plot_decision_boundary_into_given_axes_with_onehot_labels():
    fig, ax = plt.subplots()
    x = np.array([[0.0, 0.0], [1.0, 1.0], [-1.0, 0.5]])
    y = np.array([[1, 0], [0, 1], [1, 0]], dtype=np.float32)
    out = plot_decision_boundary(HalfPlane(2), x, y, resolution=10, ax=ax)
    assert out is fig and ax.images
    np.testing.assert_array_equal(ax.collections[-1].get_array(), [0, 1, 0])


def test_plot_decision_boundary_errors():
    with pytest.raises(ValueError, match=r"\(n, 2\).*x.shape=\(5, 3\)"):
        plot_decision_boundary(HalfPlane(1), np.zeros((5, 3)), np.zeros(5))
    with pytest.raises(ValueError, match="labels"):
        plot_decision_boundary(HalfPlane(1), np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(TypeError, match="predict"):
        plot_decision_boundary(object(), np.zeros((5, 2)), np.zeros(5))
