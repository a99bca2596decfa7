"""TextVectorization: Keras 3's vocabulary order, standardization, splitting, n-grams, output
modes, adapt sources, errors, config and saving with a model."""
import math

import numpy as np
import pytest

import kerasnp as keras
from kerasnp.layers import TextVectorization
from kerasnp.utils import PyDataset

CORPUS = ["foo bar", "bar baz", "baz bada boom"]


def test_keras_docstring_examples():
    layer = TextVectorization(max_tokens=5000, output_mode="int", output_sequence_length=4)
    layer.adapt(CORPUS)
    assert layer.get_vocabulary() == ["", "[UNK]", "baz", "bar", "foo", "boom", "bada"]
    out = layer([["foo qux bar"], ["qux baz"]])
    assert out.dtype == np.int64 and out.tolist() == [[4, 1, 3, 0], [1, 2, 0, 0]]
    given = TextVectorization(max_tokens=5000, output_sequence_length=4,
                              vocabulary=["earth", "wind", "and", "fire"])
    assert given.get_vocabulary() == ["", "[UNK]", "earth", "wind", "and", "fire"]
    assert given.vocabulary_size() == 6


def test_standardize_options_follow_tensorflow_string_ops():
    text = ["Hello, WORLD! It's ÉCOLE-time\t(ok)"]
    def tokens(standardize):
        layer = TextVectorization(standardize=standardize)
        layer.adapt(text)
        return sorted(layer.get_vocabulary(include_special_tokens=False))
    # ASCII-only lowercasing (tf.strings.lower without encoding): "É" stays upper case
    assert tokens("lower_and_strip_punctuation") == sorted(
        ["hello", "world", "its", "Écoletime", "ok"])
    assert tokens("lower") == sorted(["hello,", "world!", "it's", "École-time", "(ok)"])
    assert tokens("strip_punctuation") == sorted(["Hello", "WORLD", "Its", "ÉCOLEtime", "ok"])
    assert tokens(None) == sorted(["Hello,", "WORLD!", "It's", "ÉCOLE-time", "(ok)"])


def test_splits_whitespace_character_none_and_ngrams():
    layer = TextVectorization(standardize=None, split="whitespace")
    layer.adapt(["  a\tb\n\nc  "])
    assert sorted(layer.get_vocabulary()[2:]) == ["a", "b", "c"]
    # only ASCII whitespace splits (tf.strings.split), not \x1c or a no-break space
    odd = TextVectorization(standardize=None)
    odd.adapt(["a\x1cb c", "x\xa0y z"])
    assert sorted(odd.get_vocabulary()[2:]) == ["a\x1cb", "c", "x\xa0y", "z"]
    chars = TextVectorization(standardize=None, split="character", output_mode="count")
    chars.adapt(["héé"])
    assert chars.get_vocabulary() == ["[UNK]", "é", "h"]
    np.testing.assert_array_equal(chars(["ééx"]), [[1, 2, 0]])
    whole = TextVectorization(split=None)
    whole.adapt(["New York", "new york", "Paris"])
    assert whole.get_vocabulary() == ["", "[UNK]", "new york", "paris"]
    assert whole(np.array(["Paris", "Rome"])).tolist() == [3, 1]
    assert whole.compute_output_shape((None,)) == (None,)
    assert whole(np.array([["Paris"], ["x"]])).shape == whole.compute_output_shape((2, 1))
    grams = TextVectorization(ngrams=2)
    grams.adapt(["a b c"])
    assert sorted(grams.get_vocabulary()[2:]) == ["a", "a b", "b", "b c", "c"]
    only2 = TextVectorization(ngrams=(2,), output_sequence_length=3,
                              vocabulary=["a b", "b c", "c d"])
    assert only2(["a b c d", "x"]).tolist() == [[2, 3, 4], [0, 0, 0]]   # 1 token: no bigram


def test_int_output_pads_to_longest_or_truncates():
    layer = TextVectorization(vocabulary=["a", "b", "c"])
    assert layer(["a b c a", "b", ""]).tolist() == [[2, 3, 4, 2], [3, 0, 0, 0], [0, 0, 0, 0]]
    short = TextVectorization(vocabulary=["a", "b", "c"], output_sequence_length=2)
    assert short(np.array([["a b c"], ["c"]], dtype=object)).tolist() == [[2, 3], [4, 0]]
    assert short.compute_output_shape((None, 1)) == (None, 2)
    assert layer.compute_output_shape((None,)) == (None, None)


