"""Keras `.keras` and `.weights.h5` files from strangers: each damaged, foreign or malicious file
raises ModelFileError naming the file, member and layer, with no side effect (no file created,
nothing imported, the model untouched) and bounded memory (tracemalloc's peak; a huge dataset read
whole would blow it). The files are made by editing a fixture written by real Keras 3."""
import contextlib
import io
import json
import os
import signal
import sys
import tracemalloc
import zipfile

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")

import kerasnp as keras  # noqa: E402
from kerasnp.saving import ModelFileError  # noqa: E402

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "keras3", "mlp.keras")
WEIGHTS = os.path.join(os.path.dirname(__file__), "fixtures", "keras3", "mlp.weights.h5")
MEMORY_BOUND = 64 * 2**20


@pytest.fixture(scope="module", autouse=True)
def warm(tmp_path_factory):
    """Load valid files once (and fail once), so that every import the loaders need is done
    before the tests compare sys.modules."""
    keras.models.load_model(FIXTURE)
    keras.models.load_model(FIXTURE, compile=False)
    _mlp().load_weights(WEIGHTS)
    import encodings.ascii  # noqa: F401  (h5py decodes string dtypes with it)
    path = tmp_path_factory.mktemp("warm") / "w.keras"
    _write(path, _edit_h5(_members(), lambda f: f["layers/dense/vars/0"].attrs.create("a", 1)))
    keras.models.load_model(path)


def _mlp():
    L = keras.layers
    return keras.Sequential([keras.Input((8,)), L.Dense(16, activation="relu"),
                             L.BatchNormalization(), L.Dropout(0.25),
                             L.Dense(3, activation="softmax")])


@contextlib.contextmanager
def _bounded(memory=MEMORY_BOUND, seconds=120):
    def hung(signum, frame):
        raise AssertionError(f"still running after {seconds} s: the loader hangs")
    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    tracemalloc.start()
    try:
        yield
        peak = tracemalloc.get_traced_memory()[1]
        assert peak < memory, f"peak allocation {peak / 2**20:.0f} MiB"
    finally:
        tracemalloc.stop()
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _refused(path, *fragments, loader=None, **kwargs):
    directory = os.path.dirname(os.path.abspath(path))
    files = sorted(os.listdir(directory))
    modules = set(sys.modules)
    with _bounded(), pytest.raises(ModelFileError) as err:
        (loader or keras.models.load_model)(path, **kwargs)
    assert sorted(os.listdir(directory)) == files, "a file was created"
    assert set(sys.modules) - modules == set(), "something was imported"
    msg = str(err.value)
    assert err.value.__cause__ is None and err.value.__suppress_context__, "chained traceback"
    assert os.fspath(path) in msg
    for fragment in fragments:
        assert fragment in msg, f"{fragment!r} not in {msg!r}"
    return msg


def _members(path=FIXTURE):
    with zipfile.ZipFile(path) as zf:
        return [(i.filename, zf.read(i)) for i in zf.infolist()]


def _write(path, members, compress=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compress) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return path


def _replace(members, name, data):
    return [(n, data if n == name else d) for n, d in members]


def _edit_h5(members, edit):
    """Members with model.weights.h5 changed by `edit(h5py.File)`."""
    buf = io.BytesIO(dict(members)["model.weights.h5"])
    with h5py.File(buf, "r+") as f:
        edit(f)
    return _replace(members, "model.weights.h5", buf.getvalue())


def _edit_config(members, edit):
    cfg = json.loads(dict(members)["config.json"])
    edit(cfg)
    return _replace(members, "config.json", json.dumps(cfg).encode())


def _layers(cfg):
    return cfg["config"]["layers"]


def _swap(f, path, **kwargs):
    del f[path]
    f.create_dataset(path, **kwargs)


# ----------------------------------------------------------------------------- the zip
def test_zip_bomb_weights_member_is_refused_before_decompressing(tmp_path):
    path = _write(tmp_path / "bomb.keras", [(n, d) for n, d in _members()
                                            if n != "model.weights.h5"])
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("model.weights.h5", "w", force_zip64=True) as fp:
            for _ in range(64):
                fp.write(bytes(2**20))
    assert os.path.getsize(path) < 2**20
    _refused(path, "model.weights.h5", "compression ratio", "zip bomb")


