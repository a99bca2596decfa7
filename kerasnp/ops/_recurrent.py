"""Fused recurrent ops: a whole LSTM, GRU or SimpleRNN sequence as ONE tape node.

The input projection of every step is one BLAS product (`x` as `(T·B, F)` times the kernel);
the recurrence runs forward and back through time in the Numba kernels of
`kerasnp/kernels/recurrent*.py`. The VJP turns the kernels' per-step gate gradients `dZ` into
the weight gradients with three more BLAS products (`[dW; db] = [X, 1]ᵀ·dZ`, `dR = H₋₁ᵀ·dZ`,
`dX = dZ·Wᵀ`) and returns d(initial states) too. What the backward needs (states, activated
gates) lives in the VJP's closure.

With `return_state` the node's output packs `[outputs, *final states]` along axis 1 and cheap
slice nodes hand out the pieces, so the BPTT sees all their gradients at once.
"""
import numpy as np

from ..autodiff.tape import Tensor, is_tracked, record
from ..kernels.recurrent import lstm_backward, lstm_forward
from ..kernels.recurrent_gru import (gru_backward, gru_forward, simple_rnn_backward,
                                     simple_rnn_forward)
from ..kernels.recurrent_math import ACTIVATION_CODES
from ..variables import Variable
from ._blas import column_sums
from ._dispatch import value
from ._recurrent_buffers import POOL
from ..kernels.threads import run_parallel
from ._recurrent_threads import in_parallel_region, max_threads, run_rows

_NO_MASK = np.ones((1, 1), dtype=np.uint8)


def activation_code(activation):
    """The kernels' code of a plain tanh/sigmoid/relu/linear activation, else None."""
    from .. import activations
    name = activations.serialize(activation)
    return ACTIVATION_CODES.get(name) if isinstance(name, str) else None


def _val(x, dtype):
    v = x.value if type(x) is Variable else value(x)
    return v if v.dtype == dtype else v.astype(dtype)


class _Sequence:
    """The input `(B, T, F)` made time-major in processing order, its mask likewise."""

    def __init__(self, x, mask, go_backwards, dtype):
        a = value(x)
        self.shape, self.dtype = a.shape, a.dtype
        self.b, self.t, self.f = a.shape
        xs = a.transpose(1, 0, 2)
        self.back = bool(go_backwards)
        # X with a column of ones, [X, 1]: the projection [X, 1]·[W; b] adds the bias inside
        # its product and [X, 1]ᵀ·dZ ends with the row db = Σ dZ, sparing two passes over the
        # (T·B, width) arrays; `x2` is X alone (a strided view BLAS reads as it is)
        self.x1 = POOL.take((self.t * self.b, self.f + 1), dtype)
        self.x1[:, self.f] = 1
        np.copyto(self.x1.reshape(self.t, self.b, self.f + 1)[:, :, :self.f],
                  xs[::-1] if self.back else xs)
        self.x2 = self.x1[:, :self.f]
        if mask is None:
            self.mask, self.has_mask = _NO_MASK, False
        else:
            m = np.asarray(value(mask)).astype(bool).T
            self.mask = np.ascontiguousarray(m[::-1] if self.back else m, dtype=np.uint8)
            self.has_mask = True

    def dx_layout(self, dx2):
        """`(T·B, F)` time-major rows in processing order -> the input's layout `(B, T, F)`."""
        d = dx2.reshape(self.t, self.b, self.f)
        return np.ascontiguousarray((d[::-1] if self.back else d).transpose(1, 0, 2),
                                    dtype=self.dtype)


def _initial(state, b, u, dtype):
    if state is None:
        return np.zeros((b, u), dtype=dtype)
    return _val(state, dtype)


