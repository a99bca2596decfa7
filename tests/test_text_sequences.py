"""kerasnp.utils.pad_sequences: Keras's padding and truncating rules, dtypes, strings, errors."""
import numpy as np
import pytest

from kerasnp.utils import pad_sequences

SEQS = [[1, 2, 3], [4], [5, 6], []]


def test_defaults_pad_and_truncate_at_the_start():
    out = pad_sequences(SEQS)
    assert out.dtype == np.int32
    assert out.tolist() == [[1, 2, 3], [0, 0, 4], [0, 5, 6], [0, 0, 0]]
    assert pad_sequences(SEQS, maxlen=2).tolist() == [[2, 3], [0, 4], [5, 6], [0, 0]]


@pytest.mark.parametrize("padding, truncating, expected", [
    ("pre", "pre", [[2, 3], [0, 4], [5, 6], [0, 0]]),
    ("post", "pre", [[2, 3], [4, 0], [5, 6], [0, 0]]),
    ("pre", "post", [[1, 2], [0, 4], [5, 6], [0, 0]]),
    ("post", "post", [[1, 2], [4, 0], [5, 6], [0, 0]]),
])
def test_every_side_combination(padding, truncating, expected):
    out = pad_sequences(SEQS, maxlen=2, padding=padding, truncating=truncating)
    assert out.tolist() == expected


def test_value_dtype_and_longer_maxlen():
    out = pad_sequences([[0.5, 1.5]], maxlen=4, dtype="float32", value=-1.0)
    assert out.dtype == np.float32 and out.tolist() == [[-1, -1, 0.5, 1.5]]
    assert pad_sequences([[1, 2]], maxlen=0).shape == (1, 0)
    assert pad_sequences([]).shape == (0, 0)
    assert pad_sequences(np.array([[1, 2], [3]], dtype=object)).tolist() == [[1, 2], [0, 3]]


def test_sample_shape_from_the_first_non_empty_sequence():
    seqs = [[], [[1, 2], [3, 4]], [[5, 6]]]
    out = pad_sequences(seqs, padding="post", dtype="float64")
    assert out.shape == (3, 2, 2)
    np.testing.assert_array_equal(out[2], [[5, 6], [0, 0]])
    with pytest.raises(ValueError, match=r"sequence 1 have shape \(3,\).*\(2,\)"):
        pad_sequences([[[1, 2]], [[1, 2, 3]]])


def test_strings_need_an_object_or_str_dtype():
    out = pad_sequences([["a", "b"], ["c"]], dtype=object, value="<pad>")
    assert out.tolist() == [["a", "b"], ["<pad>", "c"]]
    out = pad_sequences([["ab"], ["c", "d"]], dtype="<U5", value="", padding="post")
    assert out.tolist() == [["ab", ""], ["c", "d"]]
    with pytest.raises(ValueError, match="dtype=object"):
        pad_sequences([["a"]], value="x")


@pytest.mark.parametrize("kwargs, match", [
    (dict(padding="middle"), r"`padding` must be 'pre' or 'post'.*padding='middle'"),
    (dict(truncating="both"), r"`truncating` must be 'pre' or 'post'.*truncating='both'"),
    (dict(maxlen=-1), "maxlen"),
    (dict(maxlen=2.5), "maxlen"),
])
def test_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        pad_sequences(SEQS, **kwargs)


def test_non_sequences_are_refused():
    with pytest.raises(ValueError, match="list of iterables; item 1"):
        pad_sequences([[1], 5])
    with pytest.raises(ValueError, match="list of sequences"):
        pad_sequences(7)
