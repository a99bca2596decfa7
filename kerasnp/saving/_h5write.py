"""Writing Keras's HDF5 weights layout and the `.keras` zip around it.

Groups and datasets are created as Keras's `H5IOStore` creates them: one `vars` group per saved
object (model, layer, optimizer) carrying its `name` as an attribute, even when it holds no
variable, and one dataset per variable named by its position (`0`, `1`, ...), uncompressed.
"""
import datetime
import json
import tempfile
import zipfile

from ._h5read import h5py_module

KERAS_VERSION = "3.15.1"         # the Keras version whose layout this writes (metadata.json)
_COPY = 2**20


def write_h5(fileobj, groups):
    """Write `groups`, a list of `(vars group path, name, [arrays])`, as an HDF5 file."""
    h5py = h5py_module("<writing>")
    with h5py.File(fileobj, "w") as f:
        for path, name, arrays in groups:
            group = f.create_group(path)
            group.attrs["name"] = name
            for i, value in enumerate(arrays):
                group.create_dataset(str(i), data=value)


def write_keras_zip(fp, config_json, groups):
    """Write a Keras 3 `.keras` archive into the open binary file `fp`."""
    from .. import __version__
    meta = json.dumps({"keras_version": KERAS_VERSION, "kerasnp_version": __version__,
                       "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")})
    with tempfile.TemporaryFile() as h5:
        write_h5(h5, groups)
        size = h5.seek(0, 2)
        h5.seek(0)
        with zipfile.ZipFile(fp, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            zf.writestr("metadata.json", meta)
            zf.writestr("config.json", config_json)
            info = zipfile.ZipInfo("model.weights.h5",
                                   date_time=datetime.datetime.now().timetuple()[:6])
            with zf.open(info, "w", force_zip64=size > 2**31) as out:
                while True:
                    chunk = h5.read(_COPY)
                    if not chunk:
                        break
                    out.write(chunk)
