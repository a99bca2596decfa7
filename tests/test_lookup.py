"""StringLookup and IntegerLookup: Keras 3's documented outputs, adapt order, OOV hashing, modes,
errors, config and save/load round trips."""
import math
import random

import numpy as np
import pytest

import kerasnp as keras
from kerasnp.layers import IntegerLookup, StringLookup
from kerasnp.layers.lookup_hash import fingerprint64

DATA = [["a", "c", "d"], ["d", "z", "b"]]
VOCAB = ["a", "b", "c", "d"]


# -- Keras's docstring examples, output for output ---------------------------------------------
def test_string_lookup_known_vocabulary():
    out = StringLookup(vocabulary=VOCAB)(DATA)
    assert out.dtype == np.int64
    assert out.tolist() == [[1, 3, 4], [4, 0, 2]]


def test_string_lookup_adapt_order_and_call():
    layer = StringLookup()
    layer.adapt(DATA)
    # "d" twice first, then the rest by the token, high to low
    assert layer.get_vocabulary() == ["[UNK]", "d", "z", "c", "b", "a"]
    assert layer(DATA).tolist() == [[5, 3, 1], [1, 2, 4]]
    assert layer.vocabulary_size() == 6
    assert layer.get_vocabulary(include_special_tokens=False) == ["d", "z", "c", "b", "a"]


def test_string_lookup_two_oov_indices_hash_like_keras():
    layer = StringLookup(vocabulary=VOCAB, num_oov_indices=2)
    assert layer([["a", "c", "d"], ["m", "z", "b"]]).tolist() == [[2, 4, 5], [0, 1, 3]]


def test_encodings_one_hot_multi_hot_count():
    x = [["a", "c", "d", "d"], ["d", "z", "b", "z"]]
    one = StringLookup(vocabulary=VOCAB, output_mode="one_hot")(["a", "b", "c", "d", "z"])
    np.testing.assert_array_equal(one, np.eye(5)[[1, 2, 3, 4, 0]])
    multi = StringLookup(vocabulary=VOCAB, output_mode="multi_hot")(x)
    np.testing.assert_array_equal(multi, [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1]])
    count = StringLookup(vocabulary=VOCAB, output_mode="count")(x)
    np.testing.assert_array_equal(count, [[0, 1, 0, 1, 2], [2, 0, 1, 0, 1]])
    assert count.dtype == np.float32


def test_tf_idf_given_weights_with_and_without_oov_weight():
    x = [["a", "c", "d", "d"], ["d", "z", "b", "z"]]
    layer = StringLookup(output_mode="tf_idf")
    layer.set_vocabulary(VOCAB, idf_weights=[0.25, 0.75, 0.6, 0.4])
    np.testing.assert_allclose(layer(x), [[0, .25, 0, .6, .8], [1.0, 0, .75, 0, .4]], rtol=1e-6)
    layer = StringLookup(output_mode="tf_idf")
    layer.set_vocabulary(["[UNK]"] + VOCAB, idf_weights=[0.9, 0.25, 0.75, 0.6, 0.4])
    np.testing.assert_allclose(layer(x), [[0, .25, 0, .6, .8], [1.8, 0, .75, 0, .4]], rtol=1e-6)


def test_tf_idf_adapt_uses_keras_formula():
    docs = [["a", "b"], ["a", "a"], ["c", "a"]]
    layer = StringLookup(output_mode="tf_idf")
    layer.adapt(docs)
    assert layer.get_vocabulary() == ["[UNK]", "a", "c", "b"]
    idf = [math.log(1 + 3 / (1 + df)) for df in (3, 1, 1)]     # log(1 + N / (1 + df))
    expected = np.array([[np.mean(idf) * 0, idf[0] * 2, 0, 0]], dtype=np.float32)
    np.testing.assert_allclose(layer([["a", "a"]]), expected, rtol=1e-6)
    np.testing.assert_allclose(layer([["q", "b"]]), [[np.mean(idf), 0, 0, idf[2]]], rtol=1e-6)


def test_invert_and_forward_inverse_pair():
    inv = StringLookup(vocabulary=VOCAB, invert=True)
    out = inv(np.array([[1, 3, 4], [4, 0, 2]]))
    assert out.dtype == object and out.tolist() == [["a", "c", "d"], ["d", "[UNK]", "b"]]
    fwd = StringLookup(vocabulary=VOCAB)
    assert inv(fwd(DATA)).tolist() == [["a", "c", "d"], ["d", "[UNK]", "b"]]


