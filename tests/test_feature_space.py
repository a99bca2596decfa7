"""FeatureSpace: each feature type's encoding against NumPy, crosses, concat vs dict output,
adapt on dicts and batched datasets, functional models on the encoding, config round trips
(including a config written by Keras 3.15) and clear errors."""
import json

import numpy as np
import pytest

import kerasnp as keras
from kerasnp.utils import FeatureSpace as FS

L = keras.layers


def _data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    return {"f": rng.normal(2.0, 3.0, n).astype(np.float32), "r": rng.uniform(size=n),
            "d": rng.uniform(size=n), "ic": rng.integers(0, 4, n),
            "sc": rng.choice(["a", "b", "c"], n), "sh": rng.choice(["x", "y", "z"], n),
            "ih": rng.integers(0, 100, n), "p": rng.normal(size=n)}


def _space(**kw):
    return FS({"f": "float_normalized", "r": FS.float_rescaled(scale=2.0, offset=1.0),
               "d": FS.float_discretized(num_bins=4, bin_boundaries=[0.25, 0.5, 0.75]),
               "ic": "integer_categorical", "sc": "string_categorical",
               "sh": FS.string_hashed(num_bins=8), "ih": "integer_hashed", "p": "float"},
              crosses=[("sc", "ic")], crossing_dim=16, **kw)


def _one_hot(idx, n):
    out = np.zeros((len(idx), n), np.float32)
    out[np.arange(len(idx)), np.asarray(idx).ravel()] = 1
    return out


def test_each_feature_type_encodes_as_numpy_says():
    data = _data()
    fs = _space(output_mode="dict")
    fs.adapt(data)
    out = fs(data)
    assert sorted(out) == ["d", "f", "ic", "ih", "p", "r", "sc", "sc_X_ic", "sh"]
    f = data["f"].astype(np.float64)
    np.testing.assert_allclose(out["f"][:, 0], (f - f.mean()) / f.std(), atol=1e-4)
    np.testing.assert_allclose(out["r"][:, 0], data["r"] * 2.0 + 1.0, rtol=1e-6)
    np.testing.assert_allclose(out["p"][:, 0], data["p"], rtol=1e-6)
    np.testing.assert_array_equal(out["d"], _one_hot(np.digitize(data["d"], [.25, .5, .75]), 4))
    for name in ("sc", "ic"):                           # [UNK] + the 3 or 4 values seen
        vocab = fs.preprocessors[name].get_vocabulary()
        assert vocab[0] == "[UNK]" if name == "sc" else vocab[0] == -1
        assert sorted(map(str, vocab[1:])) == sorted(map(str, np.unique(data[name])))
        want = [vocab.index(v) for v in data[name].tolist()]
        np.testing.assert_array_equal(out[name], _one_hot(want, len(vocab)))
    assert out["sh"].shape == (60, 8) and out["ih"].shape == (60, 32)   # hashing_dim=32
    for name in ("sh", "ih"):
        np.testing.assert_array_equal(out[name].sum(axis=1), 1.0)
        hashed = np.argmax(out[name], axis=1)
        for v in np.unique(data[name]):                  # equal values, equal bins
            assert len(set(hashed[data[name] == v])) == 1
    assert len(set(np.argmax(out["sh"], axis=1))) > 1
    assert all(v.dtype == np.float32 for v in out.values())


def test_unknown_categories_go_to_the_oov_index():
    data = _data()
    fs = FS({"sc": "string_categorical", "ic": "integer_categorical"})
    fs.adapt(data)
    out = fs({"sc": np.array(["a", "never"]), "ic": np.array([1, 99])})
    # concat in sorted order: ic (5 wide), then sc (4 wide); OOV is index 0
    assert out.shape == (2, 9)
    np.testing.assert_array_equal(out[1], np.concatenate([_one_hot([0], 5)[0],
                                                          _one_hot([0], 4)[0]]))


