"""Which model a wrapper fits: a fresh copy of the given model, or the one a callable builds.

A model instance is copied with `models.clone_model` (new layers, new random weights, a fresh
optimizer, the same compile arguments), as Keras's wrappers do, so fitting the wrapper never
changes the model the user passed and every fit starts from scratch. With `warm_start=True` the
given model itself is trained, and later fits continue from it.
"""


def make_model(est, X, y):
    """The compiled model that `est.fit` trains on `X` and encoded targets `y`."""
    from ..models import Model
    who = type(est).__name__
    if isinstance(est.model, Model):
        if est.model_kwargs:
            raise ValueError(f"{who}: model_kwargs are passed to a callable `model`, but model "
                             f"is the model instance '{est.model.name}'. Pass a function "
                             "model(X, y, **model_kwargs) that builds the model, or drop "
                             f"model_kwargs. Received: model_kwargs={est.model_kwargs!r}")
        model = est.model if est.warm_start else clone_compiled(est.model, who)
    elif callable(est.model):
        model = est.model(X=X, y=y, **(est.model_kwargs or {}))
        if not isinstance(model, Model):
            raise TypeError(f"{who}: the callable `model` must return a kerasnp Model. "
                            f"Received: {model!r} (type {type(model).__name__}) from "
                            f"{getattr(est.model, '__name__', est.model)!r}")
    else:
        raise TypeError(f"{who}: `model` must be a kerasnp Model or a callable "
                        "model(X, y, **model_kwargs) returning a compiled Model. "
                        f"Received: model={est.model!r} (type {type(est.model).__name__})")
    if not model.built:
        model.build((None,) + tuple(X.shape[1:]))
    if not model.compiled:
        # Keras raises here; kerasnp compiles with a loss that matches the wrapper's targets.
        model.compile(optimizer="adam", loss=est._default_loss_for(model))
    return model


def clone_compiled(model, who="clone"):
    """A fresh copy of `model` (same architecture, new weights), compiled like it with a fresh
    optimizer: `keras.models.clone_model`, as Keras's wrappers use."""
    from ..models import clone_model
    try:
        return clone_model(model)
    except Exception as err:
        raise ValueError(f"{who}: cannot copy model '{model.name}' ({type(model).__name__}) "
                         f"with clone_model ({type(err).__name__}: {err}). Pass a callable "
                         "that builds the model instead, or use warm_start=True to train this "
                         "model itself.") from err


def output_width(model):
    """Size of the last axis of the model's single output, or None if not known."""
    try:
        shape = model.output_shape
    except Exception:         # subclassed models without a traced structure
        return None
    if not isinstance(shape, tuple) or not shape or not isinstance(shape[-1], int):
        return None
    return shape[-1] if len(shape) > 1 else None


def loss_name(model):
    """The compiled loss's name in lower case ('' when unknown)."""
    loss = getattr(model, "loss", None)
    if isinstance(loss, str):
        return loss.lower()
    name = getattr(loss, "name", None) or getattr(loss, "__name__", None) or \
        type(loss).__name__
    return str(name).lower()
