"""CTC: `ctc_loss` and `ctc_decode` (Keras 3 names) for sequence alignment, with the loss's VJP.

The loss runs the forward-backward algorithm in log space (`kernels/ctc.py`) in float64 and
records one tape node whose VJP is `softmax(logits) - posterior`, scaled by the upstream
gradient of each sequence's loss.
"""
import numpy as np

from .. import config
from ..kernels.ctc import ctc_loss_grad
from ._dispatch import is_tracked, op, value
from ._helpers import record

__all__ = ["ctc_loss", "ctc_decode"]


def _int_vector(x, n, arg, who):
    v = np.asarray(value(x))
    if v.ndim == 0:
        v = np.full((n,), v)
    if v.shape != (n,) or not (np.issubdtype(v.dtype, np.integer)
                                or np.all(np.mod(v, 1) == 0)):
        raise ValueError(f"{who}: `{arg}` must hold one integer length per sequence, shape "
                         f"({n},). Received: {arg}.shape={v.shape}, dtype={v.dtype}")
    return v.astype(np.int64)


def _log_softmax(z):
    m = z.max(axis=-1, keepdims=True)
    s = z - m
    return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))


@op
def ctc_loss(target, output, target_length, output_length, mask_index=0):
    """Connectionist temporal classification loss of each sequence.

    Args:
        target: integer labels `(batch, max_label_length)`, padded beyond `target_length`.
        output: logits `(batch, max_time, num_classes)` (a log-softmax is applied inside).
        target_length: `(batch,)` number of labels of each sequence.
        output_length: `(batch,)` number of valid time steps of each sequence.
        mask_index: the blank class.

    Returns:
        `(batch,)` losses `-log P(target | output)`, float32 (float64 for float64 logits);
        `inf` where no alignment exists. The gradient flows to `output`.

    Example:
        >>> z = np.zeros((1, 3, 3))
        >>> round(float(ctc_loss([[1, 2]], z, [2], [3])[0]), 4)
        1.6864
    """
    who = "ctc_loss"
    z = np.asarray(value(output))
    t = np.asarray(value(target))
    if z.ndim != 3:
        raise ValueError(f"{who}: `output` must be logits of shape (batch, time, classes). "
                         f"Received: output.shape={z.shape}")
    nb, nt, nc = z.shape
    if t.ndim != 2 or t.shape[0] != nb:
        raise ValueError(f"{who}: `target` must be integer labels of shape ({nb}, "
                         f"max_label_length). Received: target.shape={t.shape}")
    tl = _int_vector(target_length, nb, "target_length", who)
    ol = _int_vector(output_length, nb, "output_length", who)
    if (ol < 0).any() or (ol > nt).any() or (tl < 0).any() or (tl > t.shape[1]).any():
        raise ValueError(f"{who}: lengths out of range: output_length must be in [0, {nt}] and "
                         f"target_length in [0, {t.shape[1]}]. Received: "
                         f"output_length={ol.tolist()}, target_length={tl.tolist()}")
    labels = t.astype(np.int64)
    valid = np.arange(t.shape[1])[None, :] < tl[:, None]
    if ((labels < 0) | (labels >= nc))[valid].any() or (labels == mask_index)[valid].any():
        raise ValueError(f"{who}: labels must be classes in [0, {nc}) other than the blank "
                         f"mask_index={mask_index}. Received: target with values "
                         f"{np.unique(labels[valid]).tolist()}")
    dt = z.dtype if z.dtype == np.float64 else np.dtype(np.float32)
    logp = _log_softmax(z.astype(np.float64))
    loss = np.empty(nb)
    grad = np.empty_like(logp) if is_tracked(output) else np.empty((0, 0, 0))
    ctc_loss_grad(logp, np.ascontiguousarray(labels), tl, ol, int(mask_index), loss, grad,
                  grad.size > 0)

    def vjp(g):                                      # d Σ g_b·loss_b / dz = g_b (softmax - γ)
        return (np.asarray(g, dtype=np.float64)[:, None, None] * grad).astype(
            z.dtype if z.dtype.kind == "f" else dt, copy=False)
    return record(loss.astype(dt), vjp, output)


