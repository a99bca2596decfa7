"""`DataParallel`: synchronous data-parallel training over MPI processes.

Every process runs the same script on the same data. Each global batch (`batch_size` rows, in
the same seeded shuffle everywhere) is cut into one contiguous shard per process; each process
runs the forward and backward pass on its shard with its loss scaled by `n_shard / n_batch`, so
the gradients summed over processes are the gradients of the global batch's mean loss. The sum
is ONE all-reduce of a fused buffer per step (every gradient, plus the scaled loss), and every
process applies the same optimizer update, so the weights stay identical.
"""
import math

import numpy as np

from ..autodiff.tape import unwrap
from . import _state
from ._metrics import reduce_metric_states

_MASK = (1 << 64) - 1


class DataParallel:
    """Data parallelism over MPI processes (Keras 3's `keras.distribution.DataParallel`).

    Launch the script with `mpiexec -n 4 python train.py` (or Slurm's `srun`); each process is
    one replica. Run without `mpiexec` (or with one process) it changes nothing.

    Args:
        device_mesh: accepted for Keras compatibility; the mesh is always the MPI processes.
        devices: accepted for Keras compatibility (must be None or the list of all processes).
        auto_shard_dataset: accepted for Keras compatibility; batches are always sharded.
        timeout: seconds a collective operation may wait for the other processes before
            raising `DistributionTimeoutError` (a failed or killed process).

    Example:
        >>> import kerasnp as keras
        >>> keras.distribution.set_distribution(keras.distribution.DataParallel())
        >>> keras.distribution.distribution().num_processes      # 1 without mpiexec
        1
        >>> keras.distribution.set_distribution(None)
    """

    def __init__(self, device_mesh=None, devices=None, auto_shard_dataset=True, timeout=300.0):
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or \
                not timeout > 0:
            raise ValueError(f"DataParallel: timeout must be a positive number of seconds. "
                             f"Received: timeout={timeout!r}")
        from . import initialize
        self.timeout = float(timeout)
        self.comm = initialize(timeout=self.timeout)
        self.num_processes = 1 if self.comm is None else self.comm.size
        self.process_id = 0 if self.comm is None else self.comm.rank
        self.device_mesh, self.auto_shard_dataset = device_mesh, auto_shard_dataset
        self._rows = None          # (rows of this process, rows of the batch) of a step
        self._buffers = {}

    def __repr__(self):
        return f"DataParallel(process {self.process_id} of {self.num_processes})"

    # -- collectives (the public extension points layers use) ------------------------------
    def all_reduce(self, buffer):
        """Sum a contiguous NumPy `buffer` over all processes, in place; returns it."""
        return buffer if self.comm is None else self.comm.all_reduce(buffer)

    def barrier(self):
        """Wait until every process gets here (with the timeout)."""
        if self.comm is not None:
            self.comm.barrier()

    def any(self, flag):
        """True on every process when `flag` is true on at least one."""
        if self.comm is None:
            return bool(flag)
        return bool(self.comm.all_reduce(np.array([1.0 if flag else 0.0]))[0] > 0)

    @property
    def is_chief(self):
        """Whether this process prints and writes files (process 0)."""
        return self.process_id == 0

    # -- the training engine's hooks -------------------------------------------------------
    def shard(self, model, source, training):
        """The batches of `source`, each cut to this process's contiguous shard; at the end of
        each pass the model's metrics are summed over processes."""
        from ..models.steps import StepsMixin
        if training and type(model).train_step is not StepsMixin.train_step:
            raise NotImplementedError(
                f"DataParallel: model '{model.name}' overrides train_step, whose gradients "
                "kerasnp cannot sum over processes. Use the built-in train_step (override "
                "compute_loss instead), or sum the gradients in your train_step with "
                "distribution().all_reduce.")
        if training:
            self.sync_model(model)
        return _ShardSource(source, self, training, model)

    def sync_model(self, model):
        """Give every process process 0's weights and shuffling generator (once per `fit`),
        so a script that did not seed each process alike still trains one model. Where they
        already agree (the same seed everywhere) nothing changes: adding zeros is exact."""
        weights = model.weights
        if weights:
            buf = np.concatenate([np.asarray(w.value, np.float64).reshape(-1) for w in weights])
            if not self.is_chief:
                buf[:] = 0.0
            self.comm.all_reduce(buf)
            at = 0
            for w in weights:
                size = w.value.size
                w.assign(buf[at:at + size].reshape(w.value.shape).astype(w.value.dtype))
                at += size
        rng = getattr(model, "_rng", None)
        state = getattr(getattr(rng, "bit_generator", None), "state", None)
        if state and state.get("bit_generator") == "PCG64":
            inner = state["state"]
            words = np.array([inner["state"] >> 64, inner["state"] & _MASK, inner["inc"] >> 64,
                              inner["inc"] & _MASK, state["has_uint32"], state["uinteger"]],
                             np.uint64)
            if not self.is_chief:
                words[:] = 0
            self.comm.all_reduce(words)
            w = [int(v) for v in words]
            rng.bit_generator.state = {"bit_generator": "PCG64",
                                       "state": {"state": (w[0] << 64) | w[1],
                                                 "inc": (w[2] << 64) | w[3]},
                                       "has_uint32": w[4], "uinteger": w[5]}

    def finish_train_step(self, model, tape, loss, variables, log, parts, x, y, y_pred, sw):
        """The rest of `train_step` after the forward pass: scaled gradients, one fused
        all-reduce, the same update everywhere, the local metric updates."""
        # a batch from a sharded fit: this process's share of it; else (train_on_batch) the
        # same whole batch on every process, whose gradients are then averaged
        n, total = self._rows or (_batch_rows(x), _batch_rows(x) * self.num_processes)
        scale = n / total
        local = unwrap(loss)
        value = float(local)
        grads = tape.gradient(loss, variables,
                              output_gradients=np.asarray(scale, np.result_type(local)))
        buf = self._buffer(variables, grads)
        at = 0
        for g in grads:
            if g is not None:
                buf[at:at + g.size] = g.reshape(-1)
                at += g.size
        buf[at] = scale * value
        self.comm.all_reduce(buf)
        global_loss = float(buf[at])
        if not math.isfinite(global_loss):
            log.undo()
            return {"loss": global_loss}      # same value on every process: all stop
        summed, at = [], 0
        for g in grads:
            if g is None:
                summed.append(None)
                continue
            summed.append(buf[at:at + g.size].reshape(g.shape))
            at += g.size
        from ..optimizers.base import NonFiniteUpdateError
        try:
            model.optimizer.apply(summed, variables)
        except NonFiniteUpdateError:
            log.undo()
            raise
        model._track_loss(value, parts, n)
        return model.compute_metrics(x, y, y_pred, sw)

    def _buffer(self, variables, grads):
        key = (id(variables), tuple(None if g is None else g.shape for g in grads))
        buf = self._buffers.get(key)
        if buf is None:
            size = sum(g.size for g in grads if g is not None) + 1
            dtype = np.result_type(*[g for g in grads if g is not None]) if size > 1 \
                else np.float64
            buf = self._buffers[key] = np.empty(size, dtype)
        return buf

    def reduce_metrics(self, model):
        """Sum the metrics' states over processes: `result()` is then the whole set's."""
        reduce_metric_states(model.metrics, self.comm)

    def agree_stop(self, model):
        """`model.stop_training` on every process when any callback set it on one."""
        model.stop_training = self.any(model.stop_training)

    def predict(self, model, x, **kwargs):
        """Each process predicts a contiguous part of `x`; every process gets all rows."""
        from ..models.data_sources import is_stream
        if is_stream(x):                       # a dataset or generator: each process runs all
            saved, _state.active = _state.active, None
            try:
                return model.predict(x, **kwargs)
            finally:
                _state.active = saved
        xs = model._cast_inputs(x, "predict")
        n = len(xs[0])
        bounds = [n * r // self.num_processes for r in range(self.num_processes + 1)]
        lo, hi = bounds[self.process_id], bounds[self.process_id + 1]
        counts = [bounds[r + 1] - bounds[r] for r in range(self.num_processes)]
        saved, _state.active = _state.active, None
        try:
            if not self.is_chief:
                kwargs["verbose"] = 0
            out = model.predict(model._arg([a[lo:hi] for a in xs]), **kwargs)
        finally:
            _state.active = saved
        if isinstance(out, (list, tuple)):
            return type(out)(self.comm.all_gather_rows(o, counts) for o in out)
        if isinstance(out, dict):
            return {k: self.comm.all_gather_rows(o, counts) for k, o in out.items()}
        return self.comm.all_gather_rows(out, counts)


def _batch_rows(x):
    while isinstance(x, (list, tuple)):
        x = x[0]
    if isinstance(x, dict):
        x = next(iter(x.values()))
    return len(unwrap(x))


class _ShardSource:
    """A batch source whose batches are cut to one process's rows (see `DataParallel.shard`)."""

    sharded = True

    def __init__(self, inner, dist, training, model):
        self.inner, self.dist, self.training, self.model = inner, dist, training, model
        self.steps = inner.steps

    def __getattr__(self, name):           # exhausted, n, ...: the wrapped source's
        return getattr(self.inner, name)

    def batches(self):
        size, rank = self.dist.num_processes, self.dist.process_id
        for xb, yb, swb in self.inner.batches():
            m = len(xb[0])
            lo, hi = m * rank // size, m * (rank + 1) // size
            if hi == lo:
                if self.training:
                    # m is the same on every process: all raise here, none waits
                    raise ValueError(
                        f"DataParallel: a training batch of {m} rows cannot give each of the "
                        f"{size} processes at least one row. Use a batch_size (and a number "
                        "of training samples modulo batch_size) of at least the number of "
                        "processes.")
                continue                   # evaluation: nothing to add from this process
            self.dist._rows = (hi - lo, m)
            yield ([a[lo:hi] for a in xb], None if yb is None else [t[lo:hi] for t in yb],
                   None if swb is None else swb[lo:hi])
            self.dist._rows = None

    def build_model(self):
        self.inner.build_model()

    def end_epoch(self):
        self.inner.end_epoch()
        self.dist.reduce_metrics(self.model)

    def close(self):
        self.inner.close()
