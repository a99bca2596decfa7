"""Functional control flow (Keras 3 names): map, scan, associative_scan, vectorized_map,
vectorize, custom_gradient.

Like `fori_loop`, the loops run the Python function eagerly and join the results with `stack`
/ `concatenate`, so the tape differentiates through every iteration with no special VJP.
`custom_gradient` is the exception: it records one node whose VJP is the user's gradient.
Structures of tensors (nested lists, tuples, dicts) are accepted where Keras accepts them.
"""
import inspect

import numpy as np

from ..autodiff.tape import is_tracked, record, stop_recording, unwrap
from ._dispatch import op, value
from ._indexing import get_item
from ._shape import concatenate, flip, reshape, stack


def _flatten(tree):
    """`(leaves, rebuild)` of a nested list/tuple/dict (anything else is a leaf)."""
    if isinstance(tree, (list, tuple)):
        parts = [_flatten(t) for t in tree]
        counts = [len(p[0]) for p in parts]

        def rebuild(leaves):
            out, i = [], 0
            for (_, rb), n in zip(parts, counts):
                out.append(rb(leaves[i:i + n]))
                i += n
            return type(tree)(out) if type(tree) in (list, tuple) else type(tree)(*out)
        return [leaf for p in parts for leaf in p[0]], rebuild
    if isinstance(tree, dict):
        keys = sorted(tree)
        leaves, rb = _flatten([tree[k] for k in keys])
        return leaves, lambda ls: dict(zip(keys, rb(ls)))
    return [tree], lambda ls: ls[0]


def _leading(leaves, name, axis=0):
    sizes = {int(np.shape(value(leaf))[axis]) for leaf in leaves}
    if len(sizes) != 1:
        raise ValueError(f"{name}: every input must have the same size along axis {axis}. "
                         f"Received sizes {sorted(sizes)}")
    return sizes.pop()


def _stack_results(results, name):
    """Stack a list of same-structure results leaf by leaf (along a new first axis)."""
    flat = [_flatten(r) for r in results]
    rebuild = flat[0][1]
    n = len(flat[0][0])
    if any(len(f[0]) != n for f in flat):
        raise ValueError(f"{name}: the function must return the same structure every call.")
    return rebuild([None if flat[0][0][k] is None else stack([f[0][k] for f in flat])
                    for k in range(n)])


@op
def map(f, xs):
    """`stack([f(x) for x in xs])` over the first axis of `xs` (a tensor or a structure of
    them, sliced together).

    Example:
        >>> ops.map(lambda x: x * 2, np.array([1.0, 2.0]))
        array([2., 4.])
    """
    leaves, rebuild = _flatten(xs)
    n = _leading(leaves, "map")
    if n == 0:
        raise ValueError("map: xs is empty along its first axis.")
    return _stack_results([f(rebuild([get_item(leaf, i) for leaf in leaves]))
                           for i in range(n)], "map")


@op
def vectorized_map(function, elements):
    """`function` applied to each slice along the first axis of `elements`, results stacked
    (an eager loop: the same as `map`)."""
    return map.raw(function, elements)


@op
def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """`carry, y = f(carry, x)` for each `x` along the first axis of `xs` (or `length` times
    with `x = None`); returns `(final_carry, stacked ys)`. `reverse=True` runs from the end
    (the ys stay in input order). `unroll` is accepted for Keras compatibility.

    Example:
        >>> ops.scan(lambda c, x: (c + x, c * x), 0.0, np.array([1.0, 2.0, 3.0]))
        (np.float64(6.0), array([0., 2., 9.]))
    """
    if xs is None:
        if length is None:
            raise ValueError("scan: pass xs or length. Received: xs=None, length=None")
        leaves, rebuild, n = [], None, int(length)
    else:
        leaves, rebuild = _flatten(xs)
        n = _leading(leaves, "scan")
        if length is not None and int(length) != n:
            raise ValueError(f"scan: length={length} differs from the size of xs' first axis "
                             f"({n}).")
    carry, ys = init, []
    for i in (range(n - 1, -1, -1) if reverse else range(n)):
        x = None if rebuild is None else rebuild([get_item(leaf, i) for leaf in leaves])
        out = f(carry, x)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise ValueError("scan: f must return a pair (carry, y). "
                             f"Received: {type(out).__name__}")
        carry, y = out
        ys.append(y)
    if reverse:
        ys.reverse()
    if not ys or all(leaf is None for leaf in _flatten(ys[0])[0]):
        return carry, None if not ys else ys[0]
    return carry, _stack_results(ys, "scan")


@op
def associative_scan(f, elems, reverse=False, axis=0):
    """The inclusive scan `out[i] = f(out[i-1], elems[i])` along `axis` for an associative
    `f` (elems a tensor or a structure of them). `f` receives slices that keep `axis` (size
    1), so an element-wise `f` (`ops.add`, `ops.maximum`...) works as in Keras.

    Example:
        >>> ops.associative_scan(ops.add, np.array([1.0, 2.0, 3.0]))
        array([1., 3., 6.])
    """
    leaves, rebuild = _flatten(elems)
    nd = np.ndim(value(leaves[0]))
    ax = axis % nd if nd else 0
    n = _leading(leaves, "associative_scan", ax)
    if reverse:
        leaves = [flip(leaf, ax) for leaf in leaves]

    def at(leaf, i):
        key = (slice(None),) * ax + (slice(i, i + 1),)
        return get_item(leaf, key)
    acc = [at(leaf, 0) for leaf in leaves]
    outs = [acc]
    for i in range(1, n):
        res = f(rebuild(acc), rebuild([at(leaf, i) for leaf in leaves]))
        acc, _ = _flatten(res)
        outs.append(acc)
    result = [concatenate([o[k] for o in outs], axis=ax) for k in range(len(leaves))]
    if reverse:
        result = [flip(r, ax) for r in result]
    return rebuild(result)