def test_integer_lookup_keras_examples():
    vocab = [12, 36, 1138, 42]
    x = np.array([[12, 1138, 42], [42, 1000, 36]])
    layer = IntegerLookup(vocabulary=vocab)
    assert layer(x).tolist() == [[1, 3, 4], [4, 0, 2]]
    inv = IntegerLookup(vocabulary=layer.get_vocabulary(), invert=True)
    assert inv(layer(x)).tolist() == [[12, 1138, 42], [42, -1, 36]]
    tfidf = IntegerLookup(output_mode="tf_idf", vocabulary=[-1] + vocab,
                          idf_weights=[0.9, 0.25, 0.75, 0.6, 0.4])
    np.testing.assert_allclose(tfidf(np.array([[12, 1138, 42, 42], [42, 7, 36, 7]])),
                               [[0, .25, 0, .6, .8], [1.8, 0, .75, 0, .4]], rtol=1e-6)


def test_integer_lookup_adapt_floormod_oov_and_float_inputs():
    layer = IntegerLookup()
    layer.adapt(np.array([[12, 1138, 42], [42, 1000, 36], [12, 42, 7]]))
    assert layer.get_vocabulary() == [-1, 42, 12, 1138, 1000, 36, 7]   # ties: high to low
    two = IntegerLookup(vocabulary=[5, 6], num_oov_indices=3)
    assert two(np.array([5, 6, 7, 9, 10])).tolist() == [3, 4, 7 % 3, 9 % 3, 10 % 3]
    # a model's input casting makes floats: whole numbers are accepted
    assert layer(np.array([[12.0, 99.0]])).tolist() == [[2, 0]]


# -- mask, OOV and max_tokens -----------------------------------------------------------------
def test_mask_token_int_mode_index_zero_and_dropped_elsewhere():
    layer = StringLookup(vocabulary=VOCAB, mask_token="")
    assert layer.get_vocabulary()[:2] == ["", "[UNK]"]
    assert layer([["a", "", "q"]]).tolist() == [[2, 0, 1]]
    multi = StringLookup(vocabulary=VOCAB, mask_token="", output_mode="multi_hot")
    assert multi.get_vocabulary() == ["[UNK]"] + VOCAB
    np.testing.assert_array_equal(multi([["a", "", ""]]), [[0, 1, 0, 0, 0]])
    ints = IntegerLookup(vocabulary=[7, 8], mask_token=0)
    assert ints(np.array([7, 0, 9])).tolist() == [2, 0, 1]
    inv = IntegerLookup(vocabulary=[7, 8], mask_token=0, invert=True)
    assert inv(np.array([2, 0, 1, 9])).tolist() == [7, 0, -1, -1]


def test_no_oov_indices_refuses_unknown_tokens():
    layer = StringLookup(vocabulary=VOCAB, num_oov_indices=0)
    assert layer(["a", "d"]).tolist() == [0, 3]
    with pytest.raises(ValueError, match=r"num_oov_indices=0.*\['zz'\]"):
        layer(["a", "zz"])


def test_max_tokens_keeps_most_frequent_and_pad_to_max_tokens():
    layer = StringLookup(max_tokens=3)
    layer.adapt([["x", "x", "y", "y", "y", "z"]])
    assert layer.get_vocabulary() == ["[UNK]", "y", "x"]
    padded = StringLookup(max_tokens=6, pad_to_max_tokens=True, output_mode="multi_hot",
                          vocabulary=["p", "q"])
    out = padded([["q", "r"]])
    assert out.shape == (1, 6)
    np.testing.assert_array_equal(out, [[1, 0, 1, 0, 0, 0]])
    assert padded.compute_output_shape((None, 2)) == (None, 6)


def test_adapt_on_iterables_and_steps():
    def gen():
        yield np.array([["a", "b"]]), np.array([1])           # (x, y): x is adapted
        yield np.array([["b", "c"]]), np.array([0])
        yield np.array([["zz", "zz"]]), np.array([0])
    layer = StringLookup()
    layer.adapt(gen(), steps=2)
    assert layer.get_vocabulary() == ["[UNK]", "b", "c", "a"]
    layer.adapt(iter([["q", "q", "r"]]))                    # a batch given as a list
    assert layer.get_vocabulary() == ["[UNK]", "q", "r"]


