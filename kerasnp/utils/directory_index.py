"""What the `*_dataset_from_directory` functions share: listing the files of a directory tree
with their labels (Keras's order and shuffling), the training/validation split, label encoding,
and `DirectoryDataset`, the `PyDataset` that reads one batch of files at a time.

Files are listed as Keras lists them: with `labels="inferred"` each subdirectory (in
alphanumeric order, or `class_names`'s) is a class and its files are found recursively, a
folder's own files before its subfolders'; the list is shuffled with `RandomState(seed)` (the
same permutation for paths and labels); `validation_split` keeps the last
`int(validation_split * n)` files for validation.
"""
import numbers
import os

import numpy as np

from .py_dataset import PyDataset

_LABEL_MODES = ("int", "categorical", "binary", None)
_SUBSETS = ("training", "validation", "both", None)


def check_arguments(who, labels, label_mode, class_names, batch_size, shuffle, seed,
                    validation_split, subset):
    """Validate the arguments every directory dataset shares (Keras's rules and messages)."""
    if not (labels in ("inferred", None) or isinstance(labels, (list, tuple))):
        raise ValueError(f"{who}: `labels` must be 'inferred', None, or a list/tuple of integer "
                         f"labels, one per file in alphanumeric order of the file paths. "
                         f"Received: labels={labels!r}")
    if class_names is not None and labels != "inferred":
        raise ValueError(f"{who}: you can only pass `class_names` if labels='inferred'. "
                         f"Received: labels={labels!r}, class_names={class_names!r}")
    if label_mode not in _LABEL_MODES:
        raise ValueError(f"{who}: `label_mode` must be one of 'int', 'categorical', 'binary' "
                         f"or None. Received: label_mode={label_mode!r}")
    if labels is None:
        label_mode = None
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(
            batch_size, numbers.Integral) or batch_size < 1):
        raise ValueError(f"{who}: `batch_size` must be a positive int or None. Received: "
                         f"batch_size={batch_size!r}")
    if not isinstance(shuffle, bool):
        raise TypeError(f"{who}: `shuffle` must be a bool. Received: shuffle={shuffle!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)
                             or seed < 0):
        raise ValueError(f"{who}: `seed` must be a non-negative int or None. Received: "
                         f"seed={seed!r}")
    if subset not in _SUBSETS:
        raise ValueError(f"{who}: `subset` must be 'training', 'validation', 'both' or None. "
                         f"Received: subset={subset!r}")
    if validation_split is not None and not (isinstance(validation_split, numbers.Real)
                                             and 0 < validation_split < 1):
        raise ValueError(f"{who}: `validation_split` must be between 0 and 1. Received: "
                         f"validation_split={validation_split!r}")
    if (validation_split is None) != (subset is None):
        raise ValueError(f"{who}: if `subset` is set, `validation_split` must be set, and "
                         f"inversely. Received: validation_split={validation_split!r}, "
                         f"subset={subset!r}")
    if validation_split and shuffle and seed is None:
        raise ValueError(f"{who}: if using `validation_split` and shuffling the data, you must "
                         "provide a `seed` argument, to make sure that there is no overlap "
                         "between the training and validation subset.")
    return label_mode


def index_directory(directory, labels, formats, class_names=None, shuffle=True, seed=None,
                    follow_links=False, verbose=True, who="index_directory"):
    """`(file_paths, labels or None, class_names or None)` of the files ending in `formats`."""
    if not os.path.isdir(directory):
        raise ValueError(f"{who}: `directory` {directory!r} is not a directory.")
    if labels == "inferred":
        subdirs = sorted(d for d in os.listdir(directory)
                         if os.path.isdir(os.path.join(directory, d)))
        if class_names is not None:
            missing = sorted(set(class_names) - set(subdirs))
            if missing or len(set(class_names)) != len(class_names):
                raise ValueError(f"{who}: `class_names` must name subdirectories of "
                                 f"{directory!r} (once each). Expected a subset of {subdirs}. "
                                 f"Received: class_names={list(class_names)}")
            subdirs = list(class_names)
        class_names = subdirs
    else:
        subdirs = [""]
    paths, label_ids = [], []
    for i, sub in enumerate(subdirs):
        found = _files(os.path.join(directory, sub) if sub else directory, formats,
                       follow_links)
        paths += found
        label_ids += [i] * len(found)
    if labels == "inferred":
        label_array = np.asarray(label_ids, dtype=np.int32)
        if verbose:
            print(f"Found {len(paths)} files belonging to {len(class_names)} classes.")
    elif labels is None:
        label_array, class_names = None, None
        if verbose:
            print(f"Found {len(paths)} files.")
    else:
        if len(labels) != len(paths):
            raise ValueError(f"{who}: expected the lengths of `labels` to match the number of "
                             f"files in the target directory. len(labels) is {len(labels)} "
                             f"while we found {len(paths)} files in directory {directory}.")
        label_array = np.asarray(labels)
        if label_array.dtype.kind not in "iu":
            raise ValueError(f"{who}: explicit `labels` must be integers. Received: "
                             f"{list(labels)[:5]}...")
        class_names = [str(c) for c in sorted(set(label_array.tolist()))]
        if verbose:
            print(f"Found {len(paths)} files belonging to {len(class_names)} classes.")
    if shuffle:
        seed = np.random.randint(1_000_000) if seed is None else seed
        np.random.RandomState(seed).shuffle(paths)
        if label_array is not None:
            np.random.RandomState(seed).shuffle(label_array)
    return paths, label_array, class_names