def _parse_signature(signature):
    """`([core dims per input], [core dims of the output])` from `"(m,n),(n)->(m)"`."""
    import re
    if not re.fullmatch(r"\s*(\(\w*(,\w+)*\)\s*,?\s*)*->\s*\(\w*(,\w+)*\)\s*", signature or ""):
        raise ValueError("vectorize: signature must look like '(m,n),(n)->(m)'. "
                         f"Received: signature={signature!r}")
    ins, out = signature.replace(" ", "").split("->")
    dims = [[d for d in g.split(",") if d] for g in re.findall(r"\(([^)]*)\)", ins)]
    return dims, [d for d in out.strip("()").split(",") if d]


@op
def vectorize(pyfunc, *, excluded=None, signature=None):
    """`pyfunc` turned into a function that loops over the broadcast leading ("loop") axes of
    its tensor arguments, as `np.vectorize`: with `signature="(n),(n)->()"` each call gets the
    core axes; without one, each call gets scalars. Arguments named in `excluded` (positions
    or names) are passed unchanged. Results are stacked, so the tape differentiates through.

    Example:
        >>> dot = ops.vectorize(lambda a, b: ops.sum(a * b), signature="(n),(n)->()")
        >>> dot(np.ones((3, 4)), np.ones(4))
        array([4., 4., 4.])
    """
    excluded = set(excluded or ())
    core, out_core = _parse_signature(signature) if signature is not None else (None, [])

    def wrapper(*args, **kwargs):
        pos = [i for i in range(len(args)) if i not in excluded]
        if core is not None and len(core) != len(pos):
            raise ValueError(f"vectorize: the signature names {len(core)} inputs but "
                             f"{len(pos)} were given. Received: signature={signature!r}")
        shapes = [np.shape(value(args[i])) for i in pos]
        ncore = [len(c) for c in core] if core is not None else [0] * len(pos)
        loops = [s[:len(s) - k] for s, k in zip(shapes, ncore)]
        loop = np.broadcast_shapes(*loops) if loops else ()
        results = []
        for idx in np.ndindex(*loop):
            call = list(args)
            for i, ls in zip(pos, loops):
                key = tuple(0 if d == 1 else j for d, j in zip(ls, idx[len(loop) - len(ls):]))
                call[i] = get_item(args[i], key) if key else args[i]
            results.append(pyfunc(*call, **kwargs))
        if not results:
            raise ValueError("vectorize: the loop dimensions are empty.")
        out = _stack_results(results, "vectorize")
        leaves, rebuild = _flatten(out)
        return rebuild([reshape(leaf, tuple(loop) + tuple(np.shape(value(leaf))[1:]))
                        for leaf in leaves])
    return wrapper


@op
def custom_gradient(f):
    """Decorator: `f(*args)` returns `(y, grad_fn)`; on a tape, `y` is recorded as one node
    whose VJP is `grad_fn(upstream)` (also accepted: `grad_fn(*args, upstream=None)` as in
    Keras's torch examples), returning one gradient per tensor argument. The ops inside `f`
    are not recorded.

    Example:
        >>> @ops.custom_gradient
        ... def clip_grad(x):
        ...     return x, lambda upstream: ops.clip(upstream, -1.0, 1.0)
    """
    def wrapper(*args, **kwargs):
        if not any(is_tracked(a) for a in args):
            y, _ = f(*args, **kwargs)
            return y
        with stop_recording():
            y, grad_fn = f(*args, **kwargs)
        params = inspect.signature(grad_fn).parameters
        by_name = "upstream" in params and params["upstream"].kind in (
            inspect.Parameter.KEYWORD_ONLY,)
        ys = y if isinstance(y, (tuple, list)) else (y,)

        def vjp_for(k):
            def vjp(dy):
                ups = [np.zeros_like(unwrap(o)) for o in ys]
                ups[k] = dy
                up = ups if isinstance(y, (tuple, list)) else ups[0]
                g = grad_fn(upstream=up) if by_name else (
                    grad_fn(*ups) if isinstance(y, (tuple, list)) else grad_fn(up))
                g = g if isinstance(g, (tuple, list)) else (g,)
                if len(g) != len(args):
                    raise ValueError(f"custom_gradient: grad_fn returned {len(g)} gradient(s) "
                                     f"for {len(args)} positional argument(s) of "
                                     f"{wrapper.__name__}; return one per argument.")
                return tuple(None if d is None else np.asarray(unwrap(d)) for d in g)
            return vjp
        outs = [record(np.asarray(unwrap(o)), vjp_for(k), *args) for k, o in enumerate(ys)]
        return type(y)(outs) if isinstance(y, (tuple, list)) else outs[0]
    wrapper.__name__ = getattr(f, "__name__", "custom_gradient")
    wrapper.__doc__ = f.__doc__
    return wrapper


__all__ = ["associative_scan", "custom_gradient", "map", "scan", "vectorize", "vectorized_map"]