def test_bag_of_words_modes_and_tf_idf_formula():
    docs = ["the cat sat", "the dog", "the cat"]
    multi = TextVectorization(output_mode="multi_hot")
    multi.adapt(docs)
    vocab = multi.get_vocabulary()
    assert vocab == ["[UNK]", "the", "cat", "sat", "dog"]
    np.testing.assert_array_equal(multi(["cat cat bird"]), [[1, 0, 1, 0, 0]])
    count = TextVectorization(output_mode="count", vocabulary=vocab[1:])
    np.testing.assert_array_equal(count(["cat cat bird the"]), [[1, 1, 2, 0, 0]])
    tfidf = TextVectorization(output_mode="tf_idf")
    tfidf.adapt(docs)
    idf = np.array([math.log(1 + 3 / (1 + df)) for df in (3, 2, 1, 1)])   # the cat sat dog
    expected = np.concatenate([[idf.mean() * 1], idf * [1, 2, 0, 0]])
    np.testing.assert_allclose(tfidf(["the cat cat zebra"])[0], expected, rtol=1e-6)
    padded = TextVectorization(output_mode="multi_hot", max_tokens=8, pad_to_max_tokens=True)
    padded.adapt(docs)
    assert padded(["the"]).shape == (1, 8)
    assert padded.compute_output_shape((None,)) == (None, 8)


def test_max_tokens_counts_padding_and_oov():
    layer = TextVectorization(max_tokens=4)
    layer.adapt(["b b b a a c"])
    assert layer.get_vocabulary() == ["", "[UNK]", "b", "a"]
    assert layer(["c a"]).tolist() == [[1, 3]]


