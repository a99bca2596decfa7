"""CategoryEncoding, Hashing, HashedCrossing and Discretization: outputs equal to Keras's (the
literals below come from Keras 3.15 runs, or from Keras's documented examples where Keras needs
TensorFlow), the hashes against their reference vectors, adapt(), configs and saving."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import layers as L
from kerasnp.layers._hash_extra import fingerprint_cat64, siphash24


def _cfg(layer):
    cfg = layer.get_config()
    for key in ("name", "trainable", "dtype"):
        cfg.pop(key, None)
    return cfg


# -- CategoryEncoding -----------------------------------------------------------------------
def test_category_encoding_modes_match_keras():
    ids = np.array([[0, 1], [3, 3]])
    np.testing.assert_array_equal(L.CategoryEncoding(4)(ids), [[1, 1, 0, 0], [0, 0, 0, 1]])
    np.testing.assert_array_equal(
        L.CategoryEncoding(4, output_mode="count")(np.array([[0, 1, 1], [3, 3, 2]])),
        [[1, 2, 0, 0], [0, 0, 1, 2]])
    one_hot = L.CategoryEncoding(4, output_mode="one_hot")
    np.testing.assert_array_equal(one_hot(np.array([0, 1, 3])), np.eye(4)[[0, 1, 3]])
    np.testing.assert_array_equal(one_hot(np.array([[0], [1], [3]])), np.eye(4)[[0, 1, 3]])
    assert one_hot(np.array([[0, 1], [1, 3]])).shape == (2, 2, 4)         # Keras 3.15
    assert L.CategoryEncoding(4)(np.array([0, 1, 3])).shape == (4,)       # one sample
    weighted = L.CategoryEncoding(4, output_mode="count")(
        np.array([[0, 1, 1], [3, 3, 2]]), count_weights=np.array([[.1, .2, .3], [1, 2, 3.]]))
    np.testing.assert_allclose(weighted, [[0.1, 0.5, 0, 0], [0, 0, 3, 3]])
    assert L.CategoryEncoding(4).compute_output_shape((None, 3)) == (None, 4)
    assert one_hot.compute_output_shape((None, 1)) == (None, 4)


def test_category_encoding_config_and_errors():
    assert _cfg(L.CategoryEncoding(num_tokens=4, output_mode="multi_hot")) == {
        "num_tokens": 4, "output_mode": "multi_hot"}
    with pytest.raises(ValueError, match=r"CategoryEncoding.*\[0, num_tokens=4\).*5"):
        L.CategoryEncoding(4)(np.array([[0, 5]]))
    with pytest.raises(ValueError, match="CategoryEncoding.*output_mode.*one_hot.*tf_idf"):
        L.CategoryEncoding(4, output_mode="tf_idf")
    with pytest.raises(ValueError, match="count_weights"):
        L.CategoryEncoding(4)(np.array([[0, 1]]), count_weights=np.ones((1, 2)))
    with pytest.raises(ValueError, match="sparse"):
        L.CategoryEncoding(4, sparse=True)


# -- hashes -----------------------------------------------------------------------------------
def test_siphash_reference_vector_and_cat64_is_order_sensitive():
    # SipHash-2-4 paper / reference implementation: key 00..0f, message 00..0e
    k0 = int.from_bytes(bytes(range(8)), "little")
    k1 = int.from_bytes(bytes(range(8, 16)), "little")
    assert siphash24(k0, k1, bytes(range(15))) == 0xa129ca6149be45e5
    assert siphash24(k0, k1, b"") == 0x726fdb47dd0e0e31
    assert fingerprint_cat64(1, 2) != fingerprint_cat64(2, 1)


def test_hashing_matches_keras_documented_bins():
    letters = np.array([["A"], ["B"], ["C"], ["D"], ["E"]])
    np.testing.assert_array_equal(L.Hashing(3)(letters).ravel(), [1, 0, 1, 1, 2])
    masked = np.array([["A"], ["B"], [""], ["C"], ["D"]])
    np.testing.assert_array_equal(L.Hashing(3, mask_value="")(masked).ravel(), [1, 1, 0, 2, 2])
    np.testing.assert_array_equal(L.Hashing(3, salt=[133, 137])(letters).ravel(),
                                  [1, 2, 1, 0, 2])
    np.testing.assert_array_equal(L.Hashing(3, salt=133)(letters).ravel(), [0, 0, 2, 1, 0])
    out = L.Hashing(3)(letters)
    assert out.dtype == np.int64 and out.shape == (5, 1)


def test_hashing_integers_modes_range_and_config():
    ints = np.array([[1], [2], [3], [-5]])
    as_text = np.array([["1"], ["2"], ["3"], ["-5"]])
    # TensorFlow hashes integers as their decimal text
    np.testing.assert_array_equal(L.Hashing(10)(ints), L.Hashing(10)(as_text))
    np.testing.assert_array_equal(L.Hashing(10)(ints.astype("float32")), L.Hashing(10)(ints))
    many = L.Hashing(7, mask_value=0)(np.arange(500).reshape(-1, 1)).ravel()
    assert many[0] == 0 and many[1:].min() >= 1 and many.max() == 6
    assert set(many[1:]) == set(range(1, 7))
    multi = L.Hashing(3, output_mode="multi_hot")(np.array([["A", "B"], ["C", "A"]]))
    np.testing.assert_array_equal(multi, [[1, 1, 0], [0, 1, 0]])     # A->1, B->0, C->1
    assert _cfg(L.Hashing(3, salt=133)) == {"num_bins": 3, "salt": [133, 133],
                                            "mask_value": None, "output_mode": "int",
                                            "sparse": False}
    with pytest.raises(ValueError, match="Hashing.*salt"):
        L.Hashing(3, salt=[1, 2, 3])
    with pytest.raises(TypeError, match="Hashing.*strings or integers"):
        L.Hashing(3)(np.array([[0.5]]))


def test_hashed_crossing_matches_keras_documented_bins():
    feat1 = np.array(["A", "B", "A", "B", "A"])
    feat2 = np.array([101, 101, 101, 102, 102])
    np.testing.assert_array_equal(L.HashedCrossing(5)((feat1, feat2)), [1, 4, 1, 1, 3])
    one_hot = L.HashedCrossing(5, output_mode="one_hot")((feat1, feat2))
    np.testing.assert_array_equal(one_hot, np.eye(5)[[1, 4, 1, 1, 3]])
    column = L.HashedCrossing(5)((feat1[:, None], feat2[:, None]))
    np.testing.assert_array_equal(column.ravel(), [1, 4, 1, 1, 3])
    assert _cfg(L.HashedCrossing(5)) == {"num_bins": 5, "output_mode": "int", "sparse": False}
    with pytest.raises(ValueError, match="HashedCrossing.*list or tuple"):
        L.HashedCrossing(5)(feat1)
    with pytest.raises(ValueError, match="HashedCrossing.*shape"):
        L.HashedCrossing(5)((feat1, np.zeros((5, 2), int)))


# -- Discretization ---------------------------------------------------------------------------
def test_discretization_buckets_and_modes_match_keras():
    layer = L.Discretization(bin_boundaries=[0.0, 1.0, 2.0])
    np.testing.assert_array_equal(layer(np.array([[-1.0, 0.0, 0.5, 1.0, 2.0, 3.0]])),
                                  [[0, 1, 1, 2, 3, 3]])
    x = np.array([[-1.0, 0.5], [2, 2]])
    np.testing.assert_array_equal(L.Discretization([0.0, 1.0], output_mode="multi_hot")(x),
                                  [[1, 1, 0], [0, 0, 1]])
    np.testing.assert_array_equal(L.Discretization([0.0, 1.0], output_mode="count")(x),
                                  [[1, 1, 0], [0, 0, 2]])
    assert L.Discretization([0.0, 1.0], output_mode="one_hot").compute_output_shape(
        (None, 3)) == (None, 3, 3)
    assert _cfg(layer) == {"bin_boundaries": [0.0, 1.0, 2.0], "num_bins": None,
                           "epsilon": 0.01, "output_mode": "int", "sparse": False}


def test_discretization_adapt_matches_keras():
    def adapted(num_bins, *batches):
        layer = L.Discretization(num_bins=num_bins)
        for b in batches:
            layer.update_state(b)
        layer.finalize_state()
        return layer.bin_boundaries
    # Keras 3.15 (update_state + finalize_state)
    np.testing.assert_allclose(adapted(5, np.arange(10.0)), [1.0, 3.0, 5.0, 7.0])
    np.testing.assert_allclose(adapted(4, np.arange(100.0)), [24.0, 49.0, 74.0], atol=1e-4)
    np.testing.assert_allclose(adapted(3, np.array([[1.0, 2, 3], [4, 5, 6]])), [2.0, 4.0])
    np.testing.assert_allclose(adapted(3, np.arange(10.0), np.arange(100.0, 110.0)),
                               [5.666666507720947, 102.33333587646484], atol=1e-5)
    normal = np.random.default_rng(0).standard_normal(1000).astype("float32")
    np.testing.assert_allclose(adapted(4, normal),
                               [-0.6909445524215698, -0.07557335495948792, 0.6131889224052429],
                               atol=1e-4)
    layer = L.Discretization(num_bins=4, output_mode="one_hot")
    layer.adapt(np.arange(100.0), batch_size=7)
    np.testing.assert_allclose(layer.bin_boundaries, [24.0, 49.0, 74.0], atol=0.5)
    np.testing.assert_array_equal(layer(np.array([3.0, 60.0])), [[1, 0, 0, 0], [0, 0, 1, 0]])


def test_discretization_errors():
    with pytest.raises(ValueError, match="Discretization.*num_bins.*bin_boundaries"):
        L.Discretization()
    with pytest.raises(ValueError, match="Discretization.*only one"):
        L.Discretization(bin_boundaries=[1.0], num_bins=3)
    with pytest.raises(ValueError, match="Discretization.*sorted"):
        L.Discretization(bin_boundaries=[2.0, 1.0])
    with pytest.raises(RuntimeError, match="adapt"):
        L.Discretization(num_bins=3)(np.zeros(3))
    with pytest.raises(ValueError, match="Cannot adapt"):
        L.Discretization([1.0]).adapt(np.zeros(3))


def test_preprocessing_layers_in_a_model_save_and_reload(tmp_path):
    disc = L.Discretization(num_bins=4)
    disc.adapt(np.arange(100.0))
    inp = keras.Input((3,))
    out = L.CategoryEncoding(4, output_mode="count")(disc(inp))
    model = keras.Model(inp, out)
    x = np.array([[3.0, 60.0, 99.0]], dtype="float32")
    np.testing.assert_array_equal(model.predict(x, verbose=0), [[1, 0, 1, 1]])
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), [[1, 0, 1, 1]])
    assert loaded.layers[1].bin_boundaries == disc.bin_boundaries