class _Projection:
    """The input projections of every step, `X·W + b` `(T, B, width)`, computed inside each
    thread's recurrent task for that task's block of batch rows, right before the kernel reads
    them (rows written by another core would have to travel to this one's cache first: the
    forward kernel took 1.43 ms after a projection split by time steps, 1.01 ms alone). With a
    one-thread budget: one BLAS product of all steps, on BLAS's own threads."""

    def __init__(self, seq, w, b):
        if b is None:
            self.x, self.wb = seq.x2, w
        else:
            self.x, self.wb = seq.x1, np.concatenate([w, b[None]])   # [X, 1]·[W; b] = X·W + b
        self.flat = POOL.take((seq.t * seq.b, w.shape[1]), w.dtype)
        self.steps = self.flat.reshape(seq.t, seq.b, w.shape[1])
        self.shape3 = (seq.t, seq.b, self.x.shape[1])

    def run(self, kernel, n_rows, *args):
        """`kernel(b0, b1, *args)` over row blocks (`run_rows`), each block projected first."""
        def block(b0, b1, *rest):
            if b1 - b0 == n_rows:
                np.matmul(self.x, self.wb, out=self.flat)
            else:
                x3 = self.x.reshape(self.shape3)
                np.matmul(x3[:, b0:b1], self.wb, out=self.steps[:, b0:b1])
            kernel(b0, b1, *rest)
        run_rows(block, n_rows, *args)