# -- errors -----------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, match", [
    (dict(max_tokens=1), "max_tokens"),
    (dict(pad_to_max_tokens=True), "pad_to_max_tokens"),
    (dict(invert=True, output_mode="count"), "invert"),
    (dict(idf_weights=[1.0], vocabulary=["a"]), "idf_weights"),
    (dict(output_mode="tf_idf", vocabulary=["a"]), "idf_weights"),
    (dict(output_mode="bogus"), "output_mode"),
    (dict(sparse=True), "sparse=True"),
    (dict(num_oov_indices=-1), "num_oov_indices"),
    (dict(vocabulary=["a", "b", "a"]), "repeats"),
    (dict(vocabulary=["a", "[UNK]"], invert=True), "oov_token"),
    (dict(vocabulary=["a", "b", "c"], max_tokens=3), "max_tokens=3"),
    (dict(vocabulary=[]), "empty"),
    (dict(vocabulary="vocab.txt"), "file path"),
])
def test_constructor_errors_name_the_argument(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        StringLookup(**kwargs)


def test_call_and_adapt_errors():
    layer = StringLookup(vocabulary=VOCAB)
    with pytest.raises(ValueError, match="fixed vocabulary"):
        layer.adapt(DATA)
    with pytest.raises(TypeError, match=r"expects strings.*float"):
        layer(np.array([1.5, 2.5]))
    with pytest.raises(TypeError, match="expects integers"):
        IntegerLookup(vocabulary=[1])(np.array(["a"]))
    with pytest.raises(RuntimeError, match="adapt"):
        StringLookup(output_mode="count")([["a"]])
    with pytest.raises(ValueError, match="rank 2"):
        StringLookup(vocabulary=VOCAB, output_mode="count")(np.full((2, 2, 2), "a"))


# -- FarmHash -------------------------------------------------------------------------------
KNOWN = {"": 11160318154034397263, "a": 12917804110809363939, "hello": 13009744463427800296,
         "abcdefgh": 18368443631171807497, "seventeen chars!!": 8342057420157996792,
         "x" * 40: 17003596230054984852, "y" * 100: 17121492607157028355,
         "héllo": 17097313247479420151}


def test_fingerprint64_known_values():
    for s, h in KNOWN.items():
        assert fingerprint64(s) == h, s


def test_fingerprint64_matches_pyfarmhash_on_every_length_path():
    farmhash = pytest.importorskip("farmhash")
    rng = random.Random(0)
    for n in list(range(0, 140)) + [191, 192, 193, 700]:
        s = bytes(rng.randrange(256) for _ in range(n))
        assert fingerprint64(s) == farmhash.fingerprint64(s), n


# -- config and saving ------------------------------------------------------------------------
def test_config_round_trip_keeps_adapted_vocabulary_and_idf():
    layer = StringLookup(output_mode="tf_idf", max_tokens=10, name="lk")
    layer.adapt([["a", "b"], ["a", "c"]])
    cfg = layer.get_config()
    clone = StringLookup.from_config(cfg)
    assert clone.get_config() == cfg
    np.testing.assert_array_equal(clone([["a", "q"]]), layer([["a", "q"]]))
    clone.adapt([["z"]])                                   # an adapted layer stays adaptable
    assert clone.get_vocabulary() == ["[UNK]", "z"]
    ints = IntegerLookup(vocabulary=[3, 4], mask_token=0, num_oov_indices=2)
    assert IntegerLookup.from_config(ints.get_config()).get_vocabulary() == [0, -1, -1, 3, 4]


def test_integer_lookup_in_a_model_fits_and_round_trips_through_saving(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.choice([3, 5, 7, 11], size=(64, 3)).astype("float32")
    y = (x == 7).any(axis=1).astype("float32")[:, None]
    lookup = IntegerLookup(output_mode="multi_hot")
    lookup.adapt(x.astype(int))
    inp = keras.Input(shape=(3,))
    out = keras.layers.Dense(1, activation="sigmoid")(lookup(inp))
    model = keras.Model(inp, out)
    model.compile("adam", "binary_crossentropy")
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    path = tmp_path / "lookup.kerasnp"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.layers[1].get_vocabulary() == lookup.get_vocabulary()