def test_adapt_sources_give_the_same_vocabulary():
    texts = np.array(["x y", "y z", "z z w", "w"], dtype=object)
    ref = TextVectorization()
    ref.adapt(texts)
    chunked = TextVectorization()
    chunked.adapt(texts, batch_size=1)
    assert chunked.get_vocabulary() == ref.get_vocabulary()

    class Batches(PyDataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return texts[2 * i:2 * i + 2], np.zeros(2)
    from_ds = TextVectorization()
    from_ds.adapt(Batches())
    assert from_ds.get_vocabulary() == ref.get_vocabulary()
    first = TextVectorization()
    first.adapt(Batches(), steps=1)
    assert sorted(first.get_vocabulary()[2:]) == ["x", "y", "z"]
    gen = TextVectorization()
    gen.adapt(iter([["x y", "y z"], ["z z w", "w"]]))             # batches as lists
    assert gen.get_vocabulary() == ref.get_vocabulary()


def test_bytes_and_str_arrays_are_accepted():
    layer = TextVectorization(vocabulary=["é", "b"])
    assert layer(np.array(["é b"])).tolist() == [[2, 3]]
    assert layer(np.array(["é b".encode()], dtype=object)).tolist() == [[2, 3]]
    assert layer(np.array([b"b"])).tolist() == [[3]]


def test_callables_are_applied_and_saved_by_name(tmp_path):
    def no_digits(x):
        return np.array([s.replace("1", "") for s in x.reshape(-1)], dtype=object).reshape(
            x.shape)

    def on_dash(x):
        return [s.split("-") for s in x]
    layer = TextVectorization(standardize=no_digits, split=on_dash)
    layer.adapt(["a1-b", "b-c1"])
    assert layer.get_vocabulary() == ["", "[UNK]", "b", "c", "a"]
    cfg = layer.get_config()
    assert cfg["standardize"]["config"] == "no_digits"
    with pytest.raises(ValueError, match="never saves code"):
        TextVectorization.from_config(cfg)
    clone = TextVectorization.from_config(cfg, custom_objects={"no_digits": no_digits,
                                                               "on_dash": on_dash})
    assert clone(["c-a1"]).tolist() == layer(["c-a1"]).tolist() == [[3, 4]]


@pytest.mark.parametrize("kwargs, match", [
    (dict(sparse=True), "sparse=True"),
    (dict(ragged=True), "ragged=True"),
    (dict(output_mode="count", output_sequence_length=3), "output_sequence_length"),
    (dict(output_sequence_length=0), "output_sequence_length"),
    (dict(standardize="upper"), r"standardize.*'lower'"),
    (dict(split="comma"), r"split.*'whitespace'"),
    (dict(ngrams=(1, "2")), "ngrams"),
    (dict(output_mode="one_hot"), "output_mode"),
    (dict(max_tokens=1), "max_tokens"),
])
def test_constructor_errors(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        TextVectorization(**kwargs)


def test_call_errors_name_the_layer():
    layer = TextVectorization(vocabulary=["a"], name="tv")
    with pytest.raises(ValueError, match=r"'tv'.*\(batch,\) or \(batch, 1\).*\(2, 2\)"):
        layer(np.full((2, 2), "a"))
    with pytest.raises(TypeError, match=r"'tv'.*strings"):
        layer(np.zeros(3))
    with pytest.raises(ValueError, match="fixed vocabulary"):
        layer.adapt(["a"])


def test_config_round_trip():
    layer = TextVectorization(max_tokens=20, ngrams=(1, 3), output_mode="tf_idf", name="t")
    layer.adapt(CORPUS)
    cfg = layer.get_config()
    clone = TextVectorization.from_config(cfg)
    assert clone.get_config() == cfg
    np.testing.assert_array_equal(clone(["foo baz boom"]), layer(["foo baz boom"]))


def _texts(n, seed=0):
    rng = np.random.default_rng(seed)
    good, bad = ["great", "good", "fine", "lovely"], ["awful", "bad", "poor", "boring"]
    fill = ["the", "movie", "was", "plot", "and", "a"]
    x, y = [], []
    for _ in range(n):
        label = int(rng.integers(2))
        words = list(rng.choice(fill, 4)) + [rng.choice(good if label else bad)]
        rng.shuffle(words)
        x.append(" ".join(words))
        y.append(label)
    return np.array(x, dtype=object), np.array(y, dtype="float32")


def test_vectorize_first_then_fit_on_ints():
    x, y = _texts(200)
    vec = TextVectorization(max_tokens=50, output_sequence_length=6)
    vec.adapt(x)
    ids = vec(x)
    model = keras.Sequential([keras.Input(shape=(6,)),
                              keras.layers.Embedding(vec.vocabulary_size(), 8, mask_zero=True),
                              keras.layers.GlobalAveragePooling1D(),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(keras.optimizers.Adam(0.05), "binary_crossentropy", metrics=["accuracy"])
    model.fit(ids, y, epochs=15, batch_size=32, verbose=0)
    assert model.evaluate(ids, y, verbose=0)[1] > 0.9


def test_saved_with_the_model_gives_identical_outputs(tmp_path):
    x, _ = _texts(20, seed=1)
    for mode in ("int", "tf_idf"):
        vec = TextVectorization(max_tokens=12, output_mode=mode,
                                output_sequence_length=7 if mode == "int" else None)
        vec.adapt(x)
        inp = keras.Input(shape=(1,), dtype="object")
        feats = vec(inp)
        if mode == "int":
            feats = keras.layers.GlobalAveragePooling1D()(
                keras.layers.Embedding(vec.vocabulary_size(), 3)(feats))
        model = keras.Model(inp, keras.layers.Dense(2)(feats))
        path = tmp_path / f"text_{mode}.kerasnp"
        model.save(path)
        loaded = keras.models.load_model(path)
        again = loaded.layers[1]
        assert isinstance(again, TextVectorization)
        assert again.get_vocabulary() == vec.get_vocabulary()
        np.testing.assert_array_equal(again(x[:, None]), vec(x[:, None]))
        # the rest of the network (numeric) gives identical predictions on the vectorized text
        rest_in = vec(x[:, None])
        np.testing.assert_array_equal(
            loaded.layers[-1](_through(loaded.layers[2:-1], rest_in)),
            model.layers[-1](_through(model.layers[2:-1], rest_in)))


def _through(layers, x):
    for layer in layers:
        x = layer(x)
    return x
