"""Finite-difference gradient checks for layers and whole models (float64 central differences).

`layer_gradient_errors(layer, x)` takes the gradients of `sum(layer(x) * dy)` on a
`GradientTape` (input and each weight: the VJPs of the ops the layer runs) and compares them with
central differences. Layers that draw random numbers in training are re-seeded before every
call, so all calls see one mask.

`layer_gradient_report` and `model_gradient_report` (behind `layer.check_gradients(x)` and
`model.check_gradients(x, y)`) run the check on float64 copies of the weights, whatever dtype the
layer or model was built in, print a table with failures flagged and restore the original weights.
"""
import numpy as np

from .. import ops
from ..autodiff.tape import GradientTape, stop_recording, unwrap


def _forward(layer, x, training, seed):
    if hasattr(layer, "_rng"):
        layer._rng = np.random.default_rng(seed)
    with stop_recording():
        return unwrap(layer(x, training=training))


def _numeric(f, arr, eps, max_checks, rng):
    """Central differences of scalar f() w.r.t. entries of `arr` (modified in place, restored)."""
    flat = arr.reshape(-1)
    n = flat.size
    idx = np.arange(n) if n <= max_checks else rng.choice(n, max_checks, replace=False)
    num = np.zeros(len(idx))
    for k, i in enumerate(idx):
        old = flat[i]
        flat[i] = old + eps
        fp = f()
        flat[i] = old - eps
        fm = f()
        flat[i] = old
        num[k] = (fp - fm) / (2 * eps)
    return idx, num


def _rel_err(analytic, numeric):
    scale = max(np.max(np.abs(analytic), initial=0.0), np.max(np.abs(numeric), initial=0.0), 1e-8)
    return float(np.max(np.abs(analytic - numeric), initial=0.0) / scale)


def layer_gradient_errors(layer, x, dy=None, eps=1e-6, training=False, max_checks=60, seed=0,
                          check_input=True):
    """Max relative error of each gradient of `layer` at input `x` (float64 arrays expected).

    Returns:
        dict mapping `"input"` and each weight's name to its max relative error.
    """
    rng = np.random.default_rng(seed)
    x = np.array(x, dtype=np.float64)
    y = _forward(layer, x, training, seed)
    if dy is None:
        dy = rng.standard_normal(np.shape(y))
    weights = [v for v in layer.weights if v.trainable]
    if hasattr(layer, "_rng"):
        layer._rng = np.random.default_rng(seed)
    with GradientTape() as tape:
        tape.watch(x)
        objective = ops.sum(layer(x, training=training) * dy)
    dx, *dws = tape.gradient(objective, [x] + weights, unconnected_gradients="zero")
    grads = {v.name: g for v, g in zip(weights, dws)}

    def f():
        return float(np.sum(_forward(layer, x, training, seed) * dy))

    errors = {}
    if check_input and dx is not None:
        idx, num = _numeric(f, x, eps, max_checks, rng)
        errors["input"] = _rel_err(np.asarray(dx).reshape(-1)[idx], num)
    for v in layer.weights:
        if not v.trainable:
            continue
        idx, num = _numeric(f, v.value, eps, max_checks, rng)
        errors[v.name] = _rel_err(grads[v.name].reshape(-1)[idx], num)
    return errors


# -- reports ---------------------------------------------------------------------------------------
def _to_float64(variables):
    """Swap each variable's value and grad for float64 copies; return what `_restore` needs."""
    saved = []
    for v in variables:
        saved.append((v, v.value, v.grad))
        v.value = v.value.astype(np.float64)        # always a copy: originals are never touched
        v.grad = np.zeros_like(v.value)
    return saved


def _restore(saved):
    for v, value, grad in saved:
        v.value, v.grad = value, grad


def layer_gradient_report(layer, x, eps=1e-6, print_fn=None, tol=1e-5, training=False,
                          max_checks=60, seed=0):
    """Check `layer.backward` at input `x` against float64 central differences and print a table.

    The check runs on float64 copies of the layer's weights (a float32 layer works too); the
    original weight arrays, their values and dtype, and the layer's random generator are restored
    afterwards. An unbuilt layer is built from `x` first.

    Args:
        layer: the layer to check.
        x: a batch of inputs (integer inputs, as for `Embedding`, skip the input gradient).
        eps: finite-difference step.
        print_fn: called with each line of the table (default `print`).
        tol: largest max relative error that counts as a match.
        training: run forward in training mode (random layers see one fixed mask).
        max_checks: entries sampled per gradient.
        seed: seed of the random `dy` and of the sampled entries.

    Returns:
        dict mapping `"input"` and each trainable weight's name to its max relative error.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> layer = keras.layers.Dense(3)
        >>> errors = layer_gradient_report(layer, np.ones((2, 4)), print_fn=lambda line: None)
        >>> max(errors.values()) < 1e-6
        True
    """
    x = np.asarray(x)
    if not layer.built:
        layer._build_once((None,) + x.shape[1:])
    saved, rng = _to_float64(layer.weights), getattr(layer, "_rng", None)
    try:
        errors = layer_gradient_errors(layer, x, eps=eps, training=training,
                                       max_checks=max_checks, seed=seed,
                                       check_input=x.dtype.kind == "f")
    finally:
        _restore(saved)
        if rng is not None:
            layer._rng = rng
    shapes = {v.name: v.shape for v in layer.weights}
    shapes["input"] = x.shape
    rows = [(layer.name, name, shapes[name], err) for name, err in errors.items()]
    _print_report(f'Gradient check: layer "{layer.name}" ({type(layer).__name__})', rows, eps,
                  tol, print_fn)
    return errors