def _weight_products(seq, dz_w, dz_r, hprev, w, has_bias, need_dx):
    """`((dW, db), dR, dX)` from the gate gradients: `[dW; db] = [X, 1]ᵀ·dZ_w`,
    `dR = H₋₁ᵀ·dZ_r`, `dX = dZ_w·Wᵀ` (None unless `need_dx`). With a budget of several threads
    each thread computes its share of the columns of dW and dR and of the rows of dX: every
    element is still one whole dot product, and the shares balance (the three whole products do
    not: dR alone is 60% of the work when dX is not needed)."""
    xt = (seq.x1 if has_bias else seq.x2).T
    width, rows = dz_w.shape[1], dz_w.shape[0]
    parts = max(1, min(max_threads(), width // 32))
    if parts == 1:
        dwb, dr = xt @ dz_w, hprev.T @ dz_r
        dx2 = dz_w @ w.T if need_dx else None
    else:
        cols = [width * k // parts for k in range(parts + 1)]
        rws = [rows * k // parts for k in range(parts + 1)]

        def share(k):
            c = slice(cols[k], cols[k + 1])
            return (xt @ dz_w[:, c], hprev.T @ dz_r[:, c],
                    dz_w[rws[k]:rws[k + 1]] @ w.T if need_dx else None)
        done = run_parallel([(lambda k=k: share(k)) for k in range(parts)])
        dwb = np.concatenate([d[0] for d in done], axis=1)
        dr = np.concatenate([d[1] for d in done], axis=1)
        dx2 = np.concatenate([d[2] for d in done]) if need_dx else None
    dw, db = (dwb[:-1], dwb[-1]) if has_bias else (dwb, None)
    return (dw, db), dr, (seq.dx_layout(dx2) if need_dx else None)


def _rdrop(mask, seq, u, dtype):
    """`(rdm, has_rdrop, hds)` for the kernels: the recurrent dropout mask `(B, u)` and the
    buffer of dropped states, or dummies without recurrent dropout."""
    if mask is None:
        return np.ones((1, 1), dtype), False, np.empty((1, 1, 1), dtype)
    rdm = np.ascontiguousarray(value(mask), dtype=dtype)
    return rdm, True, POOL.take((seq.t, seq.b, u), dtype)


def _h_prev(hs, hds, has_rdrop):
    """The states the recurrent products read, `(T·B, u)`: for dR = H₋₁ᵀ·dZ."""
    h = hds if has_rdrop else hs[:-1]
    return h.reshape(-1, h.shape[-1])


def _opt(state, grad):
    """The gradient of an initial state, or None when the state was not given."""
    return None if state is None else grad


def _last(hs_last, seq, zero_out):
    """The last output: the final h (0 for a masked last step with `zero_out`, as Keras)."""
    y = hs_last.copy()
    if zero_out and seq.has_mask:
        y *= seq.mask[-1][:, None]
    return y


def _dlast(dy_last, seq, zero_out):
    if zero_out and seq.has_mask:
        return dy_last * seq.mask[-1][:, None]
    return dy_last


def _pack(y, states, ret_seq):
    """One array `(B, K, u)`: the outputs (or last output) then the final states."""
    parts = [y if ret_seq else y[:, None]] + [s[:, None] for s in states]
    return np.concatenate(parts, axis=1)


def _unpack_grad(dy, n_t, ret_seq, n_states, return_state):
    """Split an upstream gradient into (dys or dlast, [d final state...])."""
    if not return_state:
        return dy, [None] * n_states
    k = n_t if ret_seq else 1
    main = dy[:, :k] if ret_seq else dy[:, 0]
    return main, [dy[:, k + i] for i in range(n_states)]


def _split(packed, n_t, ret_seq, n_states):
    """Slice nodes handing out the pieces of a packed output (plain arrays outside a tape)."""
    k = n_t if ret_seq else 1
    sls = [np.s_[:, :k] if ret_seq else np.s_[:, 0]] + [np.s_[:, k + i] for i in range(n_states)]
    if type(packed) is not Tensor:
        return [packed[sl] for sl in sls]
    shape, dtype = packed.shape, packed.dtype

    def piece(sl):
        def vjp(dy):
            d = np.zeros(shape, dtype)
            d[sl] = dy
            return d
        return record(packed.value[sl], vjp, packed)
    return [piece(sl) for sl in sls]


def _finish(y, states, vjp, inputs, seq, ret_seq, return_state, states_out):
    n = len(states)
    if states_out is not None:                   # the values, for a stateful layer
        states_out.extend(s.copy() for s in states)
    if not return_state:
        return record(y, vjp, *inputs)
    out = record(_pack(y, states, ret_seq), vjp, *inputs)
    return _split(out, seq.t, ret_seq, n)


def _seq_grad(dmain, seq, ret_seq, zero_out, dh):
    """dys for the kernel (or a dummy) and dh with the last output's gradient added."""
    if ret_seq:
        return np.ascontiguousarray(dmain, dtype=dh.dtype)
    dh += _dlast(dmain, seq, zero_out)
    return np.zeros((1, 1, 1), dtype=dh.dtype)


@in_parallel_region
def lstm(x, h0, c0, kernel, recurrent_kernel, bias, mask=None, go_backwards=False,
         return_sequences=False, return_state=False, zero_output_for_mask=False, a_code=0,
         ra_code=1, states_out=None, recurrent_mask=None):
    """A Keras LSTM over `x (B, T, F)`; kernel `(F, 4u)`, recurrent `(u, 4u)`, bias `(4u,)` or
    None, gate order i, f, c, o; `h0`, `c0` initial states or None (zeros); `mask (B, T)` or
    None; `a_code`, `ra_code` the activations' kernel codes (`activation_code`);
    `recurrent_mask (B, u)` the recurrent dropout mask applied to h₋₁ in every step, or None.

    Returns the output, or `[output, h, c]` with `return_state`; a list `states_out` also
    receives copies of the final states' values (what a stateful layer keeps)."""
    w = kernel.value if type(kernel) is Variable else value(kernel)
    dtype = w.dtype
    r = _val(recurrent_kernel, dtype)
    u = r.shape[0]
    seq = _Sequence(x, mask, go_backwards, dtype)
    n_t, n_b = seq.t, seq.b
    proj = _Projection(seq, w, None if bias is None else _val(bias, dtype))
    xp = proj.steps
    hs, cs = POOL.take((n_t + 1, n_b, u), dtype), POOL.take((n_t + 1, n_b, u), dtype)
    hs[0], cs[0] = _initial(h0, n_b, u, dtype), _initial(c0, n_b, u, dtype)
    gates = POOL.take((n_t, n_b, 4 * u), dtype)
    tcs = POOL.take((n_t, n_b, u), dtype)
    rdm, has_rdrop, hds = _rdrop(recurrent_mask, seq, u, dtype)
    ret_seq, zero_out = bool(return_sequences), bool(zero_output_for_mask)
    ys = np.empty((n_b, n_t, u), dtype) if ret_seq else np.empty((1, 1, 1), dtype)
    proj.run(lstm_forward, n_b, xp, r, seq.mask, seq.has_mask, zero_out, ret_seq, a_code,
             ra_code, dtype == np.float32, rdm, has_rdrop, hs, cs, hds, gates, tcs, ys)
    y = ys if ret_seq else _last(hs[-1], seq, zero_out)
    need_dx = is_tracked(x)

    @in_parallel_region
    def vjp(dy):
        dmain, (dh_t, dc_t) = _unpack_grad(dy, n_t, ret_seq, 2, return_state)
        dh = np.zeros((n_b, u), dtype) if dh_t is None else np.array(dh_t, dtype=dtype)
        dc = np.zeros((n_b, u), dtype) if dc_t is None else np.array(dc_t, dtype=dtype)
        dys = _seq_grad(dmain, seq, ret_seq, zero_out, dh)
        dz = POOL.take(gates.shape, dtype)
        run_rows(lstm_backward, n_b, dys, dh, dc, np.ascontiguousarray(r.T), seq.mask,
                 seq.has_mask, zero_out, ret_seq, a_code, ra_code, rdm, has_rdrop, cs, gates,
                 tcs, dz)
        dz2 = dz.reshape(n_t * n_b, 4 * u)
        (dw, db), dr, dx = _weight_products(seq, dz2, dz2, _h_prev(hs, hds, has_rdrop), w,
                                            bias is not None, need_dx)
        POOL.give([dz])
        return dx, _opt(h0, dh), _opt(c0, dc), dw, dr, db
    POOL.give_when_freed(vjp, [seq.x1, xp, hs, cs, gates, tcs] + [hds] * has_rdrop)
    return _finish(y, [hs[-1], cs[-1]], vjp, (x, h0, c0, kernel, recurrent_kernel, bias),
                   seq, ret_seq, return_state, states_out)


@in_parallel_region
def gru(x, h0, kernel, recurrent_kernel, bias, mask=None, go_backwards=False,
        return_sequences=False, return_state=False, zero_output_for_mask=False, a_code=0,
        ra_code=1, states_out=None, recurrent_mask=None):
    """A Keras GRU with `reset_after=True` over `x (B, T, F)`; bias `(2, 3u)` (input bias, then
    recurrent bias) or None, gate order z, r, h. Returns the output, or `[output, h]`."""
    w = kernel.value if type(kernel) is Variable else value(kernel)
    dtype = w.dtype
    r = _val(recurrent_kernel, dtype)
    u = r.shape[0]
    seq = _Sequence(x, mask, go_backwards, dtype)
    n_t, n_b = seq.t, seq.b
    b2 = _val(bias, dtype) if bias is not None else np.zeros((2, 3 * u), dtype)
    proj = _Projection(seq, w, b2[0])                             # X·W + b_in, all steps
    xp = proj.steps
    hs = POOL.take((n_t + 1, n_b, u), dtype)
    hs[0] = _initial(h0, n_b, u, dtype)
    gates = POOL.take((n_t, n_b, 3 * u), dtype)
    rec = POOL.take((n_t, n_b, 3 * u), dtype)
    rdm, has_rdrop, hds = _rdrop(recurrent_mask, seq, u, dtype)
    ret_seq, zero_out = bool(return_sequences), bool(zero_output_for_mask)
    ys = np.empty((n_b, n_t, u), dtype) if ret_seq else np.empty((1, 1, 1), dtype)
    proj.run(gru_forward, n_b, xp, r, np.ascontiguousarray(b2[1:2]), seq.mask, seq.has_mask,
             zero_out, ret_seq, a_code, ra_code, dtype == np.float32, rdm, has_rdrop, hs, hds,
             gates, rec, ys)
    y = ys if ret_seq else _last(hs[-1], seq, zero_out)
    need_dx = is_tracked(x)

    @in_parallel_region
    def vjp(dy):
        dmain, (dh_t,) = _unpack_grad(dy, n_t, ret_seq, 1, return_state)
        dh = np.zeros((n_b, u), dtype) if dh_t is None else np.array(dh_t, dtype=dtype)
        dys = _seq_grad(dmain, seq, ret_seq, zero_out, dh)
        dxp, drec = POOL.take(gates.shape, dtype), POOL.take(rec.shape, dtype)
        run_rows(gru_backward, n_b, dys, dh, np.ascontiguousarray(r.T), seq.mask, seq.has_mask,
                 zero_out, ret_seq, a_code, ra_code, rdm, has_rdrop, hs, gates, rec, dxp, drec)
        dx2 = dxp.reshape(n_t * n_b, 3 * u)
        dr2 = drec.reshape(n_t * n_b, 3 * u)
        (dw, db_in), dr, dx = _weight_products(seq, dx2, dr2, _h_prev(hs, hds, has_rdrop), w,
                                               bias is not None, need_dx)
        db = np.stack([db_in, column_sums(dr2)]) if bias is not None else None
        POOL.give([dxp, drec])
        return dx, _opt(h0, dh), dw, dr, db
    POOL.give_when_freed(vjp, [seq.x1, xp, hs, gates, rec] + [hds] * has_rdrop)
    return _finish(y, [hs[-1]], vjp, (x, h0, kernel, recurrent_kernel, bias), seq, ret_seq,
                   return_state, states_out)


@in_parallel_region
def simple_rnn(x, h0, kernel, recurrent_kernel, bias, mask=None, go_backwards=False,
               return_sequences=False, return_state=False, zero_output_for_mask=False,
               a_code=0, states_out=None, recurrent_mask=None):
    """A Keras SimpleRNN `h = act(x·W + b + h₋₁·R)` over `x (B, T, F)`. Returns the output,
    or `[output, h]`."""
    w = kernel.value if type(kernel) is Variable else value(kernel)
    dtype = w.dtype
    r = _val(recurrent_kernel, dtype)
    u = r.shape[0]
    seq = _Sequence(x, mask, go_backwards, dtype)
    n_t, n_b = seq.t, seq.b
    proj = _Projection(seq, w, None if bias is None else _val(bias, dtype))
    xp = proj.steps
    hs = POOL.take((n_t + 1, n_b, u), dtype)
    hs[0] = _initial(h0, n_b, u, dtype)
    rdm, has_rdrop, hds = _rdrop(recurrent_mask, seq, u, dtype)
    ret_seq, zero_out = bool(return_sequences), bool(zero_output_for_mask)
    ys = np.empty((n_b, n_t, u), dtype) if ret_seq else np.empty((1, 1, 1), dtype)
    proj.run(simple_rnn_forward, n_b, xp, r, seq.mask, seq.has_mask, zero_out, ret_seq, a_code,
             dtype == np.float32, rdm, has_rdrop, hs, hds, ys)
    y = ys if ret_seq else _last(hs[-1], seq, zero_out)
    need_dx = is_tracked(x)

    @in_parallel_region
    def vjp(dy):
        dmain, (dh_t,) = _unpack_grad(dy, n_t, ret_seq, 1, return_state)
        dh = np.zeros((n_b, u), dtype) if dh_t is None else np.array(dh_t, dtype=dtype)
        dys = _seq_grad(dmain, seq, ret_seq, zero_out, dh)
        da = POOL.take((n_t, n_b, u), dtype)
        run_rows(simple_rnn_backward, n_b, dys, dh, np.ascontiguousarray(r.T), seq.mask,
                 seq.has_mask, zero_out, ret_seq, a_code, rdm, has_rdrop, hs, da)
        da2 = da.reshape(n_t * n_b, u)
        (dw, db), dr, dx = _weight_products(seq, da2, da2, _h_prev(hs, hds, has_rdrop), w,
                                            bias is not None, need_dx)
        POOL.give([da])
        return dx, _opt(h0, dh), dw, dr, db
    POOL.give_when_freed(vjp, [seq.x1, xp, hs] + [hds] * has_rdrop)
    return _finish(y, [hs[-1]], vjp, (x, h0, kernel, recurrent_kernel, bias), seq, ret_seq,
                   return_state, states_out)