def _files(folder, formats, follow_links):
    """The files of `folder` ending in `formats` (case-insensitive), a folder's own files
    (sorted) before those of its subfolders (sorted), as Keras walks them."""
    out = []
    for root, dirs, files in os.walk(folder, followlinks=follow_links):
        dirs.sort()
        out += [os.path.join(root, f) for f in sorted(files) if f.lower().endswith(formats)]
    return out


def split(samples, labels, validation_split, subset, verbose=True):
    """The training or validation part (`subset`) of `samples` and `labels`."""
    if not validation_split:
        return samples, labels
    n_val = int(validation_split * len(samples))
    if subset == "training":
        if verbose:
            print(f"Using {len(samples) - n_val} files for training.")
        keep = slice(None, len(samples) - n_val)
    else:
        if verbose:
            print(f"Using {n_val} files for validation.")
        keep = slice(len(samples) - n_val, None)
    return samples[keep], (labels[keep] if labels is not None else None)


def encode_labels(labels, label_mode, num_classes, who):
    """Labels as Keras yields them: int32 `(n,)`, float32 one-hot `(n, k)` or `(n, 1)`."""
    if label_mode is None or labels is None:
        return None
    if label_mode == "binary":
        if num_classes != 2:
            raise ValueError(f"{who}: when passing `label_mode='binary'`, there must be exactly "
                             f"2 classes. Found the following {num_classes} classes.")
        return labels.astype(np.float32).reshape(-1, 1)
    if label_mode == "categorical":
        return np.eye(num_classes, dtype=np.float32)[labels]
    return labels.astype(np.int32)


class DirectoryDataset(PyDataset):
    """The dataset a `*_dataset_from_directory` function returns (a `PyDataset`: `fit`,
    `evaluate` and `predict` take it). Files are read one batch at a time by `load(paths)`;
    batches are `(inputs, labels)`, or inputs alone when there are no labels; single samples
    when `batch_size` is None. With `shuffle`, the order is reshuffled after every epoch.

    Attributes:
        class_names: the class names (None without labels), as Keras's `class_names`.
        file_paths: the files, in their first epoch's order.
    """

    def __init__(self, paths, labels, load, batch_size, shuffle, seed, class_names):
        super().__init__()
        self.file_paths = list(paths)
        self.class_names = class_names
        self.batch_size = batch_size
        self._labels, self._load, self._shuffle = labels, load, shuffle
        self._order = np.arange(len(self.file_paths))
        self._rng = np.random.RandomState(seed) if shuffle else None

    def __len__(self):
        if self.batch_size is None:
            return len(self.file_paths)
        return -(-len(self.file_paths) // self.batch_size)

    def __getitem__(self, index):
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, numbers.Integral) or \
                not 0 <= index < len(self):
            raise IndexError(f"The dataset has {len(self)} batches; index {index!r} is out of "
                             "range.")
        size = 1 if self.batch_size is None else self.batch_size
        rows = self._order[index * size:(index + 1) * size]
        x = self._load([self.file_paths[i] for i in rows])
        y = None if self._labels is None else self._labels[rows]
        if self.batch_size is None:
            x, y = x[0], (None if y is None else y[0])
        return x if y is None else (x, y)

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def on_epoch_end(self):
        if self._shuffle:
            self._rng.shuffle(self._order)
