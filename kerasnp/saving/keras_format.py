"""Keras 3's own files: `.keras` models and `.weights.h5` weights, read and written by kerasnp.

A `.keras` file is a zip of `metadata.json` (`keras_version`, `date_saved`), `config.json` (the
model in Keras's serialization layout, with its `compile_config`) and `model.weights.h5` (see
`keras_format_layout`). Reading keeps kerasnp's guarantees: classes come only from kerasnp's
registries or `custom_objects`, `Lambda` layers are refused unless `safe_mode=False`, the zip
directory and JSON are checked as for `.kerasnp` files, every HDF5 dataset is checked against
the rebuilt model before it is read (`_h5read`), the model is built within the bytes its weights
file holds, and every problem raises one `ModelFileError` naming the file, member and layer.
Nothing is changed on a model before the whole file was read and found to fit. Writing is in
`keras_format_save` (re-exported here).
"""
import contextlib
import json
import re

from .._serializable import ConfigError
from .._weight_budget import weight_budget
from . import archive, checks
from ._h5read import H5Weights, member_file, open_weights_file
from .checks import ModelFileError, fail
from .keras_format_compile import apply_optimizer, compile_from_keras, optimizer_plan
from .keras_format_config import Builder, policy_names
from .keras_format_layout import entries, train_variables
from .keras_format_save import UnsupportedModel, save_model, save_weights, weight_groups

WEIGHTS_MEMBER = "model.weights.h5"
_MEMBERS = (re.compile(r"metadata\.json|config\.json|model\.weights\.(h5|npz)|assets/.*"),
            "a Keras '.keras' file holds metadata.json, config.json and model.weights.h5.")
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


# ----------------------------------------------------------------------------- file kinds
def is_hdf5(filepath):
    head, _ = archive.file_head(filepath)
    return head.startswith(_HDF5_MAGIC)


def is_keras_zip(filepath):
    """Whether `filepath` is a Keras 3 `.keras` zip rather than kerasnp's own (by content:
    Keras's members and metadata.json, not the extension). False for anything unreadable."""
    import zipfile
    try:
        with zipfile.ZipFile(filepath) as zf:
            names = zf.namelist()
            if WEIGHTS_MEMBER in names or "model.weights.npz" in names:
                return True
            if names.count("metadata.json") != 1:
                return False
            info = zf.getinfo("metadata.json")
            if info.file_size > 2**16:
                return False
            meta = json.loads(zf.read(info))
            return isinstance(meta, dict) and "keras_version" in meta and "format" not in meta
    except Exception:
        return False


class KerasArchive:
    """A validated, read-only view of a Keras `.keras` zip (use as a context manager)."""

    def __init__(self, filepath):
        self.source = str(filepath)
        self.zip, infos, size = archive.open_zip(self.source)
        try:
            present = checks.check_members(self.source, infos, size, allowed=_MEMBERS)
            self.infos = {i.filename: i for i in infos}
            for name in ("metadata.json", "config.json", WEIGHTS_MEMBER):
                if name not in present:
                    if name == WEIGHTS_MEMBER and "model.weights.npz" in present:
                        fail(self.source, "its weights are in Keras's NPZ layout "
                                          "(model.weights.npz), which kerasnp does not read; "
                                          "save it with the default weights_format='h5'.")
                    fail(self.source, f"the Keras archive has no {name}.")
            assets = sorted(n for n in present if n.startswith("assets/"))
            if assets:
                fail(self.source, "the model saves assets (e.g. a lookup vocabulary), which "
                                  f"kerasnp does not read from Keras files yet: {assets[0]}.")
            self.meta = self._json("metadata.json")
            self.config = self._json("config.json")
        except BaseException:
            self.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        if self.zip is not None:
            self.zip.close()
            self.zip = None

    def _json(self, name):
        info = self.infos[name]
        try:
            with self.zip.open(info) as fp:
                data = fp.read(info.file_size + 1)
        except Exception as err:
            fail(self.source, f"the member cannot be read ({type(err).__name__}: {err}); the "
                              "file is damaged.", name)
        if len(data) != info.file_size:
            fail(self.source, f"expected {info.file_size} bytes, read {len(data)}; the file "
                              "is damaged.", name)
        value = checks.parse_json(self.source, name, data)
        if not isinstance(value, dict):
            fail(self.source, "expected a JSON object.", name)
        return value

    def weights(self):
        """A context manager giving `H5Weights` over `model.weights.h5`."""
        return _opened(self)


@contextlib.contextmanager
def _opened(ka):
    with member_file(ka.source, ka.zip, ka.infos[WEIGHTS_MEMBER]) as fp:
        with H5Weights(ka.source, fp, WEIGHTS_MEMBER) as h5:
            yield h5