@pytest.mark.parametrize("missing", ["model.weights.h5", "config.json"])
def test_missing_member_is_refused(tmp_path, missing):
    members = [(n, d) for n, d in _members() if n != missing]
    _refused(_write(tmp_path / "m.keras", members), f"has no {missing}")


def test_bad_member_names_and_assets_are_refused(tmp_path):
    _refused(_write(tmp_path / "a.keras", _members() + [("../evil.py", b"x")]), "'..'")
    _refused(_write(tmp_path / "b.keras", _members() + [("run.py", b"x")]), "run.py",
             "unexpected member name")
    _refused(_write(tmp_path / "c.keras", _members() + [("assets/vocab.txt", b"a\nb")]),
             "assets", "assets/vocab.txt")


def test_truncated_and_corrupted_weights_member(tmp_path):
    h5 = dict(_members())["model.weights.h5"]
    _refused(_write(tmp_path / "a.keras", _replace(_members(), "model.weights.h5", h5[:4000])),
             "model.weights.h5")
    path = _write(tmp_path / "b.keras", _members())
    data = bytearray(path.read_bytes())
    data[data.find(h5) + len(h5) // 2] ^= 0xFF          # the member's CRC32 no longer matches
    path.write_bytes(bytes(data))
    _refused(path, "model.weights.h5", "damaged")


# ----------------------------------------------------------------------------- datasets
def test_huge_declared_dataset_is_refused_before_reading(tmp_path):
    """A kernel declared (2**20, 2**20) float32 (4 TiB, never written: the file stays small)."""
    members = _edit_h5(_members(), lambda f: _swap(f, "layers/dense/vars/0",
                                                   shape=(2**20, 2**20), dtype="f4"))
    path = _write(tmp_path / "huge.keras", members)
    assert os.path.getsize(path) < 2**20
    _refused(path, "model.weights.h5", "/layers/dense/vars/0", "layer 'dense'", "kernel",
             "(1048576, 1048576)", "needs shape (8, 16)")


def test_dataset_with_another_shape_is_refused(tmp_path):
    members = _edit_h5(_members(), lambda f: _swap(f, "layers/dense_1/vars/0",
                                                   data=np.zeros((3, 16), "f4")))
    _refused(_write(tmp_path / "m.keras", members), "layer 'dense_1' (Dense)", "kernel",
             "shape (3, 16)", "needs shape (16, 3)")


@pytest.mark.parametrize("data, fragment", [
    (np.zeros((8, 16), "i4"), "dtype int32"),
    (np.array([b"x" * 4] * 8), "dtype |S4"),
    (np.zeros((8, 16), [("a", "f4"), ("b", "f4")]), "expected a plain float"),
])
def test_dataset_with_wrong_dtype_is_refused(tmp_path, data, fragment):
    members = _edit_h5(_members(), lambda f: _swap(f, "layers/dense/vars/0", data=data))
    _refused(_write(tmp_path / "m.keras", members), "layer 'dense'", fragment)


def test_missing_and_extra_datasets_are_refused(tmp_path):
    def drop(f):
        del f["layers/batch_normalization/vars/3"]
    _refused(_write(tmp_path / "a.keras", _edit_h5(_members(), drop)),
             "layer 'batch_normalization' (BatchNormalization) has 4 weights",
             "stores 3")

    def add(f):
        f["layers/dense/vars/2"] = np.zeros(3, "f4")
    _refused(_write(tmp_path / "b.keras", _edit_h5(_members(), add)), "layer 'dense'",
             "has 2 weights", "stores 3")

    def no_group(f):
        del f["layers/dense_1"]
    _refused(_write(tmp_path / "c.keras", _edit_h5(_members(), no_group)), "layer 'dense_1'",
             "no group")


def test_links_to_other_files_and_objects_are_refused(tmp_path):
    secret = tmp_path / "secret.h5"
    with h5py.File(secret, "w") as f:
        f["k"] = np.ones((8, 16), "f4")

    def external(f):
        del f["layers/dense/vars/0"]
        f["layers/dense/vars/0"] = h5py.ExternalLink(str(secret), "/k")
    _refused(_write(tmp_path / "a.keras", _edit_h5(_members(), external)), "ExternalLink",
             "only hard links")

    def soft(f):
        del f["layers/dense/vars"]
        f["layers/dense/vars"] = h5py.SoftLink("/layers/dense_1/vars")
    _refused(_write(tmp_path / "b.keras", _edit_h5(_members(), soft)), "SoftLink")


def test_dataset_with_external_or_virtual_storage_is_refused(tmp_path):
    raw = tmp_path / "raw.bin"
    raw.write_bytes(np.ones(128, "f4").tobytes())

    def external(f):
        del f["layers/dense/vars/0"]
        f.create_dataset("layers/dense/vars/0", shape=(8, 16), dtype="f4",
                         external=[(str(raw), 0, 512)])
    _refused(_write(tmp_path / "a.keras", _edit_h5(_members(), external)), "external dataset")

    def virtual(f):
        layout = h5py.VirtualLayout(shape=(8, 16), dtype="f4")
        layout[:] = h5py.VirtualSource(str(tmp_path / "other.h5"), "k", shape=(8, 16))
        del f["layers/dense/vars/0"]
        f["layers/dense/vars"].create_virtual_dataset("0", layout)
    _refused(_write(tmp_path / "b.keras", _edit_h5(_members(), virtual)), "virtual dataset")


def test_huge_chunks_are_refused(tmp_path):
    def chunked(f):
        del f["layers/dense/vars/0"]
        f.create_dataset("layers/dense/vars/0", shape=(8, 16), dtype="f4", chunks=(8, 16),
                         maxshape=(None, None))
        del f["layers/dense/vars/0"]
        f.create_dataset("layers/dense/vars/0", shape=(8, 16), dtype="f4",
                         chunks=(4096, 4096), maxshape=(None, None))
    _refused(_write(tmp_path / "a.keras", _edit_h5(_members(), chunked)), "chunks")


def test_not_hdf5_weights_member(tmp_path):
    _refused(_write(tmp_path / "a.keras", _replace(_members(), "model.weights.h5",
                                                   b"not an hdf5 file" * 100)),
             "model.weights.h5", "not a readable HDF5 file")


# ----------------------------------------------------------------------------- configs
@pytest.mark.parametrize("name", ["os.system", "builtins.eval", "subprocess.Popen"])
def test_unknown_classes_are_never_imported(tmp_path, name):
    def edit(cfg):
        _layers(cfg)[1].update(module="os", class_name=name, config={"command": "touch pwned"})
    _refused(_write(tmp_path / "m.keras", _edit_config(_members(), edit)), "config.json",
             f"unknown layer class '{name}'", "never imports")
    assert not (tmp_path / "pwned").exists()


def test_lambda_is_refused_unless_safe_mode_is_off(tmp_path):
    def edit(cfg):
        _layers(cfg)[3] = {"module": "keras.layers", "class_name": "Lambda", "config": {
            "name": "lam", "function": {"class_name": "__lambda__", "config": {
                "code": "4wEAAAAAAAAAAAAAAAEAAAACAAAAQwAAAHMEAAAAfABTACkBTqkAKQHa"}},
            "arguments": {}}, "registered_name": None}
    path = _write(tmp_path / "m.keras", _edit_config(_members(), edit))
    _refused(path, "Lambda", "safe_mode=True")
    _refused(path, "Lambda", "bytecode", "never runs", safe_mode=False)

    def named(cfg):
        _layers(cfg)[3] = {"module": "keras.layers", "class_name": "Lambda", "config": {
            "name": "lam", "function": {"module": "builtins", "class_name": "function",
                                        "config": "halve", "registered_name": "function"},
            "arguments": {}}, "registered_name": None}
    path = _write(tmp_path / "n.keras", _edit_config(_members(), named))
    _refused(path, "Lambda", "safe_mode=True", custom_objects={"halve": lambda t: t / 2})
    model = keras.models.load_model(path, safe_mode=False,
                                    custom_objects={"halve": lambda t: t / 2})
    assert type(model.layers[2]).__name__ == "Lambda"


def test_config_implying_huge_weights_is_refused_before_allocating(tmp_path):
    def edit(cfg):
        _layers(cfg)[1]["config"]["units"] = 10**8
    _refused(_write(tmp_path / "m.keras", _edit_config(_members(), edit)), "config.json",
             "refusing to allocate")


def test_unsupported_argument_values_are_refused(tmp_path):
    def edit(cfg):
        _layers(cfg)[2]["config"]["renorm"] = True
    _refused(_write(tmp_path / "a.keras", _edit_config(_members(), edit)),
             "'batch_normalization' (BatchNormalization)", "renorm=True", "not supported")

    def policy(cfg):
        _layers(cfg)[1]["config"]["dtype"]["config"]["name"] = "mixed_bfloat16"
    _refused(_write(tmp_path / "b.keras", _edit_config(_members(), policy)), "'dense'",
             "mixed_bfloat16")


def test_hostile_compile_config_is_refused(tmp_path):
    def edit(cfg):
        cfg["compile_config"]["loss"] = {"module": "os", "class_name": "system", "config": {}}
    path = _write(tmp_path / "m.keras", _edit_config(_members(), edit))
    _refused(path, "config.json", "compile_config", "system")
    assert keras.models.load_model(path, compile=False).optimizer is None


def test_bad_json_is_refused(tmp_path):
    _refused(_write(tmp_path / "a.keras", _replace(_members(), "config.json", b"{nope")),
             "config.json", "invalid JSON")
    deep = b"[" * 10_000 + b"]" * 10_000
    _refused(_write(tmp_path / "b.keras", _replace(_members(), "config.json", deep)),
             "config.json", "nested 10000 levels")


def test_bad_graph_references_are_refused(tmp_path):
    members = _members(os.path.join(os.path.dirname(FIXTURE), "two_input.keras"))

    def edit(cfg):
        node = _layers(cfg)[2]["inbound_nodes"][0]["args"][0]
        node["config"]["keras_history"] = ["nowhere", 0, 0]
    _refused(_write(tmp_path / "a.keras", _edit_config(members, edit)), "never computed")

    def index(cfg):
        node = _layers(cfg)[2]["inbound_nodes"][0]["args"][0]
        node["config"]["keras_history"] = ["a", 0, 7]
    _refused(_write(tmp_path / "b.keras", _edit_config(members, index)), "output 7")


def test_optimizer_variables_that_do_not_fit(tmp_path):
    def edit(f):
        del f["optimizer/vars/13"]
    _refused(_write(tmp_path / "a.keras", _edit_h5(_members(), edit)),
             "13 optimizer variables", "another optimizer")

    def shape(f):
        _swap(f, "optimizer/vars/2", data=np.zeros((2, 2), "f4"))
    _refused(_write(tmp_path / "b.keras", _edit_h5(_members(), shape)),
             "momentum", "dense/kernel", "needs shape (8, 16)")
    keras.models.load_model(_write(tmp_path / "c.keras", _edit_h5(_members(), edit)),
                            compile=False)


# ----------------------------------------------------------------------------- .weights.h5
def test_hostile_weights_file_leaves_the_model_untouched(tmp_path):
    model = _mlp()
    before = model.get_weights()
    bad = tmp_path / "bad.weights.h5"
    bad.write_bytes(open(WEIGHTS, "rb").read())
    with h5py.File(bad, "r+") as f:
        _swap(f, "layers/dense_1/vars/1", data=np.zeros(4, "f4"))
    _refused(bad, "bad.weights.h5", "/layers/dense_1/vars/1", "layer 'dense_1'", "bias",
             loader=model.load_weights)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    junk = tmp_path / "junk.weights.h5"
    junk.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(200))
    _refused(junk, "not a readable HDF5 file", loader=model.load_weights)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_weights_file_given_to_load_model(tmp_path):
    _refused(WEIGHTS, "HDF5 file", "load_weights")
