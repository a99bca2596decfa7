"""`KerasFileEditor`: inspect, edit and resave the weights of Keras 3 files (Keras's API).

Opens a `.keras` zip or a `.weights.h5` file with the checks of kerasnp's Keras-format reader
(`KerasArchive`, `_editor_tree`), holds the weights as nested dicts (`weights_dict`), edits them
by object name or path, and writes the result atomically: the old file is intact if anything
fails. Unlike Keras's editor, `save` also writes a `.keras` file (the original config with the
edited weights) when the editor was opened on one, and objects nested in a nested model are
kept (Keras's editor drops a group that has an empty `vars` group beside its layers).
"""
import json
import os

from . import archive
from ._editor_tree import TreeReader, checked_weights, compare_trees, find, natural_key, \
    object_paths, write_tree, write_zip
from ._h5read import open_weights_file
from .checks import ModelFileError
from .keras_format import KerasArchive, WEIGHTS_MEMBER

_SHOWN = 40                      # valid names listed in an error


class KerasFileEditor:
    """Inspect and edit the weights of a Keras 3 `.keras` or `.weights.h5` file.

    Useful to adapt a saved file to a changed architecture: rename, delete or add the weights
    of objects (layers, the optimizer), check the result against a model with `compare`, then
    `save` it. Object names are the keys of the file's layout (`"dense"`) or full paths
    (`"layers/dense"`); weights are named by position (`"0"`, `"1"`, ...).

    Args:
        filepath: Path of a `.keras` or `.weights.h5` file.

    Example:
        >>> editor = KerasFileEditor("model.keras")              # doctest: +SKIP
        >>> editor.summary()                                       # doctest: +SKIP
        >>> editor.rename_object("dense_3", "dense_2")             # doctest: +SKIP
        >>> editor.compare(model)["status"]                        # doctest: +SKIP
        'success'
        >>> editor.save("fixed.keras")                             # doctest: +SKIP
    """

    def __init__(self, filepath):
        self.filepath = os.fspath(filepath)
        self.metadata = self.config = None
        src = self.filepath
        if src.endswith(".keras"):
            with KerasArchive(src) as ka:
                self.metadata, self.config = ka.meta, ka.config
                budget = ka.infos[WEIGHTS_MEMBER].file_size
                with ka.weights() as h5:
                    reader = TreeReader(h5, budget)
                    self.weights_dict = reader.read()
        elif src.endswith(".weights.h5"):
            with open_weights_file(src) as h5:
                reader = TreeReader(h5, os.path.getsize(src))
                self.weights_dict = reader.read()
        else:
            raise ValueError("KerasFileEditor: expected a '.keras' or '.weights.h5' file. "
                             f"Received: filepath={src}")
        self.object_metadata = {p: {"name": n} for p, n in reader.names.items()}
        print(f"Keras model file '{src}'")
        if self.metadata is not None:
            print(f"Saved with Keras {self.metadata.get('keras_version')} - date: "
                  f"{self.metadata.get('date_saved')}")

    # ------------------------------------------------------------------ inspecting
    def summary(self):
        """Print the objects of the file and the shape and dtype of each weight."""
        print("\n".join(self._lines(self.weights_dict, "", "  ")))

    def _lines(self, node, path, indent):
        out = []
        for key, value in node.items():
            sub = f"{path}/{key}" if path else key
            if isinstance(value, dict):
                name = self.object_metadata.get(sub, {}).get("name")
                out.append(f"{indent}{key}" + (f" ('{name}')" if name else ""))
                out.extend(self._lines(value, sub, indent + "    "))
            else:
                out.append(f"{indent}{key}: shape={value.shape}, dtype={value.dtype}")
        return out

    def compare(self, reference_model):
        """Compare the file's weights with those `reference_model` saves, object by object.

        Prints every mismatch: an object or weight only one side has, or a shape that differs.

        Args:
            reference_model: A kerasnp model.

        Returns:
            A dict with `"status"` (`"success"` or `"error"`), `"error_count"` (mismatches) and
            `"match_count"` (weights of equal shape).
        """
        from .keras_format_save import weight_groups
        from .._serializable import ConfigError
        try:
            groups = weight_groups(reference_model, include_optimizer=True)
        except (ConfigError, AttributeError) as err:
            raise ValueError("KerasFileEditor.compare: the reference model's weights have no "
                             f"Keras layout ({err}). Received: {reference_model!r}") from None
        ref = {}
        for vars_path, _, arrays in groups:
            if not arrays:           # objects without weights are not compared, as in Keras
                continue
            node = ref
            for part in vars_path.split("/")[:-1]:
                node = node.setdefault(part, {})
            node.update((str(i), a) for i, a in enumerate(arrays))
        print("Running comparison")
        seen = set()
        errors, matches = compare_trees(self.weights_dict, ref, "", "saved file",
                                        "reference model", seen)
        errors += compare_trees(ref, self.weights_dict, "", "reference model", "saved file",
                                seen)[0]
        print("-" * 21)
        if errors:
            print(f"Found {errors} error{'s' * (errors != 1)}: saved file is not compatible "
                  "with the reference model")
        else:
            print("Comparison successful: saved file is compatible with the reference model\n"
                  f"    Found {matches} matching weight{'s' * (matches != 1)}")
        return {"status": "error" if errors else "success", "error_count": errors,
                "match_count": matches}

    # ------------------------------------------------------------------ editing
    def rename_object(self, object_name, new_name):
        """Rename an object (e.g. a layer) of the file.

        Args:
            object_name: Name (`"dense_2"`) or path (`"layers/dense_2"`) of the object.
            new_name: Its new name (not a path).
        """
        if not isinstance(new_name, str) or not new_name or "/" in new_name:
            raise ValueError("KerasFileEditor.rename_object: `new_name` must be a non-empty "
                             f"name without '/', not a path. Received: new_name={new_name!r}")
        parent, key, path = self._locate(object_name)
        if new_name in parent:
            raise ValueError(f"KerasFileEditor.rename_object: '{path}' cannot be renamed to "
                             f"'{new_name}': an entry of that name exists beside it "
                             f"({sorted(parent, key=natural_key)}).")
        parent[new_name] = parent.pop(key)
        new_path = path[:len(path) - len(key)] + new_name
        self._move_metadata(path, new_path)

    def delete_object(self, object_name):
        """Remove an object (e.g. a layer) and all its weights from the file.

        Args:
            object_name: Name (`"dense_2"`) or path (`"layers/dense_2"`) of the object.
        """
        parent, key, path = self._locate(object_name)
        del parent[key]
        self._move_metadata(path, None)

    def add_object(self, object_path, weights):
        """Add an object (e.g. a layer) with its weights (an existing one is replaced).

        Args:
            object_path: Path of the new object (`"layers/dense_2"`); its parent must exist.
            weights: Dict of weight name (`"0"`, `"1"`, ...) to array.
        """
        weights = checked_weights("add_object", weights)
        if not isinstance(object_path, str) or not object_path or \
                "" in object_path.split("/"):
            raise ValueError("KerasFileEditor.add_object: `object_path` must be a name or a "
                             f"path like 'layers/dense_2'. Received: object_path={object_path!r}")
        *parents, leaf = object_path.split("/")
        node = self.weights_dict
        for i, part in enumerate(parents):
            node = node.get(part)
            if not isinstance(node, dict):
                raise ValueError(f"KerasFileEditor.add_object: the parent object "
                                 f"'{'/'.join(parents[:i + 1])}' of '{object_path}' is not in "
                                 f"the file. Valid objects: {self._valid()}")
        self._move_metadata(object_path, None)
        node[leaf] = weights

    def delete_weight(self, object_name, weight_name):
        """Remove one weight of an object.

        Args:
            object_name: Name or path of the object (`"dense_2"`, `"layers/dense_2"`).
            weight_name: The weight's name (`"0"`, `"1"`, ...).
        """
        _, _, path, node = self._object(object_name)
        if weight_name not in node or isinstance(node[weight_name], dict):
            found = [k for k, v in node.items() if not isinstance(v, dict)]
            raise ValueError(f"KerasFileEditor.delete_weight: object '{path}' has no weight "
                             f"{weight_name!r}. Weights found: {found}")
        del node[weight_name]

    def add_weights(self, object_name, weights):
        """Add weights to (or replace weights of) an existing object.

        Args:
            object_name: Name or path of the object (`"dense_2"`, `"layers/dense_2"`).
            weights: Dict of weight name (`"0"`, `"1"`, ...) to array.
        """
        weights = checked_weights("add_weights", weights)
        _, _, path, node = self._object(object_name)
        clash = [k for k in weights if isinstance(node.get(k), dict)]
        if clash:
            raise ValueError(f"KerasFileEditor.add_weights: '{clash[0]}' is an object inside "
                             f"'{path}', not a weight; choose another weight name.")
        node.update(weights)

    # ------------------------------------------------------------------ writing
    def save(self, filepath):
        """Write the edited weights, atomically (the old file stays intact if this fails).

        Args:
            filepath: A `.weights.h5` path, or a `.keras` path when the editor was opened on a
                `.keras` file (its config and metadata are kept).
        """
        filepath = os.fspath(filepath)
        tree, names = self.weights_dict, {p: m["name"] for p, m in self.object_metadata.items()}
        if filepath.endswith(".weights.h5"):
            archive.atomic_file(filepath, lambda fp: write_tree(fp, tree, names))
        elif filepath.endswith(".keras") and self.config is not None:
            config = json.dumps(self.config).encode("utf-8")
            meta = json.dumps(self.metadata).encode("utf-8")
            archive.atomic_file(filepath, lambda fp: write_zip(fp, config, meta, tree, names))
        else:
            kinds = "'.weights.h5' or '.keras'" if self.config is not None else \
                "'.weights.h5' (the editor was opened on a weights file, which has no config)"
            raise ValueError(f"KerasFileEditor.save: expected a {kinds} path. "
                             f"Received: filepath={filepath}")

    def resave_weights(self, filepath):
        """Same as `save(filepath)`."""
        self.save(filepath)

    # ------------------------------------------------------------------ helpers
    def _valid(self):
        paths = object_paths(self.weights_dict)
        more = f" ... ({len(paths) - _SHOWN} more)" if len(paths) > _SHOWN else ""
        return ", ".join(paths[:_SHOWN]) + more if paths else "none"

    def _locate(self, name):
        """`(parent dict, key, path)` of the one entry called `name` (a name or a path)."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"KerasFileEditor: expected an object name or path. Received: "
                             f"{name!r}. Valid objects: {self._valid()}")
        if "/" in name:
            *parents, leaf = name.split("/")
            node = self.weights_dict
            for part in parents:
                node = node.get(part) if isinstance(node, dict) else None
            if not isinstance(node, dict) or leaf not in node:
                raise ValueError(f"KerasFileEditor: path '{name}' is not in the file. Valid "
                                 f"objects: {self._valid()}")
            return node, leaf, name
        hits = find(self.weights_dict, name)
        if not hits:
            raise ValueError(f"KerasFileEditor: no object named '{name}' in the file. Valid "
                             f"objects: {self._valid()}")
        if len(hits) > 1:
            raise ValueError(f"KerasFileEditor: the name '{name}' occurs {len(hits)} times "
                             f"({', '.join(h[2] for h in hits[:_SHOWN])}); pass a full path.")
        return hits[0]

    def _object(self, name):
        parent, key, path = self._locate(name)
        if not isinstance(parent[key], dict):
            raise ValueError(f"KerasFileEditor: '{path}' is a weight, not an object. Valid "
                             f"objects: {self._valid()}")
        return parent, key, path, parent[key]

    def _move_metadata(self, old, new):
        for path in [p for p in self.object_metadata if p == old or p.startswith(old + "/")]:
            meta = self.object_metadata.pop(path)
            if new is not None:
                self.object_metadata[new + path[len(old):]] = meta


__all__ = ["KerasFileEditor", "ModelFileError"]
