"""CTC forward-backward in log space (Graves et al., 2006): the loss of each sequence and its
gradient with respect to the logits, one sequence at a time.

`logp` holds log-softmax outputs `(batch, time, classes)` in float64; the extended label sequence
`l'` puts a blank before, between and after the `L` labels (length `S = 2L + 1`). `alpha[t, s]`
is the log-probability of all prefixes of length `t + 1` ending in `l'[s]`, `beta[t, s]` that
of the suffixes from `t` starting in `l'[s]` (both include the emission at `t`). With
`log P = logsumexp(alpha[T-1, S-1], alpha[T-1, S-2])`, the posterior of class `k` at `t` is
`exp(logsumexp_{s: l'[s] = k}(alpha + beta - logp[t, k]) - log P)` and the gradient of `-log P`
with respect to the logits is `softmax - posterior` (zero after the sequence's length). An
impossible alignment (labels too long for the sequence) gives `inf` and a zero gradient.
"""
import math

import numpy as np

from ._jit import jit

_NEG = -np.inf


@jit
def _lse(a, b):
    if a == _NEG:
        return b
    if b == _NEG:
        return a
    m = max(a, b)
    return m + math.log(math.exp(a - m) + math.exp(b - m))


@jit
def ctc_loss_grad(logp, targets, tlen, olen, blank, loss, grad, want_grad):
    """Fill `loss[b]` with `-log P(target_b | x_b)` and, when `want_grad`, `grad[b]` with its
    gradient with respect to the logits whose log-softmax is `logp`."""
    nb, nt, nc = logp.shape
    for b in range(nb):
        T = olen[b]
        L = tlen[b]
        S = 2 * L + 1
        ext = np.empty(S, dtype=np.int64)
        for s in range(S):
            ext[s] = blank if s % 2 == 0 else targets[b, s // 2]
        alpha = np.full((max(T, 1), S), _NEG)
        if T > 0:
            alpha[0, 0] = logp[b, 0, ext[0]]
            if S > 1:
                alpha[0, 1] = logp[b, 0, ext[1]]
        for t in range(1, T):
            for s in range(S):
                a = alpha[t - 1, s]
                if s >= 1:
                    a = _lse(a, alpha[t - 1, s - 1])
                # skip the blank between two different labels
                if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2]:
                    a = _lse(a, alpha[t - 1, s - 2])
                alpha[t, s] = a + logp[b, t, ext[s]] if a != _NEG else _NEG
        if T == 0:
            logP = 0.0 if L == 0 else _NEG
        else:
            logP = alpha[T - 1, S - 1]
            if S > 1:
                logP = _lse(logP, alpha[T - 1, S - 2])
        loss[b] = -logP
        if not want_grad:
            continue
        for t in range(nt):
            for k in range(nc):
                grad[b, t, k] = 0.0
        if logP == _NEG or T == 0:
            continue
        beta = np.full((T, S), _NEG)
        beta[T - 1, S - 1] = logp[b, T - 1, ext[S - 1]]
        if S > 1:
            beta[T - 1, S - 2] = logp[b, T - 1, ext[S - 2]]
        for t in range(T - 2, -1, -1):
            for s in range(S):
                a = beta[t + 1, s]
                if s + 1 < S:
                    a = _lse(a, beta[t + 1, s + 1])
                if s + 2 < S and ext[s] != blank and ext[s] != ext[s + 2]:
                    a = _lse(a, beta[t + 1, s + 2])
                beta[t, s] = a + logp[b, t, ext[s]] if a != _NEG else _NEG
        post = np.empty(nc)
        for t in range(T):
            for k in range(nc):
                post[k] = _NEG
            for s in range(S):
                post[ext[s]] = _lse(post[ext[s]], alpha[t, s] + beta[t, s])
            for k in range(nc):
                occ = math.exp(post[k] - logp[b, t, k] - logP) if post[k] != _NEG else 0.0
                grad[b, t, k] = math.exp(logp[b, t, k]) - occ   # d(-log P)/dz = softmax - γ
