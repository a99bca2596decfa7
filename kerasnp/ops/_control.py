"""Control flow (Keras 3 names): eager Python over ops.

`cond`, `fori_loop` and `while_loop` simply run the Python functions; every op those functions
call is recorded on the tape as usual, so gradients flow through the branch taken and through
each iteration, with no special VJP. (On symbolic tensors, `cond` becomes a graph node that
runs the same Python when the model is called.)
"""
from ._dispatch import op, unwrap


@op
def cond(pred, true_fn, false_fn):
    """`true_fn()` if `pred` holds, else `false_fn()`."""
    return true_fn() if bool(unwrap(pred)) else false_fn()


@op
def fori_loop(lower, upper, body_fun, init_val):
    """`val = body_fun(i, val)` for `i` in `range(lower, upper)`, starting from `init_val`."""
    val = init_val
    for i in range(int(unwrap(lower)), int(unwrap(upper))):
        val = body_fun(i, val)
    return val


@op
def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """`loop_vars = body(*loop_vars)` while `cond(*loop_vars)` holds (at most
    `maximum_iterations` times). `loop_vars` is a tuple/list, or a single tensor; the result has
    the same form."""
    is_seq = isinstance(loop_vars, (tuple, list))
    state = tuple(loop_vars) if is_seq else (loop_vars,)
    n = 0
    while (maximum_iterations is None or n < maximum_iterations) and bool(unwrap(cond(*state))):
        state = body(*state)
        state = tuple(state) if isinstance(state, (tuple, list)) else (state,)
        n += 1
    return state if is_seq else state[0]


@op
def switch(index, branches, *operands):
    """`branches[index](*operands)`, the index clamped to the valid range (as Keras)."""
    i = min(max(int(unwrap(index)), 0), len(branches) - 1)
    return branches[i](*operands)


__all__ = ["cond", "fori_loop", "switch", "while_loop"]