# ----------------------------------------------------------------------------- reading
def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Open a Keras 3 `.keras` file (see `kerasnp.saving.load_model`)."""
    with KerasArchive(filepath) as ka:
        src, cfg = ka.source, ka.config
        if checks.count_layers(cfg) > checks.MAX_LAYERS:
            fail(src, f"more than {checks.MAX_LAYERS} layer entries (checks.MAX_LAYERS).",
                 "config.json")
        budget = ka.infos[WEIGHTS_MEMBER].file_size
        names = policy_names(cfg)
        dtype = names.pop() if len(names) == 1 else None
        dtype = dtype if dtype in ("float16", "float32", "float64") else None
        builder = Builder(custom_objects, safe_mode, dtype)
        try:
            with weight_budget(budget, f"the weights file ({WEIGHTS_MEMBER}) can hold"), \
                    _floatx(dtype):
                model = _build(builder, cfg)
                cc = cfg.get("compile_config")
                if compile and isinstance(cc, dict) and cc.get("optimizer") is not None:
                    compile_from_keras(model, cc, custom_objects)
        except ConfigError as err:
            fail(src, str(err), "config.json")
        except ModelFileError:
            raise
        except Exception as err:
            fail(src, f"the model cannot be rebuilt ({type(err).__name__}: {err}).",
                 "config.json")
        with ka.weights() as h5:
            layout = _entries(src, model, builder.orders)
            plan = read_layout(h5, layout)
            opt_plan = None
            if getattr(model, "optimizer", None) is not None and model.compiled:
                train = train_variables(model, builder.orders)
                try:
                    opt_plan = optimizer_plan(h5, model, model.optimizer, train, "optimizer")
                except ConfigError as err:
                    fail(src, str(err), "config.json")
    apply_layout(plan)
    if opt_plan is not None:
        apply_optimizer(model.optimizer, opt_plan)
    return model


def load_weights(model, filepath):
    """Load Keras-layout weights (a `.weights.h5` file or a `.keras` zip) into `model`."""
    src = str(filepath)
    if is_hdf5(src):
        with open_weights_file(src) as h5:
            plan = read_layout(h5, _entries(src, model, None))
    else:
        with KerasArchive(src) as ka, ka.weights() as h5:
            plan = read_layout(h5, _entries(src, model, None))
    apply_layout(plan)


@contextlib.contextmanager
def _floatx(dtype):
    """Build the model's weights in `dtype` (the model's single dtype policy), if any."""
    from .. import config
    old = config.floatx()
    if dtype is not None:
        config.set_floatx(dtype)
    try:
        yield
    finally:
        config.set_floatx(old)


def _build(builder, cfg):
    from ..models.model import Model
    model = builder.layer(cfg, "model")
    if not isinstance(model, Model):
        raise ConfigError(f"{cfg.get('class_name')!r} is a layer, not a model.")
    if not model.built:
        shape = (cfg.get("build_config") or {}).get("input_shape")
        if not isinstance(shape, list):
            raise ConfigError(f"model '{model.name}' was saved unbuilt (no build_config "
                              "input_shape), so its weights cannot be placed.")
        model.build(tuple(shape))
    return model


def _entries(src, model, orders):
    try:
        return entries(model, orders)
    except ConfigError as err:
        fail(src, str(err))


def read_layout(h5, layout):
    """`[(variable, array)]` for every entry, each dataset checked before it is read."""
    plan = []
    for entry in layout:
        path = entry.vars_path
        group = h5.group(path)
        who = f"layer '{entry.name}' ({type(entry.layer).__name__})"
        n = len(entry.variables)
        if group is None:
            if n:
                h5.error(f"{who} has {n} weights but the file has no group for it; the "
                         "architectures differ.", path)
            continue
        keys = h5.keys(group, path)
        total = n + len(entry.extra)
        if sorted(keys) != sorted(str(i) for i in range(total)):
            shown = ", ".join(sorted(keys)[:8]) or "none"
            names = [v.name for v in entry.variables] + [name for name, _ in entry.extra]
            h5.error(f"{who} has {total} weights ({', '.join(names)}) but the file stores "
                     f"{len(keys)} ({shown}); the architectures differ.", path)
        for i, var in enumerate(entry.variables):
            kind = "f" if var.dtype.kind == "f" else "i"
            plan.append((var, h5.read(group, str(i), f"{path}/{i}", var.shape, kind,
                                      var.dtype, f"{who} weight '{var.name}'")))
        for i, (name, value) in enumerate(entry.extra, n):       # checked, not kept
            h5.read(group, str(i), f"{path}/{i}", value.shape, value.dtype.kind, value.dtype,
                    f"{who} variable '{name}'")
    return plan


def apply_layout(plan):
    for var, value in plan:
        var.value[...] = value


__all__ = ["KerasArchive", "UnsupportedModel", "is_hdf5", "is_keras_zip", "load_model",
           "load_weights", "read_layout", "save_model", "save_weights", "train_variables",
           "weight_groups"]
