"""Summing the state of metrics over processes, so `result()` is the global batch's.

A metric's state is what `reset_state` puts back: the variables of `add_variable` (combined
by their `aggregation`), or, for metrics keeping plain attributes (the Mean family's `total`
and `count`, the confusion counts' arrays), the float attributes that reset_state sets to 0.0
and the arrays it makes anew. These are additive for every built-in metric; a custom metric
whose state is not additive (a running max, say) needs variables with the right aggregation.
"""
import copy

import numpy as np


def _plain_state_names(metric):
    probe = copy.copy(metric)
    probe.__dict__ = dict(metric.__dict__)
    probe.reset_state()
    names = []
    for k, v in sorted(probe.__dict__.items()):
        old = metric.__dict__.get(k)
        if type(v) is float and v == 0.0 and type(old) is float:
            names.append(k)
        elif isinstance(v, np.ndarray) and isinstance(old, np.ndarray) and v is not old \
                and v.dtype.kind in "fiu":
            names.append(k)
    return names


def reduce_metric_states(metrics, comm):
    """Sum every metric's state over the processes of `comm` (one all-reduce for all)."""
    parts = []                  # (setter, array)
    for m in metrics:
        state = m.__dict__.get("_variable_state")
        if state:
            for var, _, agg in state:
                if agg in ("sum", "mean"):
                    scale = 1.0 / comm.size if agg == "mean" else 1.0
                    parts.append((lambda a, v=var, s=scale: v.assign(
                        (a * s).astype(v.value.dtype).reshape(v.value.shape)),
                        np.asarray(var.value, np.float64)))
            continue
        for name in _plain_state_names(m):
            old = m.__dict__[name]
            if type(old) is float:
                parts.append((lambda a, o=m, k=name: setattr(o, k, float(a[0])),
                              np.array([old])))
            else:
                parts.append((lambda a, o=m, k=name, d=old: setattr(
                    o, k, a.astype(d.dtype).reshape(d.shape)), np.asarray(old, np.float64)))
    if not parts:
        return
    buf = np.concatenate([a.reshape(-1) for _, a in parts])
    comm.all_reduce(buf)
    at = 0
    for setter, a in parts:
        setter(buf[at:at + a.size])
        at += a.size
