"""Fashion-MNIST and CIFAR-10 loaders on small generated cache files, scikit-learn's digits,
make_moons, and the split helpers."""
import gzip
import io
import os
import sys
import tarfile

import numpy as np
import pytest

from kerasnp import datasets
from kerasnp import random as kr
from kerasnp.datasets import _cache, cifar10, fashion_mnist, make_moons
from kerasnp.utils import split_dataset, train_test_split


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh KERASNP_HOME; downloads fail as they do offline, and are counted."""
    monkeypatch.setenv("KERASNP_HOME", str(tmp_path))
    monkeypatch.delenv("KERASNP_OFFLINE", raising=False)
    calls = []

    def offline(url, dest, verify=None):
        calls.append(url)
        raise OSError("network unreachable")

    monkeypatch.setattr(_cache, "download", offline)
    return tmp_path, calls


def _serve(monkeypatch, payloads):
    """Route urlopen to in-memory bytes keyed by URL (the real `download` runs)."""
    monkeypatch.setattr(_cache, "download", _REAL_DOWNLOAD)
    monkeypatch.setattr(_cache.urllib.request, "urlopen",
                        lambda url, timeout: io.BytesIO(payloads[url]))


_REAL_DOWNLOAD = _cache.download


# ---------------------------------------------------------------- Fashion-MNIST

def _idx_bytes(array, magic=None, trailing=b""):
    array = np.ascontiguousarray(array, dtype=np.uint8)
    head = magic if magic is not None else bytes([0, 0, 8, array.ndim])
    dims = np.asarray(array.shape, dtype=">u4").tobytes()
    return gzip.compress(head + dims + array.tobytes() + trailing)


def _fashion_arrays(n_train=5, n_test=3):
    rng = np.random.default_rng(0)
    return {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, n_test, dtype=np.uint8),
    }


def _write_fashion(root, arrays, only=None):
    folder = root / "datasets" / "fashion-mnist"
    folder.mkdir(parents=True, exist_ok=True)
    for name, a in arrays.items():
        if only is None or name in only:
            (folder / name).write_bytes(_idx_bytes(a))
    return folder


def test_fashion_from_cache_pins_digests(home):
    root, calls = home
    arrays = _fashion_arrays()
    folder = _write_fashion(root, arrays)
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    assert calls == []
    assert x_train.shape == (5, 28, 28) and x_test.shape == (3, 28, 28)
    assert y_train.shape == (5,) and y_test.shape == (3,)
    for a in (x_train, y_train, x_test, y_test):
        assert a.dtype == np.uint8 and a.flags.writeable
    np.testing.assert_array_equal(x_train, arrays["train-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(y_test, arrays["t10k-labels-idx1-ubyte.gz"])
    for name in arrays:
        pinned = (folder / (name + ".sha256")).read_text().split()[0]
        assert pinned == _cache.sha256(str(folder / name))
    # a changed file no longer matches its pinned digest
    other = _fashion_arrays(n_train=6)["train-images-idx3-ubyte.gz"]
    (folder / "train-images-idx3-ubyte.gz").write_bytes(_idx_bytes(other))
    with pytest.raises(ValueError, match="Checksum mismatch") as err:
        fashion_mnist.load_data()
    assert str(folder / "train-images-idx3-ubyte.gz") in str(err.value)


@pytest.mark.parametrize("name, payload, match", [
    ("train-images-idx3-ubyte.gz", _idx_bytes(np.zeros((5, 28, 28)), magic=b"\0\0\x08\x01"),
     "magic number 0x00000803"),
    ("train-images-idx3-ubyte.gz", _idx_bytes(np.zeros((5, 27, 28))), r"dimensions \(n, 28, 28\)"),
    ("train-images-idx3-ubyte.gz", _idx_bytes(np.zeros((5, 28, 28)))[:-30], "gzip stream"),
    ("train-images-idx3-ubyte.gz", gzip.compress(b"\0\0\x08\x03" + np.asarray(
        [5, 28, 28], ">u4").tobytes() + bytes(100)), "need 3920 data bytes, the file holds 100"),
    ("train-images-idx3-ubyte.gz", _idx_bytes(np.zeros((5, 28, 28)), trailing=b"x"),
     "unexpected bytes after"),
    ("train-labels-idx1-ubyte.gz", b"not gzip at all", "gzip stream"),
    ("train-labels-idx1-ubyte.gz", _idx_bytes(np.array([0, 1, 10, 2, 3])), "label 10"),
    ("train-labels-idx1-ubyte.gz", _idx_bytes(np.arange(4)), "5 images but .* 4 labels"),
])
def test_fashion_malformed_files(home, name, payload, match):
    root, _ = home
    folder = _write_fashion(root, _fashion_arrays())
    (folder / name).write_bytes(payload)
    with pytest.raises(ValueError, match=match) as err:
        fashion_mnist.load_data()
    assert name in str(err.value)
    if "labels" not in match:  # a file that failed its structure check is not pinned
        assert not (folder / (name + ".sha256")).exists()


def test_fashion_offline_error_names_missing_files(home, monkeypatch):
    root, calls = home
    monkeypatch.setenv("KERASNP_OFFLINE", "1")
    arrays = _fashion_arrays()
    folder = _write_fashion(root, arrays, only=["train-images-idx3-ubyte.gz",
                                                "t10k-labels-idx1-ubyte.gz"])
    with pytest.raises(FileNotFoundError) as err:
        fashion_mnist.load_data()
    msg = str(err.value)
    assert calls == [] and "KERASNP_OFFLINE" in msg
    for missing in ("train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"):
        assert str(folder / missing) in msg and fashion_mnist._ORIGIN + missing in msg
    assert str(folder / "train-images-idx3-ubyte.gz") not in msg


def test_fashion_network_failure_tries_once(home):
    root, calls = home
    with pytest.raises(FileNotFoundError, match="network unreachable") as err:
        fashion_mnist.load_data()
    assert len(calls) == 1  # offline fails fast: no retry for each of the four files
    assert str(err.value).count(str(root / "datasets" / "fashion-mnist")) == 4


def test_fashion_download_success_and_bad_download(home, monkeypatch):
    root, _ = home
    arrays = _fashion_arrays()
    payloads = {fashion_mnist._ORIGIN + k: _idx_bytes(v) for k, v in arrays.items()}
    bad_url = fashion_mnist._ORIGIN + "t10k-labels-idx1-ubyte.gz"
    good = payloads[bad_url]
    payloads[bad_url] = _idx_bytes(np.array([1, 2, 99]))
    _serve(monkeypatch, payloads)
    folder = root / "datasets" / "fashion-mnist"
    with pytest.raises(FileNotFoundError, match="label 99"):
        fashion_mnist.load_data()
    assert "t10k-labels-idx1-ubyte.gz" not in os.listdir(folder)  # rejected, nothing left over
    payloads[bad_url] = good
    (x_train, _), (_, y_test) = fashion_mnist.load_data()
    np.testing.assert_array_equal(x_train, arrays["train-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(y_test, arrays["t10k-labels-idx1-ubyte.gz"])
    assert not [f for f in os.listdir(folder) if f.endswith(".part")]
    # deleting a cached file drops its pinned digest, so a different download is accepted
    os.remove(folder / "t10k-labels-idx1-ubyte.gz")
    payloads[bad_url] = _idx_bytes(np.array([7, 7, 7]))
    assert fashion_mnist.load_data()[1][1].tolist() == [7, 7, 7]


# ---------------------------------------------------------------- CIFAR-10

def _records(labels, first):
    """Records whose pixel bytes are (first + i + plane*50 + position) % 256."""
    out = np.empty((len(labels), 3073), np.uint8)
    out[:, 0] = labels
    for i in range(len(labels)):
        for plane in range(3):
            out[i, 1 + 1024 * plane: 1 + 1024 * (plane + 1)] = \
                (first + i + plane * 50 + np.arange(1024)) % 256
    return out


def _add(tar, name, data=b"", kind=tarfile.REGTYPE, linkname=""):
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, linkname, len(data)
    tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def _cifar_tar(path, members=None, extra=()):
    """A tiny cifar-10-binary.tar.gz with 2 records per batch (labels 2k, 2k+1 in batch k)."""
    if members is None:
        members = {name: _records([2 * k, 2 * k + 1], 10 * k).tobytes()
                   for k, name in enumerate(cifar10._TRAIN)}
        members[cifar10._TEST] = _records([8, 9], 200).tobytes()
    with tarfile.open(path, "w:gz") as tar:
        _add(tar, "cifar-10-batches-bin", kind=tarfile.DIRTYPE)
        for name, data in members.items():
            _add(tar, name, data)
        for args in extra:
            _add(tar, *args)
    return members


@pytest.fixture
def cifar_path(home):
    root, _ = home
    (root / "datasets").mkdir()
    return root / "datasets" / "cifar-10-binary.tar.gz"


def test_cifar_shapes_dtypes_and_channel_order(home, cifar_path):
    _, calls = home
    _cifar_tar(cifar_path, extra=[("cifar-10-batches-bin/readme.html", b"<html>")])
    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    assert calls == []
    assert x_train.shape == (10, 32, 32, 3) and y_train.shape == (10, 1)
    assert x_test.shape == (2, 32, 32, 3) and y_test.shape == (2, 1)
    for a in (x_train, y_train, x_test, y_test):
        assert a.dtype == np.uint8
    assert x_train.flags.c_contiguous
    np.testing.assert_array_equal(y_train[:, 0], np.arange(10))  # batches 1..5 in order
    np.testing.assert_array_equal(y_test[:, 0], [8, 9])
    # record 1 of batch 3 (train row 5): plane p at (r, c) = (20 + 1 + 50p + 32r + c) % 256
    r, c = np.mgrid[0:32, 0:32]
    for p in range(3):  # channels last, in R, G, B order
        np.testing.assert_array_equal(x_train[5, :, :, p], (21 + 50 * p + 32 * r + c) % 256)
    np.testing.assert_array_equal(x_test[0, 0, 1], [201, 251, 45])
    assert os.path.exists(str(cifar_path) + ".sha256")


def test_cifar_pinned_checksum_mismatch(cifar_path):
    members = _cifar_tar(cifar_path)
    cifar10.load_data()
    members[cifar10._TEST] = _records([1, 2], 0).tobytes()
    _cifar_tar(cifar_path, members)
    with pytest.raises(ValueError, match="Checksum mismatch") as err:
        cifar10.load_data()
    assert str(cifar_path) in str(err.value) and ".sha256" in str(err.value)


@pytest.mark.parametrize("extra, match", [
    ([("../evil.bin", b"x")], r"'\.\./evil\.bin' has an absolute or parent-relative"),
    ([("cifar-10-batches-bin/../../x", b"x")], "parent-relative"),
    ([("/etc/passwd", b"x")], "absolute"),
    ([("link", b"", tarfile.SYMTYPE, "/etc/passwd")], "'link' is a symlink"),
    ([("hard", b"", tarfile.LNKTYPE, "cifar-10-batches-bin/test_batch.bin")], "hard link"),
    ([("dev", b"", tarfile.CHRTYPE)], "device or special file"),
    ([("cifar-10-batches-bin/test_batch.bin", bytes(3073))], "appears twice"),
])
def test_cifar_unsafe_archives_rejected(cifar_path, extra, match):
    _cifar_tar(cifar_path, extra=extra)
    with pytest.raises(ValueError, match=match):
        cifar10.load_data()
    assert not os.path.exists(str(cifar_path) + ".sha256")


def test_cifar_symlink_in_place_of_a_batch_rejected(cifar_path):
    members = _cifar_tar(cifar_path)
    del members[cifar10._TEST]
    _cifar_tar(cifar_path, members, extra=[(cifar10._TEST, b"", tarfile.SYMTYPE, "/etc/passwd")])
    with pytest.raises(ValueError, match="test_batch.bin' is a symlink"):
        cifar10.load_data()


@pytest.mark.parametrize("change, match", [
    ("drop", "missing member.*data_batch_3.bin"),
    ("short", "3000 bytes; expected a positive multiple of 3073"),
    ("label", "label 10"),
])
def test_cifar_malformed_members(cifar_path, change, match):
    members = _cifar_tar(cifar_path)
    name = cifar10._TRAIN[2]
    if change == "drop":
        del members[name]
    elif change == "short":
        members[name] = bytes(3000)
    else:
        members[name] = _records([1, 10], 0).tobytes()
    _cifar_tar(cifar_path, members)
    with pytest.raises(ValueError, match=match) as err:
        cifar10.load_data()
    assert str(cifar_path) in str(err.value)


def test_cifar_not_a_tar_gz(cifar_path):
    cifar_path.write_bytes(b"definitely not gzip")
    with pytest.raises(ValueError, match="cannot be read"):
        cifar10.load_data()


def test_cifar_offline_error_names_file_and_origin(home, monkeypatch):
    root, calls = home
    monkeypatch.setenv("KERASNP_OFFLINE", "1")
    with pytest.raises(FileNotFoundError) as err:
        cifar10.load_data()
    msg = str(err.value)
    assert calls == []
    assert str(root / "datasets" / "cifar-10-binary.tar.gz") in msg
    assert "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz" in msg


def test_cifar_download(home, monkeypatch, tmp_path):
    src = tmp_path / "served.tar.gz"
    _cifar_tar(src)
    _serve(monkeypatch, {cifar10._ORIGIN: src.read_bytes()})
    (x_train, _), _ = cifar10.load_data()
    assert x_train.shape == (10, 32, 32, 3)
    assert sorted(os.listdir(home[0] / "datasets")) == ["cifar-10-binary.tar.gz",
                                                       "cifar-10-binary.tar.gz.sha256"]


# ---------------------------------------------------------------- digits

def test_digits_split_sizes_and_determinism():
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_digits as sk_digits
    (x_train, y_train), (x_test, y_test) = datasets.load_digits()
    assert x_train.shape == (1437, 8, 8) and x_test.shape == (360, 8, 8)
    assert y_train.shape == (1437,) and y_test.shape == (360,)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8 and x_train.max() == 16
    ref = sk_digits()
    counts = np.bincount(np.concatenate([y_train, y_test]), minlength=10)
    np.testing.assert_array_equal(counts, np.bincount(ref.target))
    perm = np.random.default_rng(0).permutation(1797)  # the documented split
    np.testing.assert_array_equal(x_test, ref.images[perm[1437:]].astype(np.uint8))
    np.testing.assert_array_equal(y_train, ref.target[perm[:1437]])
    (x2, _), _ = datasets.load_digits()
    np.testing.assert_array_equal(x2, x_train)
    (x3, _), (x3_test, _) = datasets.load_digits(test_size=100, seed=1)
    assert len(x3) == 1697 and len(x3_test) == 100 and not np.array_equal(x3[:1437], x_train)


def test_digits_without_sklearn(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        datasets.load_digits()


# ---------------------------------------------------------------- make_moons

@pytest.mark.parametrize("n", [100, 7, 2])
def test_moons_shape_balance_and_geometry(n):
    x, y = make_moons(n, seed=0)
    assert x.shape == (n, 2) and x.dtype == np.float32
    assert y.shape == (n,) and y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y, minlength=2), [n // 2, n - n // 2])
    upper, lower = x[y == 0], x[y == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0, atol=1e-6)
    assert upper[:, 1].min() >= -1e-6
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0, atol=1e-6)
    assert lower[:, 1].max() <= 0.5 + 1e-6


def test_moons_noise_determinism_and_validation():
    x1, y1 = make_moons(200, noise=0.1, seed=3)
    x2, y2 = make_moons(200, noise=0.1, seed=3)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.all(np.diff(y1) >= 0)  # shuffled
    radius = np.hypot(*x1[y1 == 0].T)
    assert 0.05 < radius.std() < 0.2  # the noise moved points off the arc
    kr.set_random_seed(4)
    a = make_moons(20, noise=0.2)[0]
    kr.set_random_seed(4)
    np.testing.assert_array_equal(a, make_moons(20, noise=0.2)[0])
    for kwargs, arg in [({"n_samples": 1}, "n_samples"), ({"n_samples": 2.0}, "n_samples"),
                        ({"noise": -1}, "noise"), ({"seed": -2}, "seed")]:
        with pytest.raises(ValueError, match=f"Received: {arg}="):
            make_moons(**kwargs)


# ---------------------------------------------------------------- split helpers

def test_split_dataset_fractions_counts_and_views():
    data = np.arange(20).reshape(10, 2)
    left, right = split_dataset(data, left_size=0.8)
    np.testing.assert_array_equal(left, data[:8])
    np.testing.assert_array_equal(right, data[8:])
    assert np.shares_memory(left, data)  # unshuffled: views
    left, right = split_dataset(data, right_size=3)
    assert len(left) == 7 and len(right) == 3
    left, right = split_dataset(data, left_size=0.25)  # round(2.5) -> 2, right the complement
    assert len(left) == 2 and len(right) == 8
    left, right = split_dataset(data, left_size=3, right_size=0.4)  # 3 + 4 of 10: middle dropped
    np.testing.assert_array_equal(left, data[:3])
    np.testing.assert_array_equal(right, data[6:])


def test_split_dataset_keeps_structures_aligned():
    x = np.arange(30, dtype=np.float32).reshape(10, 3)
    y = np.arange(10)
    (xl, yl), (xr, yr) = split_dataset((x, y), left_size=0.6, shuffle=True, seed=1)
    assert xl.dtype == np.float32 and xl.shape == (6, 3) and xr.shape == (4, 3)
    np.testing.assert_array_equal(xl[:, 0] // 3, yl)
    np.testing.assert_array_equal(xr[:, 0] // 3, yr)
    assert sorted(np.concatenate([yl, yr]).tolist()) == list(range(10))
    assert not np.array_equal(yl, np.arange(6))  # shuffled
    (xl2, yl2), _ = split_dataset(x, y, left_size=0.6, shuffle=True, seed=1)  # y argument
    np.testing.assert_array_equal(xl2, xl)
    np.testing.assert_array_equal(yl2, yl)
    left, right = split_dataset({"a": x, "b": [y, y * 2]}, right_size=2, shuffle=True, seed=0)
    assert set(left) == {"a", "b"} and isinstance(left["b"], list)
    np.testing.assert_array_equal(right["b"][1], right["b"][0] * 2)
    np.testing.assert_array_equal(right["a"][:, 0] // 3, right["b"][0])


def test_split_dataset_seed_none_follows_global_seed():
    x = np.arange(50)
    kr.set_random_seed(9)
    a = split_dataset(x, left_size=0.5, shuffle=True)[0]
    kr.set_random_seed(9)
    np.testing.assert_array_equal(a, split_dataset(x, left_size=0.5, shuffle=True)[0])


@pytest.mark.parametrize("kwargs, match", [
    ({}, "give `left_size`, `right_size` or both"),
    ({"left_size": 6, "right_size": 5}, "6 left \\+ 5 right"),
    ({"left_size": 0.7, "right_size": 0.4}, "7 left \\+ 4 right"),
    ({"left_size": 0.01}, "0 left"),
    ({"left_size": 1.0}, "Received: left_size=1.0"),
    ({"right_size": 0}, "Received: right_size=0"),
    ({"left_size": 10}, "in \\[1, 9\\]"),
    ({"left_size": "half"}, "Received: left_size='half'"),
    ({"left_size": True}, "Received: left_size=True"),
    ({"left_size": 5, "shuffle": "yes"}, "shuffle"),
    ({"left_size": 5, "shuffle": True, "seed": -1}, "Received: seed=-1"),
])
def test_split_dataset_errors(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        split_dataset(np.arange(10), **kwargs)


def test_split_dataset_length_mismatch():
    with pytest.raises(ValueError, match=r"same length.*\[10, 9\]"):
        split_dataset((np.arange(10), np.arange(9)), left_size=0.5)


def test_split_dataset_memmap_stays_unread(tmp_path):
    path = tmp_path / "big.npy"
    np.save(path, np.arange(1000, dtype=np.float32).reshape(100, 10))
    mm = np.load(path, mmap_mode="r")
    left, right = split_dataset(mm, left_size=0.9)
    assert isinstance(left, np.memmap) and isinstance(right, np.memmap)
    assert right[0, 0] == 900


def test_train_test_split_order_rounding_and_alignment():
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10)
    w = np.arange(10) * 10.0
    x_tr, x_te, y_tr, y_te, w_tr, w_te = train_test_split(x, y, w, seed=0)
    assert len(x_te) == 3 and len(x_tr) == 7  # ceil(0.25 * 10) test samples
    assert x_tr.dtype == np.float32
    np.testing.assert_array_equal(x_tr[:, 0] // 2, y_tr)
    np.testing.assert_array_equal(w_te, y_te * 10.0)
    assert sorted(np.concatenate([y_tr, y_te]).tolist()) == list(range(10))
    again = train_test_split(x, y, w, seed=0)
    np.testing.assert_array_equal(again[3], y_te)
    assert not np.array_equal(train_test_split(x, y, seed=1)[3], y_te)
    x_tr, x_te = train_test_split(x, test_size=4, shuffle=False)
    np.testing.assert_array_equal(x_te, x[6:])  # unshuffled: the last rows are the test set
    assert np.shares_memory(x_tr, x)
    (a_tr, b_tr), (a_te, b_te) = train_test_split((x, y), test_size=0.5, seed=2)
    np.testing.assert_array_equal(a_te[:, 0] // 2, b_te)


@pytest.mark.parametrize("args, kwargs, match", [
    ((), {}, "at least one array"),
    ((np.arange(10), np.arange(8)), {}, "same length"),
    ((np.arange(10),), {"test_size": 0}, "Received: test_size=0"),
    ((np.arange(10),), {"test_size": 10}, "Received: test_size=10"),
    ((np.arange(10),), {"test_size": 1.0}, "Received: test_size=1.0"),
    ((np.arange(10),), {"test_size": 0.95}, "gives 10 test samples"),
    ((np.arange(1),), {}, "at least 2 samples"),
    ((np.float32(3.0),), {}, "scalar"),
])
def test_train_test_split_errors(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        train_test_split(*args, **kwargs)
