"""A transformer-style block written only with `kerasnp.ops` matches PyTorch in float64:
self-attention with two heads, residuals, layer norms and a GELU feed-forward, forward values
and the gradients of the input and every weight (to 1e-6)."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import ops

torch = pytest.importorskip("torch")


class Block(keras.layers.Layer):
    def __init__(self, heads=2, ff=12, **kwargs):
        super().__init__(**kwargs)
        self.heads, self.ff = heads, ff

    def build(self, input_shape):
        d = input_shape[-1]
        w = dict(initializer="glorot_uniform")
        self.wq = self.add_weight(shape=(d, d), name="wq", **w)
        self.wk = self.add_weight(shape=(d, d), name="wk", **w)
        self.wv = self.add_weight(shape=(d, d), name="wv", **w)
        self.wo = self.add_weight(shape=(d, d), name="wo", **w)
        self.g1 = self.add_weight(shape=(d,), initializer="ones", name="g1")
        self.b1 = self.add_weight(shape=(d,), initializer="random_normal", name="b1")
        self.w1 = self.add_weight(shape=(d, self.ff), name="w1", **w)
        self.c1 = self.add_weight(shape=(self.ff,), initializer="random_normal", name="c1")
        self.w2 = self.add_weight(shape=(self.ff, d), name="w2", **w)
        self.g2 = self.add_weight(shape=(d,), initializer="ones", name="g2")
        self.b2 = self.add_weight(shape=(d,), initializer="zeros", name="b2")

    def _norm(self, x, g, b):
        mean = ops.mean(x, axis=-1, keepdims=True)
        var = ops.var(x, axis=-1, keepdims=True)
        return (x - mean) / ops.sqrt(var + 1e-5) * g + b

    def _split(self, x):
        n, t, d = ops.shape(x)
        return ops.transpose(ops.reshape(x, (n, t, self.heads, d // self.heads)), (0, 2, 1, 3))

    def call(self, x):
        n, t, d = ops.shape(x)
        q, k, v = (self._split(ops.matmul(x, w)) for w in (self.wq, self.wk, self.wv))
        scores = ops.einsum("nhqd,nhkd->nhqk", q, k) / np.sqrt(d // self.heads)
        att = ops.matmul(ops.softmax(scores, axis=-1), v)
        att = ops.reshape(ops.transpose(att, (0, 2, 1, 3)), (n, t, d))
        h = self._norm(x + ops.matmul(att, self.wo), self.g1, self.b1)
        f = ops.matmul(ops.nn.gelu(ops.matmul(h, self.w1) + self.c1, approximate=False), self.w2)
        return self._norm(h + f, self.g2, self.b2)


def _torch_block(x, w, heads):
    n, t, d = x.shape

    def norm(a, g, b):
        mean = a.mean(-1, keepdim=True)
        var = a.var(-1, unbiased=False, keepdim=True)
        return (a - mean) / torch.sqrt(var + 1e-5) * g + b

    def split(a):
        return a.reshape(n, t, heads, d // heads).permute(0, 2, 1, 3)

    q, k, v = (split(x @ w[name]) for name in ("wq", "wk", "wv"))
    att = torch.softmax(q @ k.transpose(-1, -2) / np.sqrt(d // heads), dim=-1) @ v
    att = att.permute(0, 2, 1, 3).reshape(n, t, d)
    h = norm(x + att @ w["wo"], w["g1"], w["b1"])
    f = torch.nn.functional.gelu(h @ w["w1"] + w["c1"]) @ w["w2"]
    return norm(h + f, w["g2"], w["b2"])


def test_transformer_block_of_ops_matches_torch(float64):
    keras.set_random_seed(0)
    block = Block()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 5, 8))
    dy = rng.normal(size=(3, 5, 8))
    with keras.GradientTape() as tape:
        tape.watch(x)
        y = block(x)
        loss = ops.sum(y * dy)
    grads = tape.gradient(loss, [x] + block.trainable_weights)

    xt = torch.tensor(x, requires_grad=True)
    wt = {v.name: torch.tensor(v.numpy(), requires_grad=True) for v in block.weights}
    yt = _torch_block(xt, wt, 2)
    (yt * torch.tensor(dy)).sum().backward()
    np.testing.assert_allclose(np.asarray(y), yt.detach().numpy(), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(grads[0], xt.grad.numpy(), rtol=1e-6, atol=1e-9)
    for v, g in zip(block.trainable_weights, grads[1:]):
        np.testing.assert_allclose(g, wt[v.name].grad.numpy(), rtol=1e-6, atol=1e-9,
                                   err_msg=v.name)


def test_transformer_block_trains_in_a_model():
    keras.set_random_seed(1)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(32, 5, 8)).astype("float32")
    y = (x.mean(axis=(1, 2)) > 0).astype("int64")
    inp = keras.Input((5, 8))
    h = Block()(inp)
    out = keras.layers.Dense(2, activation="softmax")(ops.mean(h, axis=1))
    model = keras.Model(inp, out)
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy")
    hist = model.fit(x, y, epochs=8, batch_size=8, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