def test_cross_hashes_the_preprocessed_pair():
    data = _data()
    fs = _space(output_mode="dict")
    fs.adapt(data)
    out = fs(data)["sc_X_ic"]
    sc = fs.preprocessors["sc"](data["sc"][:, None])
    ic = fs.preprocessors["ic"](data["ic"][:, None])
    want = np.asarray(L.HashedCrossing(num_bins=16)([np.asarray(sc), np.asarray(ic)]))
    np.testing.assert_array_equal(out, _one_hot(want.ravel(), 16))
    pairs = {}
    for key, row in zip(zip(data["sc"], data["ic"]), np.argmax(out, axis=1)):
        assert pairs.setdefault(key, row) == row        # same pair, same bin


def test_concat_is_the_dict_in_sorted_order_features_then_crosses():
    data = _data()
    concat, as_dict = _space(), _space(output_mode="dict")
    concat.adapt(data)
    as_dict.adapt(data)
    parts = as_dict(data)
    want = np.concatenate([parts[k] for k in ["d", "f", "ic", "ih", "p", "r", "sc", "sh",
                                              "sc_X_ic"]], axis=-1)
    got = concat(data)
    assert got.shape == (60, 4 + 1 + 5 + 32 + 1 + 1 + 4 + 8 + 16) and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-6)
    single = concat({k: v[3] for k, v in data.items()})   # one sample of scalars
    np.testing.assert_allclose(single, got[3], rtol=1e-6)


def test_int_output_mode_in_dict_mode_and_refused_in_concat():
    data = _data()
    fs = FS({"sc": FS.string_categorical(output_mode="int"), "ic": "integer_categorical"},
            output_mode="dict", crosses=[FS.cross(("sc", "ic"), crossing_dim=8,
                                                  output_mode="int")])
    fs.adapt(data)
    out = fs({"sc": data["sc"], "ic": data["ic"]})
    vocab = fs.preprocessors["sc"].get_vocabulary()
    np.testing.assert_array_equal(out["sc"][:, 0], [vocab.index(v) for v in data["sc"]])
    assert out["sc_X_ic"].dtype.kind == "i" and out["sc_X_ic"].max() < 8
    bad = FS({"sc": FS.string_categorical(output_mode="int")})
    bad.adapt(data)
    with pytest.raises(ValueError, match="cannot concatenate feature 'sc'.*output_mode='dict'"):
        bad({"sc": data["sc"]})


def test_adapt_on_batches_equals_adapt_on_the_dict():
    data = _data()
    whole, batched = _space(), _space()
    whole.adapt(data)

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return {k: v[i * 20:(i + 1) * 20] for k, v in data.items()}, np.zeros(20)
    batched.adapt(Batches())
    np.testing.assert_allclose(batched(data), whole(data), atol=1e-5)
    gen = _space()
    gen.adapt(({k: v[i:i + 30] for k, v in data.items()} for i in (0, 30)))
    np.testing.assert_allclose(gen(data), whole(data), atol=1e-5)


def test_a_model_trains_on_the_encoding_and_the_functional_graph_matches():
    keras.utils.set_random_seed(0)
    data = _data(200)
    y = ((data["sc"] == "a") | (data["f"] > 4.0)).astype(np.float32)
    fs = _space()
    fs.adapt(data)
    x = fs(data)
    model = keras.Sequential([keras.Input((x.shape[1],)), L.Dense(16, activation="relu"),
                              L.Dense(1, activation="sigmoid")])
    model.compile(keras.optimizers.Adam(0.01), "binary_crossentropy", metrics=["accuracy"])
    hist = model.fit(x, y, epochs=40, batch_size=32, verbose=0).history
    assert hist["loss"][-1] < 0.5 * hist["loss"][0] and hist["accuracy"][-1] > 0.9
    inputs = fs.get_inputs()
    assert sorted(inputs) == sorted(data) and inputs["sc"].dtype == "string"
    encoded = fs.get_encoded_features()
    functional = keras.Model(list(inputs.values()), model(encoded))
    got = functional.predict([data[k][:, None] for k in inputs], verbose=0)
    np.testing.assert_allclose(got, model.predict(x, verbose=0), atol=1e-5)


