"""`pad_sequences`: a list of variable-length sequences -> one padded array (Keras's utility)."""
import numpy as np

_SIDES = ("pre", "post")


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre",
                  value=0.0):
    """Pad (or truncate) sequences to one length, as `keras.utils.pad_sequences` does.

    Args:
        sequences: a list (or object array) of sequences: lists or arrays whose items are
            numbers, strings, or arrays of one common shape (the sample shape).
        maxlen: length of the output rows; default the longest sequence.
        dtype: dtype of the output. Use `object` (or a str dtype) for strings.
        padding: "pre" (default: pad at the start) or "post" (at the end).
        truncating: "pre" (default: drop the start of longer sequences) or "post".
        value: padding value (a number, or a string with an object/str dtype).

    Returns:
        An array of shape `(len(sequences), maxlen) + sample_shape`.

    Example:
        >>> pad_sequences([[1, 2, 3], [4], [5, 6]], maxlen=2).tolist()
        [[2, 3], [0, 4], [5, 6]]
        >>> pad_sequences([[1], [2, 3]], padding="post", value=-1).tolist()
        [[1, -1], [2, 3]]
    """
    if padding not in _SIDES:
        raise ValueError(f"pad_sequences: `padding` must be 'pre' or 'post'. "
                         f"Received: padding={padding!r}")
    if truncating not in _SIDES:
        raise ValueError(f"pad_sequences: `truncating` must be 'pre' or 'post'. "
                         f"Received: truncating={truncating!r}")
    if not hasattr(sequences, "__len__") or isinstance(sequences, (str, bytes)):
        raise ValueError(f"pad_sequences: `sequences` must be a list of sequences. "
                         f"Received: {type(sequences).__name__}")
    if maxlen is not None and (isinstance(maxlen, bool) or not isinstance(
            maxlen, (int, np.integer)) or maxlen < 0):
        raise ValueError(f"pad_sequences: `maxlen` must be None or a non-negative integer. "
                         f"Received: maxlen={maxlen!r}")
    lengths, sample_shape = [], ()
    found = False
    for i, s in enumerate(sequences):
        if isinstance(s, (str, bytes)) or not hasattr(s, "__len__"):
            raise ValueError(f"pad_sequences: `sequences` must be a list of iterables; item {i} "
                             f"is not a sequence. Received: {s!r}")
        lengths.append(len(s))
        if not found and len(s):
            sample_shape, found = np.asarray(s).shape[1:], True   # the first non-empty one's
    if maxlen is None:
        maxlen = max(lengths, default=0)
    is_text = np.dtype(dtype).kind in "OUS"
    if isinstance(value, str) and not is_text:
        raise ValueError(f"pad_sequences: `dtype` {dtype} is not compatible with the string "
                         f"`value` {value!r}; use dtype=object for variable-length strings.")
    x = np.full((len(lengths), maxlen) + tuple(sample_shape), value, dtype=dtype)
    if maxlen == 0:
        return x
    for i, s in enumerate(sequences):
        if not lengths[i]:
            continue
        trunc = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        trunc = np.asarray(trunc, dtype=dtype)
        if trunc.shape[1:] != sample_shape:
            raise ValueError(f"pad_sequences: the items of sequence {i} have shape "
                             f"{trunc.shape[1:]}, different from the expected shape "
                             f"{sample_shape} (that of the first non-empty sequence).")
        if padding == "post":
            x[i, :len(trunc)] = trunc
        else:
            x[i, maxlen - len(trunc):] = trunc
    return x
