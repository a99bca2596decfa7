"""`jvp` (Keras 3 name, in `ops` and `ops.linalg`): a Jacobian-vector product on the reverse-mode
tape. kerasnp has no forward mode, so each Jacobian row is one backward pass: exact, with a
cost of one pass per output element (fine for small outputs; prefer `GradientTape` otherwise).
"""
import numpy as np

from ..autodiff.tape import GradientTape, record, unwrap
from ._control_extra import _flatten
from ._dispatch import op


@op
def jvp(fun, primals, tangents, has_aux=False):
    """`(fun(*primals), J·tangents)` (and `aux` when `has_aux`: `fun` returns `(out, aux)`).

    Args:
        fun: a function of `len(primals)` arguments written with `kerasnp.ops`, returning a
            tensor or a structure of tensors.
        primals: tuple/list of the arguments (tensors or structures of them).
        tangents: same structure and shapes as `primals`.
        has_aux: whether `fun` returns `(output, auxiliary data)`.

    Example:
        >>> out, tangent = ops.jvp(ops.square, (np.array([1.0, 2.0]),), (np.ones(2),))
        >>> tangent
        array([2., 4.])
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise ValueError("jvp: primals and tangents must be tuples or lists of arguments. "
                         f"Received: primals of type {type(primals).__name__}, tangents of "
                         f"type {type(tangents).__name__}")
    p_leaves, p_rebuild = _flatten(list(primals))
    t_leaves, _ = _flatten(list(tangents))
    if len(p_leaves) != len(t_leaves):
        raise ValueError("jvp: tangents must have the structure of primals. Received "
                         f"{len(t_leaves)} tangent leaves for {len(p_leaves)} primal leaves")
    xs = [np.array(unwrap(p), dtype=np.result_type(unwrap(p), np.float32)) for p in p_leaves]
    ts = [np.asarray(unwrap(t)) for t in t_leaves]
    for x, t in zip(xs, ts):
        if x.shape != t.shape:
            raise ValueError(f"jvp: each tangent must have its primal's shape. Received "
                             f"tangent shape {t.shape} for primal shape {x.shape}")
    with GradientTape(persistent=True) as tape:
        tape.watch(xs)
        # Tape tensors (identity nodes), so Python operators inside `fun` record too.
        result = fun(*p_rebuild([record(x, lambda g: g, x) for x in xs]))
    out, aux = result if has_aux else (result, None)
    o_leaves, o_rebuild = _flatten(out)
    tangent_out = []
    for o in o_leaves:
        ov = np.asarray(unwrap(o))
        flat = np.zeros(ov.size, dtype=np.result_type(ov, np.float32))
        for i in range(ov.size):                       # row i of the Jacobian, dotted with t
            seed = np.zeros(ov.size, dtype=flat.dtype)
            seed[i] = 1.0
            grads = tape.gradient(o, xs, output_gradients=seed.reshape(ov.shape),
                                  unconnected_gradients="zero") if ov.size else []
            flat[i] = sum(float(np.vdot(g, t)) for g, t in zip(grads, ts))
        tangent_out.append(flat.reshape(ov.shape))
    values = o_rebuild([np.asarray(unwrap(o)) for o in o_leaves])
    tangents_out = o_rebuild(tangent_out)
    return (values, tangents_out, aux) if has_aux else (values, tangents_out)


__all__ = ["jvp"]