def model_gradient_report(model, x, y, eps=1e-6, print_fn=None, tol=1e-5, max_checks=20, seed=0):
    """Check every layer's backward inside a compiled model against float64 central differences.

    The analytic gradient is the model's own: forward, the compiled loss's gradient (the fused
    softmax/sigmoid + cross-entropy path included, exactly as in a training step), backward and the
    regularizers' gradients, without an optimizer step. It is compared, for up to `max_checks`
    random entries of each trainable weight, with `(L(w + eps) - L(w - eps)) / (2 eps)`, where `L`
    is the model's total loss (weight and activity penalties included). Everything runs in
    inference mode (`training=False`: Dropout is off and BatchNormalization uses its moving
    statistics) and in float64, on copies of the weights; the model's own weight arrays, values
    and dtypes are restored afterwards.

    Args:
        model: a compiled model.
        x, y: a (small) batch of inputs and targets.
        eps: finite-difference step.
        print_fn: called with each line of the table (default `print`).
        tol: largest max relative error that counts as a match (`FAIL` is printed above it).
        max_checks: entries sampled per weight.
        seed: seed of the sampled entries.

    Returns:
        dict mapping `(layer_name, weight_name)` to the max relative error of that gradient.
    """
    model._require_compiled("check_gradients")
    if not model.built:
        model._prepare_data(x, y, None, None, "check_gradients")   # builds the model from x
    saved = _to_float64(model.weights)
    rng = np.random.default_rng(seed)
    try:
        # The weights are float64 now, so the model casts x and float targets to float64.
        xs, ys, _ = model._prepare_data(x, y, None, None, "check_gradients")
        xa, ya = model._arg(xs), model._yarg(ys)
        model._prepare_training()
        grads = _model_gradients(model, xa, ya)

        def loss():
            with stop_recording():
                return float(unwrap(model.compute_loss(xa, ya, model(xa, training=False))))

        errors, rows = {}, []
        for layer, var in _trainable_by_layer(model):
            idx, num = _numeric(loss, var.value, eps, max_checks, rng)
            err = _rel_err(grads[id(var)].reshape(-1)[idx], num)
            errors[(layer.name, var.name)] = err
            rows.append((layer.name, var.name, var.shape, err))
    finally:
        _restore(saved)
    _print_report(f'Gradient check: model "{model.name}"', rows, eps, tol, print_fn)
    return errors


def _model_gradients(model, xa, ya):
    """The model's d(loss)/d(weight) as its training step computes them (fused logit gradients
    and regularizers included), in inference mode and without the optimizer update."""
    variables = model.trainable_variables
    with GradientTape() as tape:
        loss = model.compute_loss(xa, ya, model(xa, training=False))
    grads = tape.gradient(loss, variables, unconnected_gradients="zero")
    return {id(v): g for v, g in zip(variables, grads)}


def _trainable_by_layer(model):
    """(leaf layer, variable) for each trainable variable, nested models walked, each once."""
    wanted = {id(v) for v in model.trainable_variables}
    out, seen = [], set()

    def walk(m):
        for layer in dict.fromkeys(node.layer for node in m._nodes):
            if getattr(layer, "_nodes", None):
                walk(layer)
                continue
            for v in layer.trainable_weights:
                if id(v) in wanted and id(v) not in seen:
                    seen.add(id(v))
                    out.append((layer, v))

    walk(model)
    for v in model.trainable_variables:      # weights of the model itself (subclassed models)
        if id(v) not in seen:                # or of layers its structure graph did not show
            seen.add(id(v))
            out.append((_owner(model, v), v))
    return out


def _owner(layer, var):
    """The innermost layer whose own weights hold `var`."""
    for sub in layer._sublayers:
        if any(v is var for v in sub._all_weights()):
            return _owner(sub, var)
    return layer


def _print_report(title, rows, eps, tol, print_fn):
    """Keras-summary-like box: Layer | Weight | Shape | Max rel. error | OK."""
    header = ("Layer", "Weight", "Shape", "Max rel. error", "OK")
    cells = [(layer, name, str(tuple(shape)), f"{err:.2e}", "ok" if err <= tol else "FAIL")
             for layer, name, shape, err in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]

    def line(row):
        return "│" + "│".join(f" {c:>{w}} " if i == 3 else f" {c:<{w}} "
                               for i, (c, w) in enumerate(zip(row, widths))) + "│"

    def rule(l, m, r, h):
        return l + m.join(h * (w + 2) for w in widths) + r

    bad = [f"{r[0]}/{r[1]}" for r in cells if r[4] == "FAIL"]
    out = [f"{title}, float64 central differences, eps={eps:g}",
           rule("┏", "┳", "┓", "━"), line(header).replace("│", "┃"), rule("┡", "╇", "┩", "━"),
           *(line(r) for r in cells), rule("└", "┴", "┘", "─")]
    if bad:
        out.append(f" FAIL: {len(bad)} of {len(cells)} gradients exceed tol={tol:g}: "
                   + ", ".join(bad))
    else:
        worst = max((r[3] for r in rows), default=0.0)
        out.append(f" OK: all {len(cells)} gradients match (max rel. error {worst:.2e} "
                   f"<= tol={tol:g})")
    fn = print_fn or print
    for text in out:
        fn(text)