def test_config_round_trip_in_keras_layout():
    data = _data()
    fs = _space()
    fs.adapt(data)
    cfg = json.loads(json.dumps(fs.get_config(), default=list))
    assert set(cfg) == {"crossing_dim", "crosses", "features", "hashing_dim",
                        "num_discretization_bins", "output_mode"}
    feature = cfg["features"]["sc"]
    assert feature["class_name"] == "Feature" and feature["registered_name"] == "Feature"
    assert feature["config"]["preprocessor"]["class_name"] == "StringLookup"
    assert cfg["crosses"][0]["class_name"] == "Cross"
    assert cfg["crosses"][0]["config"] == {"feature_names": ["sc", "ic"], "crossing_dim": 16,
                                           "output_mode": "one_hot"}
    again = FS.from_config(cfg)
    with pytest.raises(ValueError, match=r"call `.adapt\(dataset\)`"):
        again(data)
    again.adapt(data)
    np.testing.assert_array_equal(again(data), fs(data))


def test_config_written_by_keras_loads():
    policy = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
              "registered_name": None}
    mod = "keras.src.layers.preprocessing.feature_space"

    def feature(pre):
        return {"module": mod, "class_name": "Feature", "registered_name": "Feature",
                "config": {"dtype": "float32", "preprocessor": pre, "output_mode": "float"}}
    cfg = {"features": {
        "a": feature({"module": "keras.layers", "class_name": "Normalization",
                      "config": {"name": "a_preprocessor", "trainable": True, "dtype": policy,
                                 "axis": [-1], "invert": False, "mean": None,
                                 "variance": None}, "registered_name": None}),
        "c": feature({"module": mod, "class_name": "TFDIdentity",
                      "config": {"name": "c_preprocessor", "dtype": policy, "trainable": True},
                      "registered_name": "TFDIdentity"})},
        "output_mode": "concat", "crosses": [], "crossing_dim": 32, "hashing_dim": 32,
        "num_discretization_bins": 32}
    fs = FS.from_config(cfg)
    data = {"a": np.array([1.0, 2.0, 3.0]), "c": np.array([5.0, 6.0, 7.0])}
    fs.adapt(data)
    np.testing.assert_allclose(fs(data), [[-1.2247449, 5], [0, 6], [1.2247449, 7]], rtol=1e-5)


def test_errors_name_the_valid_choices():
    with pytest.raises(ValueError, match=r"feature 'x'.*'float_normalized'.*Received: 'floaty'"):
        FS({"x": "floaty"})
    with pytest.raises(ValueError, match=r"\['concat', 'dict'\].*Received: output_mode='list'"):
        FS({"x": "float"}, output_mode="list")
    with pytest.raises(ValueError, match=r"unknown features \['z'\]. Valid features: \['x', 'y'"):
        FS({"x": "float", "y": "float"}, crosses=[("x", "z")])
    with pytest.raises(ValueError, match=r"\['float', 'int', 'one_hot'\].*output_mode='hot'"):
        FS.string_categorical(output_mode="hot")
    with pytest.raises(ValueError, match="non-empty dict"):
        FS({})
    fs = FS({"x": "float", "y": "float_rescaled"})
    with pytest.raises(ValueError, match=r"unknown: \['w'\]; missing: \['y'\]. Valid features"):
        fs({"x": np.ones(2), "w": np.ones(2)})
    with pytest.raises(ValueError, match="only be called with a dict"):
        fs(np.ones((2, 2)))
    needs = FS({"x": "float_normalized"})
    with pytest.raises(ValueError, match=r"adapt.*features to adapt: x"):
        needs({"x": np.ones(2)})
    with pytest.raises(ValueError, match=r"missing: \['x'\]"):
        needs.adapt({"q": np.ones(3)})
    with pytest.raises(ValueError, match="dict of arrays or an iterable"):
        needs.adapt(3)
