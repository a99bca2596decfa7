"""CTC: `ops.ctc_loss` against torch (float64 values and gradients) and finite differences,
`ops.ctc_decode` against NumPy references (greedy) and brute-force enumeration (beam search),
and `losses.CTC` with Keras's conventions."""
import itertools

import numpy as np
import pytest

import kerasnp
from kerasnp import losses, ops
from kerasnp.autodiff import GradientTape

rng = np.random.default_rng(0)
Z = rng.normal(size=(4, 8, 5))
TARGET = np.array([[1, 2, 2, 0], [3, 1, 0, 0], [4, 3, 4, 1], [2, 0, 0, 0]])
TLEN = np.array([3, 2, 4, 1])
OLEN = np.array([8, 5, 6, 1])


def _loss_and_grad(z, t=TARGET, tl=TLEN, ol=OLEN, w=None):
    w = np.ones(len(z)) if w is None else w
    with GradientTape() as tape:
        tape.watch(z)
        loss = ops.ctc_loss(t, z, tl, ol)
        total = ops.sum(loss * w)
    return np.asarray(loss), np.asarray(tape.gradient(total, z))


def test_loss_and_gradient_match_torch_float64():
    torch = pytest.importorskip("torch")
    w = rng.random(4)
    loss, grad = _loss_and_grad(Z, w=w)
    zt = torch.tensor(Z, requires_grad=True)
    lp = torch.nn.functional.log_softmax(zt, -1).transpose(0, 1)
    ref = torch.nn.functional.ctc_loss(lp, torch.tensor(TARGET), torch.tensor(OLEN),
                                       torch.tensor(TLEN), blank=0, reduction="none")
    (ref * torch.tensor(w)).sum().backward()
    assert loss.dtype == np.float64
    np.testing.assert_allclose(loss, ref.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(grad, zt.grad.numpy(), rtol=1e-8, atol=1e-12)
    assert np.all(grad[1, 5:] == 0) and np.all(grad[3, 1:] == 0)   # past output_length


def test_gradient_against_finite_differences():
    z = Z[:2, :5]
    t, tl, ol = TARGET[:2], TLEN[:2], np.array([5, 4])
    _, grad = _loss_and_grad(z, t, tl, ol)
    num = np.zeros_like(z)
    for i in np.ndindex(z.shape):
        a, b = z.copy(), z.copy()
        a[i] += 1e-6
        b[i] -= 1e-6
        num[i] = (ops.ctc_loss(t, a, tl, ol).sum() - ops.ctc_loss(t, b, tl, ol).sum()) / 2e-6
    np.testing.assert_allclose(grad, num, rtol=1e-6, atol=1e-9)


def test_brute_force_probability_and_impossible_alignment():
    z = rng.normal(size=(1, 4, 3))
    p = np.exp(z[0]) / np.exp(z[0]).sum(-1, keepdims=True)
    total = 0.0
    for path in itertools.product(range(3), repeat=4):
        if _collapse(path, 0) == (1, 1):
            total += np.prod([p[t, c] for t, c in enumerate(path)])
    np.testing.assert_allclose(ops.ctc_loss([[1, 1]], z, [2], [4]), [-np.log(total)],
                               rtol=1e-12)
    # "1 1" needs a blank between the repeats: 3 steps, so 2 steps cannot align
    loss, grad = _loss_and_grad(z, np.array([[1, 1]]), np.array([2]), np.array([2]))
    assert loss[0] == np.inf and np.all(grad == 0)


def test_float32_and_errors():
    out = ops.ctc_loss(TARGET, Z.astype(np.float32), TLEN, OLEN)
    assert out.dtype == np.float32
    with pytest.raises(ValueError, match="output.shape"):
        ops.ctc_loss(TARGET, Z[0], TLEN, OLEN)
    with pytest.raises(ValueError, match="output_length"):
        ops.ctc_loss(TARGET, Z, TLEN, OLEN + 5)
    with pytest.raises(ValueError, match="mask_index"):
        ops.ctc_loss([[0, 1]], Z[:1], [2], [8])
    with pytest.raises(ValueError, match="strategy"):
        ops.ctc_decode(Z, OLEN, strategy="best")


def _collapse(path, blank, merge=True):
    out, prev = [], None
    for c in path:
        if c != blank and (c != prev or not merge):
            out.append(c)
        prev = c
    return tuple(out)


@pytest.mark.parametrize("merge", [True, False])
def test_greedy_decode(merge):
    x = Z.astype(np.float32)
    decoded, scores = ops.ctc_decode(x, OLEN, merge_repeated=merge)
    assert decoded.shape == (1, 4, 8) and decoded.dtype == np.int32
    for b in range(4):
        best = x[b, :OLEN[b]].argmax(-1)
        if merge:
            seq = _collapse(best, 0)
        else:
            seq = tuple(c for c in best if c != 0)
        assert tuple(decoded[0, b, :len(seq)]) == seq and np.all(decoded[0, b, len(seq):] == -1)
        np.testing.assert_allclose(scores[b, 0], -x[b, :OLEN[b]].max(-1).sum(), rtol=1e-6)


def test_beam_search_finds_the_most_probable_labellings():
    z = rng.normal(size=(2, 5, 3)) * 2
    lengths = np.array([5, 4])
    decoded, scores = ops.ctc_decode(z, lengths, strategy="beam_search", beam_width=200,
                                     top_paths=3)
    assert decoded.shape == (3, 2, 5) and scores.shape == (2, 3)
    for b in range(2):
        lp = z[b, :lengths[b]] - np.log(np.exp(z[b, :lengths[b]]).sum(-1, keepdims=True))
        prob = {}
        for path in itertools.product(range(3), repeat=lengths[b]):
            key = _collapse(path, 0)
            prob[key] = np.logaddexp(prob.get(key, -np.inf), lp[np.arange(len(path)), path].sum())
        best = sorted(prob.items(), key=lambda kv: -kv[1])[:3]
        for i, (seq, s) in enumerate(best):
            assert tuple(decoded[i, b, :len(seq)]) == seq
            np.testing.assert_allclose(scores[b, i], s, rtol=1e-10)


def test_ctc_loss_class_keras_conventions_and_training():
    y = TARGET * (np.arange(4)[None, :] < TLEN[:, None])        # padded with the blank 0
    loss = losses.CTC()
    per = losses.CTC(reduction="none")(y, Z)
    np.testing.assert_allclose(per, ops.ctc_loss(y, Z, TLEN, np.full(4, 8)), rtol=1e-12)
    np.testing.assert_allclose(loss(y, Z), per.mean(), rtol=1e-12)
    assert loss.get_config() == {"name": "ctc", "reduction": "sum_over_batch_size",
                                 "dtype": None}
    assert type(losses.get("ctc")) is losses.CTC
    x = rng.normal(size=(4, 8, 3)).astype(np.float32)
    model = kerasnp.Sequential([kerasnp.layers.Input((8, 3)), kerasnp.layers.Dense(5)])
    model.compile(optimizer=kerasnp.optimizers.Adam(0.05), loss="ctc")
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=10, batch_size=4, verbose=0)
    assert model.evaluate(x, y, verbose=0) < before