@op
def ctc_decode(inputs, sequence_lengths, strategy="greedy", beam_width=100, top_paths=1,
               merge_repeated=True, mask_index=0):
    """Decode CTC outputs into label sequences.

    Args:
        inputs: `(batch, max_time, num_classes)` scores (logits or probabilities for greedy;
            logits for beam search, which applies a log-softmax).
        sequence_lengths: `(batch,)` number of valid time steps.
        strategy: `"greedy"` (best class per step) or `"beam_search"` (CTC prefix beam search).
        beam_width: prefixes kept per step (beam search).
        top_paths: number of best sequences returned (beam search; greedy returns 1).
        merge_repeated: greedy: merge repeated classes not separated by a blank.
        mask_index: the blank class (None: the last class).

    Returns:
        `(decoded, scores)`: `decoded` int32 `(top_paths, batch, max_time)` with labels first and
        -1 after; `scores` `(batch, top_paths)`: greedy, minus the sum of the best scores per
        step (as Keras); beam search, each sequence's log-probability summed over its
        alignments in the beam (Keras's own beam search ranks alike but its scores are an
        approximation of these).

    Example:
        >>> x = np.log(np.array([[[0.1, 0.9], [0.8, 0.2], [0.1, 0.9]]]))
        >>> ctc_decode(x, [3])[0].tolist()
        [[[1, 1, -1]]]
    """
    who = "ctc_decode"
    x = np.asarray(value(inputs))
    if x.ndim != 3:
        raise ValueError(f"{who}: `inputs` must have shape (batch, time, classes). "
                         f"Received: inputs.shape={x.shape}")
    nb, nt, nc = x.shape
    lengths = np.minimum(_int_vector(sequence_lengths, nb, "sequence_lengths", who), nt)
    blank = nc - 1 if mask_index is None else int(mask_index)
    if strategy == "greedy":
        return _greedy(x, lengths, blank, merge_repeated)
    if strategy == "beam_search":
        for arg, v in (("beam_width", beam_width), ("top_paths", top_paths)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{who}: `{arg}` must be a positive int. Received: {arg}={v!r}")
        if top_paths > beam_width:
            raise ValueError(f"{who}: `top_paths` must be <= `beam_width`. Received: "
                             f"top_paths={top_paths}, beam_width={beam_width}")
        return _beam(x, lengths, blank, int(beam_width), int(top_paths))
    raise ValueError(f"{who}: unknown `strategy`; valid: 'greedy', 'beam_search'. "
                     f"Received: strategy={strategy!r}")


def _greedy(x, lengths, blank, merge_repeated):
    nb, nt, _ = x.shape
    idx = x.argmax(axis=-1)
    valid = np.arange(nt)[None, :] < lengths[:, None]
    score = -np.where(valid, x.max(axis=-1), 0.0).sum(axis=1, keepdims=True)
    idx = np.where(valid, idx, blank)
    keep = idx != blank
    if merge_repeated:
        keep[:, 1:] &= idx[:, 1:] != idx[:, :-1]
    out = np.full((1, nb, nt), -1, dtype=np.int32)
    for b in range(nb):
        seq = idx[b][keep[b]]
        out[0, b, :len(seq)] = seq
    dt = x.dtype if x.dtype.kind == "f" else np.dtype(config.floatx())
    return out, score.astype(dt)


def _beam(x, lengths, blank, width, top):
    nb, nt, nc = x.shape
    logp = _log_softmax(x.astype(np.float64))
    out = np.full((top, nb, nt), -1, dtype=np.int32)
    scores = np.full((nb, top), -np.inf)
    for b in range(nb):
        best = _prefix_beam(logp[b, :lengths[b]], blank, width)[:top]
        for i, (prefix, s) in enumerate(best):
            out[i, b, :len(prefix)] = prefix
            scores[b, i] = s
    dt = x.dtype if x.dtype.kind == "f" else np.dtype(config.floatx())
    return out, scores.astype(dt)


def _prefix_beam(logp, blank, width):
    """CTC prefix beam search: `[(prefix, log P(prefix))]`, best first. Each prefix keeps the
    log-probabilities of its alignments ending in a blank (`pb`) and in its last label (`pn`)."""
    beams = {(): (0.0, -np.inf)}
    lae = np.logaddexp
    for row in logp:
        nxt = {}

        def add(prefix, pb, pn):
            ob, on = nxt.get(prefix, (-np.inf, -np.inf))
            nxt[prefix] = (lae(ob, pb), lae(on, pn))
        for prefix, (pb, pn) in beams.items():
            total = lae(pb, pn)
            add(prefix, total + row[blank], -np.inf)
            last = prefix[-1] if prefix else None
            for c in range(len(row)):
                if c == blank:
                    continue
                if c == last:
                    add(prefix, -np.inf, pn + row[c])          # repeat collapses
                    add(prefix + (c,), -np.inf, pb + row[c])   # needs a blank in between
                else:
                    add(prefix + (c,), -np.inf, total + row[c])
        ranked = sorted(nxt.items(), key=lambda kv: -lae(*kv[1]))
        beams = dict(ranked[:width])
    return sorted(((p, float(lae(*s))) for p, s in beams.items()), key=lambda kv: -kv[1])
