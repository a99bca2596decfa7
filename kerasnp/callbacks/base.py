"""The callback protocol: the `Callback` base class, `LambdaCallback` and the dispatcher."""


class Callback:
    """Base class: override any hook. `self.model` and `self.params` are set before training.

    `params` holds `verbose`, `epochs` and `steps` (batches per epoch). Every hook receives a
    `logs` dict (empty where there is nothing to report, never None). `on_batch_begin` /
    `on_batch_end` are Keras's aliases of `on_train_batch_begin` / `on_train_batch_end`: override
    either name.

    A callback with state that must survive an interruption (counters, best values) overrides
    `get_state()` (a JSON-able dict) and `set_state(state)`; `BackupAndRestore` saves and
    restores them with the model, so a resumed run continues exactly.
    """

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_train_batch_begin(self, batch, logs=None): pass
    def on_train_batch_end(self, batch, logs=None): pass
    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass


    def get_state(self):
        """State to save with a backup (JSON-able dict); override in stateful callbacks."""
        return {}

    def set_state(self, state):
        """Restore what `get_state` returned (called by BackupAndRestore on resume)."""


_HOOKS = [name for name in vars(Callback) if name.startswith("on_")]
_ALIASES = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end"}


class LambdaCallback(Callback):
    """A callback from plain functions: `LambdaCallback(on_epoch_end=lambda epoch, logs: ...)`.

    Accepts any hook name as a keyword argument (`on_epoch_begin`, `on_train_batch_end`,
    `on_batch_end` as an alias of `on_train_batch_end`, ...).
    """

    def __init__(self, **hooks):
        super().__init__()
        aliases = {"on_batch_begin": "on_train_batch_begin", "on_batch_end": "on_train_batch_end"}
        for key, fn in hooks.items():
            name = aliases.get(key, key)
            if name not in _HOOKS:
                raise ValueError(f"LambdaCallback: unknown hook '{key}'. "
                                 f"Valid: {', '.join(sorted(_HOOKS + list(aliases)))}.")
            if not callable(fn):
                raise TypeError(f"LambdaCallback: {key} must be callable. Received: {key}={fn!r}")
            setattr(self, name, fn)


class CallbackList:
    """Dispatches each hook to a list of callbacks, in list order.

    A callback whose class sets `_runs_last = True` (BackupAndRestore) is dispatched after all
    others, History included, so the state it saves at the end of an epoch is the complete state
    of that epoch (learning-rate changes, the History entry).
    """

    def __init__(self, callbacks, model, params):
        callbacks = list(callbacks)
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError("callbacks must be kerasnp.callbacks.Callback instances. "
                                f"Received: {cb!r}")
        self.callbacks = ([cb for cb in callbacks if not getattr(cb, "_runs_last", False)]
                          + [cb for cb in callbacks if getattr(cb, "_runs_last", False)])
        for cb in self.callbacks:
            cb.set_params(params)
            cb.set_model(model)
            if callable(getattr(cb, "set_callbacks", None)):
                cb.set_callbacks(self.callbacks)    # e.g. BackupAndRestore saves its siblings

    def __getattr__(self, hook):
        if not hook.startswith("on_"):
            raise AttributeError(hook)
        names = [hook] + ([_ALIASES[hook]] if hook in _ALIASES else [])
        fns = [getattr(cb, name) for cb in self.callbacks for name in names
               if getattr(type(cb), name, None) is not getattr(Callback, name, None)
               or name in vars(cb)]

        indexed = "batch" in hook or "epoch" in hook      # (index, logs) hooks

        def call(*args):
            if indexed:
                index, logs = args[0], (args[1] if len(args) > 1 else None)
                args = (index, {} if logs is None else logs)
            else:
                args = ({} if not args or args[0] is None else args[0],)
            for fn in fns:
                fn(*args)
        self.__dict__[hook] = call       # resolve each hook once
        return call
