"""The weights tree of `KerasFileEditor`: Keras's HDF5 layout read into nested dicts, and back.

A group's `vars` datasets and its other groups become the entries of one dict (`layers/dense/
vars/0` is `tree["layers"]["dense"]["0"]`), as Keras's editor shows them. Nothing in the file is
trusted: every link must be a hard link, a dataset must be plain numbers of at most 8 bytes, not
virtual nor external, with at most `MAX_NDIM` axes, sane chunks, and all datasets together may
not claim more bytes than the file holds (Keras writes them uncompressed), all checked before an
element is read. Problems raise `ModelFileError` naming the file, member and HDF5 object.
Also here: the editor's checks of new weights, its comparison and its `.keras` zip writer.
"""
import re

import numpy as np

from . import checks
from ._h5read import MAX_CHUNK_BYTES, h5py_module

MAX_DEPTH = 64                   # nesting of groups read
_NAME_LIMIT = 1000               # characters of a `name` attribute kept


def natural_key(key):
    """'2' sorts before '10' (HDF5 lists names alphabetically)."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", key)]


class TreeReader:
    """Reads the whole weights file of `h5` (an `H5Weights`) within `budget` bytes of data."""

    def __init__(self, h5, budget):
        self.h5, self.budget, self.used = h5, budget, 0
        self.names = {}          # object path -> the `name` attribute of its vars group

    def read(self):
        return self._group(self.h5.file, "", 0)

    def _child(self, group, key, path):
        h5py = self.h5.h5py
        try:
            link = group.get(key, getlink=True)
            if not isinstance(link, h5py.HardLink):
                self.h5.error(f"'{key}' is a {type(link).__name__}; only hard links are read "
                              "(an external or soft link would open another file or object).",
                              path)
            obj = group[key]
        except checks.ModelFileError:
            raise
        except Exception as err:
            self.h5.error(f"the HDF5 object cannot be read ({type(err).__name__}: {err}).", path)
        if not isinstance(obj, (h5py.Group, h5py.Dataset)):
            self.h5.error(f"expected an HDF5 group or dataset, found {type(obj).__name__}.", path)
        return obj

    def _group(self, group, path, depth):
        if depth > MAX_DEPTH:
            self.h5.error(f"groups nested more than {MAX_DEPTH} deep; refused.", path)
        node = {}
        for key in sorted(self.h5.keys(group, path), key=natural_key):
            sub = f"{path}/{key}" if path else key
            obj = self._child(group, key, sub)
            if isinstance(obj, self.h5.h5py.Dataset):
                self._put(node, key, self._dataset(obj, sub), sub)
            elif key == "vars":
                self._vars(obj, sub, path, node)
            else:
                child = self._group(obj, sub, depth + 1)
                if child:        # objects without weights are left out, as Keras's editor does
                    self._put(node, key, child, sub)
        return node

    def _vars(self, group, vars_path, path, node):
        name = self._name_attr(group, vars_path)
        if name is not None:
            self.names[path] = name
        for key in sorted(self.h5.keys(group, vars_path), key=natural_key):
            sub = f"{vars_path}/{key}"
            obj = self._child(group, key, sub)
            if not isinstance(obj, self.h5.h5py.Dataset):
                self.h5.error("a 'vars' group holds only datasets; found a group.", sub)
            self._put(node, key, self._dataset(obj, sub), sub)

    def _put(self, node, key, value, path):
        if key in node:
            self.h5.error(f"'{key}' is both a weight and an object of the same group; refused "
                          "as ambiguous.", path)
        node[key] = value

    def _name_attr(self, group, path):
        try:
            name = group.attrs.get("name")
        except Exception:
            return None
        if isinstance(name, bytes):
            name = name.decode("utf-8", "replace")
        return name[:_NAME_LIMIT] if isinstance(name, str) else None

    def _dataset(self, ds, path):
        err = self.h5.error
        try:
            virtual, external = ds.is_virtual, ds.external
            shape, dtype, chunks = ds.shape, ds.dtype, ds.chunks
        except Exception as e:
            err(f"the dataset cannot be read ({type(e).__name__}: {e}).", path)
        if virtual or external:
            err(f"a {'virtual' if virtual else 'external'} dataset (its data would come from "
                "other files); refused.", path)
        if dtype.fields is not None or dtype.subdtype is not None or dtype.kind not in "fiub" \
                or dtype.itemsize > 8:
            err(f"the dataset has dtype {dtype}; a weight must be a plain number type (float, "
                "integer or bool of at most 8 bytes).", path)
        if shape is None or len(shape) > checks.MAX_NDIM or any(d < 0 for d in shape):
            err(f"the dataset has shape {shape}; expected at most {checks.MAX_NDIM} "
                "non-negative axes.", path)
        nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
        self.used += nbytes
        if self.used > self.budget:
            err(f"the datasets claim more than the {self.budget} bytes the weights file holds "
                f"(this one: shape {tuple(shape)}, {nbytes} bytes); the file is damaged or "
                "hostile.", path)
        if chunks is not None:
            chunk_bytes = int(np.prod(chunks, dtype=object)) * dtype.itemsize
            if chunk_bytes > max(nbytes, MAX_CHUNK_BYTES):
                err(f"HDF5 chunks of {chunk_bytes} bytes for {nbytes} bytes of data; refused.",
                    path)
        out = np.empty(shape, dtype.newbyteorder("="))
        try:
            if out.size:
                ds.read_direct(out)
        except Exception as e:
            err(f"the data cannot be read ({type(e).__name__}: {e}); the file is damaged.", path)
        return out


def write_tree(fileobj, tree, names):
    """Write `tree` in Keras's layout: each dict's arrays in its `vars` group (with the `name`
    attribute from `names`, keyed by object path), its dicts as subgroups."""
    h5py = h5py_module("<writing>")
    with h5py.File(fileobj, "w") as f:
        _write(f, tree, "", names)


def _write(f, node, path, names):
    arrays = [(k, v) for k, v in node.items() if not isinstance(v, dict)]
    if arrays:
        group = f.create_group(f"{path}/vars" if path else "vars")
        if path in names:
            group.attrs["name"] = names[path]
        for key, value in arrays:
            group.create_dataset(key, data=value)
    for key, value in node.items():
        if isinstance(value, dict) and value:
            _write(f, value, f"{path}/{key}" if path else key, names)


def object_paths(tree, prefix=""):
    """Every object (dict) path of `tree`, depth first."""
    out = []
    for key, value in tree.items():
        if isinstance(value, dict):
            path = f"{prefix}/{key}" if prefix else key
            out.append(path)
            out.extend(object_paths(value, path))
    return out


def find(tree, name, prefix=""):
    """`[(parent dict, key, path)]` of every entry (object or weight) whose key is `name`."""
    out = []
    for key, value in tree.items():
        path = f"{prefix}/{key}" if prefix else key
        if key == name:
            out.append((tree, key, path))
        if isinstance(value, dict):
            out.extend(find(value, name, path))
    return out


def checked_weights(where, weights):
    if not isinstance(weights, dict):
        raise ValueError(f"KerasFileEditor.{where}: `weights` must be a dict of weight name "
                         f"('0', '1', ...) to array. Received: type(weights)={type(weights)}")
    out = {}
    for key, value in weights.items():
        if not isinstance(key, str) or not key or "/" in key:
            raise ValueError(f"KerasFileEditor.{where}: weight names must be non-empty strings "
                             f"without '/'. Received: {key!r}")
        arr = np.asarray(value)
        if arr.dtype.kind not in "fiub" or arr.dtype.itemsize > 8:
            raise ValueError(f"KerasFileEditor.{where}: weight '{key}' must be an array of "
                             f"numbers. Received: dtype={arr.dtype}")
        out[key] = np.array(arr)     # a copy: later edits of the caller's array do not leak in
    return out


def compare_trees(target, ref, path, target_name, ref_name, seen):
    """Keras's editor's comparison, one direction: what `ref` has that `target` lacks or holds
    with another shape. Returns `(errors, matches)`; `seen` stops a mismatch counting twice."""
    errors = matches = 0
    for key, value in ref.items():
        sub = f"{path}/{key}"
        if sub in seen:
            continue
        if key not in target:
            errors += 1
            seen.add(sub)
            kind = "Object" if isinstance(value, dict) else "Weight"
            print(f"...{kind} {sub} present in {ref_name}, missing from {target_name}")
            if isinstance(value, dict):
                print(f"    In {ref_name}, {sub} contains the following keys: {list(value)}")
        elif isinstance(value, dict) != isinstance(target[key], dict):
            errors += 1
            seen.add(sub)
            print(f"...{sub} is an object in one and a weight in the other")
        elif isinstance(value, dict):
            e, m = compare_trees(target[key], value, sub, target_name, ref_name, seen)
            errors, matches = errors + e, matches + m
        elif tuple(target[key].shape) != tuple(np.shape(value)):
            errors += 1
            seen.add(sub)
            print(f"...Weight shape mismatch for {sub}\n    In {ref_name}: shape="
                  f"{tuple(np.shape(value))}\n    In {target_name}: shape={target[key].shape}")
        else:
            matches += 1
    return errors, matches


def write_zip(fp, config, meta, tree, names):
    import tempfile
    import zipfile
    with tempfile.TemporaryFile() as h5:
        write_tree(h5, tree, names)
        size = h5.seek(0, 2)
        h5.seek(0)
        with zipfile.ZipFile(fp, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            zf.writestr("metadata.json", meta)
            zf.writestr("config.json", config)
            with zf.open("model.weights.h5", "w", force_zip64=size > 2**31) as out:
                while True:
                    chunk = h5.read(2**20)
                    if not chunk:
                        break
                    out.write(chunk)
