"""Utilities: label encoding, normalisation, seeding, sessions and plotting."""
from ..random import set_random_seed
from .numerical import normalize, to_categorical
from .plotting import plot_decision_boundary, plot_history
from .py_dataset import PyDataset, Sequence
from .session import clear_session
from .split import split_dataset, train_test_split
from ..models.steps import pack_x_y_sample_weight, unpack_x_y_sample_weight

__all__ = [
    "clear_session",
    "normalize",
    "pack_x_y_sample_weight",
    "plot_decision_boundary",
    "plot_history",
    "PyDataset",
    "Sequence",
    "set_random_seed",
    "split_dataset",
    "to_categorical",
    "train_test_split",
    "unpack_x_y_sample_weight",
]
