"""MultiHeadAttention against torch.nn.MultiheadAttention in float64, with copied weights:
outputs, per-head and averaged attention weights and the gradients of the inputs and of every
weight, without masks, with a key padding mask, a causal mask and both; the fused path (no
scores returned) on self-attention; and the dot_product_attention op against torch's
scaled_dot_product_attention with a bias and a causal mask."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import ops
from kerasnp.autodiff import GradientTape
from kerasnp.autodiff.tape import unwrap

MHA = keras.layers.MultiHeadAttention


# -- torch parity -----------------------------------------------------------------------------
def _to_torch(mha, tmha, torch):
    """Copy Keras-layout weights into torch.nn.MultiheadAttention (in_proj rows: q, k, v, each
    `(heads·head_dim, E)` with the heads contiguous)."""
    qk, qb, kk, kb, vk, vb, ok, ob = [w.numpy() for w in mha.weights]
    e = qk.shape[0]
    with torch.no_grad():
        tmha.in_proj_weight.copy_(torch.from_numpy(np.concatenate(
            [w.reshape(e, -1).T for w in (qk, kk, vk)])))
        tmha.in_proj_bias.copy_(torch.from_numpy(np.concatenate([qb.ravel(), kb.ravel(),
                                                                  vb.ravel()])))
        tmha.out_proj.weight.copy_(torch.from_numpy(ok.reshape(-1, e).T))
        tmha.out_proj.bias.copy_(torch.from_numpy(ob))


def _torch_grads_as_keras(tmha, e, heads):
    w, b = tmha.in_proj_weight.grad.numpy(), tmha.in_proj_bias.grad.numpy()
    out = []
    for i in range(3):
        rows = slice(i * e, (i + 1) * e)
        out += [w[rows].T.reshape(e, heads, -1), b[rows].reshape(heads, -1)]
    out += [tmha.out_proj.weight.grad.numpy().T.reshape(heads, -1, e),
            tmha.out_proj.bias.grad.numpy()]
    return out


@pytest.mark.parametrize("masks", ["none", "padding", "causal", "padding+causal"])
def test_matches_torch_multihead_attention(float64, masks):
    torch = pytest.importorskip("torch")
    keras.set_random_seed(1)
    rng = np.random.default_rng(0)
    b, t, s, e, heads = 3, 5, 6, 8, 2
    q, k, v = rng.normal(size=(b, t, e)), rng.normal(size=(b, s, e)), rng.normal(size=(b, s, e))
    mha = MHA(num_heads=heads, key_dim=e // heads, bias_initializer="random_normal")
    mha(q, v, key=k)
    tmha = torch.nn.MultiheadAttention(e, heads, batch_first=True, dtype=torch.float64)
    _to_torch(mha, tmha, torch)

    pad = np.ones((b, s), bool)
    pad[0, 4:] = False
    pad[2, 1] = False
    kw, tkw = {}, {}
    if "padding" in masks:
        kw["value_mask"] = pad
        tkw["key_padding_mask"] = torch.from_numpy(~pad)          # torch: True = ignore
    if "causal" in masks:
        kw["use_causal_mask"] = True
        tkw["attn_mask"] = torch.from_numpy(~np.tril(np.ones((t, s), bool)))
    dy = rng.normal(size=(b, t, e))
    dw = rng.normal(size=(b, heads, t, s))

    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    ty, tw = tmha(tq, tk, tv, need_weights=True, average_attn_weights=False, **tkw)
    ((ty * torch.from_numpy(dy)).sum() + (tw * torch.from_numpy(dw)).sum()).backward()
    _, tw_avg = tmha(tq, tk, tv, need_weights=True, **tkw)

    with GradientTape() as tape:
        tape.watch([q, k, v])
        y, scores = mha(q, v, key=k, return_attention_scores=True, **kw)
        loss = ops.sum(y * dy) + ops.sum(scores * dw)
    grads = tape.gradient(loss, [q, k, v] + mha.trainable_weights)

    np.testing.assert_allclose(unwrap(y), ty.detach().numpy(), atol=1e-6, rtol=1e-6)
    np.testing.assert_allclose(unwrap(scores), tw.detach().numpy(), atol=1e-6, rtol=1e-6)
    np.testing.assert_allclose(unwrap(scores).mean(axis=1), tw_avg.detach().numpy(), atol=1e-6)
    for ours, theirs in zip(grads[:3], (tq, tk, tv)):
        np.testing.assert_allclose(ours, theirs.grad.numpy(), atol=1e-6, rtol=1e-6)
    for ours, theirs in zip(grads[3:], _torch_grads_as_keras(tmha, e, heads)):
        np.testing.assert_allclose(ours, theirs, atol=1e-6, rtol=1e-6)


def test_self_attention_output_only_matches_torch(float64):
    """The fused path (no scores asked for): output and gradients vs torch."""
    torch = pytest.importorskip("torch")
    keras.set_random_seed(2)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 7, 12))
    mha = MHA(num_heads=3, key_dim=4, bias_initializer="random_normal")
    mha(x, x)
    tmha = torch.nn.MultiheadAttention(12, 3, batch_first=True, dtype=torch.float64)
    _to_torch(mha, tmha, torch)
    dy = rng.normal(size=x.shape)
    tx = torch.tensor(x, requires_grad=True)
    ty, _ = tmha(tx, tx, tx, need_weights=False)
    (ty * torch.from_numpy(dy)).sum().backward()
    with GradientTape() as tape:
        tape.watch(x)
        y = mha(x, x)
    grads = tape.gradient(y, [x] + mha.trainable_weights, output_gradients=dy)
    np.testing.assert_allclose(unwrap(y), ty.detach().numpy(), atol=1e-6, rtol=1e-6)
    np.testing.assert_allclose(grads[0], tx.grad.numpy(), atol=1e-6, rtol=1e-6)
    for ours, theirs in zip(grads[1:], _torch_grads_as_keras(tmha, 12, 3)):
        np.testing.assert_allclose(ours, theirs, atol=1e-6, rtol=1e-6)


def test_dot_product_attention_op_matches_torch(float64):
    torch = pytest.importorskip("torch")
    from kerasnp.ops._attention import dot_product_attention
    rng = np.random.default_rng(3)
    q, k, v = rng.normal(size=(2, 5, 3, 4)), rng.normal(size=(2, 6, 3, 4)), \
        rng.normal(size=(2, 6, 3, 5))
    bias = rng.normal(size=(1, 3, 5, 6))
    tq, tk, tv = (torch.tensor(a.transpose(0, 2, 1, 3), requires_grad=True) for a in (q, k, v))
    tb = torch.from_numpy(bias)
    causal = torch.from_numpy(np.tril(np.ones((5, 6), bool)))
    ty = torch.nn.functional.scaled_dot_product_attention(
        tq, tk, tv, attn_mask=tb.masked_fill(~causal, float("-inf")))
    dy = rng.normal(size=(2, 3, 5, 5))
    (ty * torch.from_numpy(dy)).sum().backward()
    with GradientTape() as tape:
        tape.watch([q, k, v])
        y = dot_product_attention(q, k, v, bias=bias, is_causal=True)
    grads = tape.gradient(y, [q, k, v], output_gradients=dy.transpose(0, 2, 1, 3))
    np.testing.assert_allclose(unwrap(y), ty.detach().numpy().transpose(0, 2, 1, 3), atol=1e-6)
    for ours, theirs in zip(grads, (tq, tk, tv)):
        np.testing.assert_allclose(ours, theirs.grad.numpy().transpose(0, 2, 1, 3), atol=1e-6)
