"""Utilities: label encoding, normalisation, seeding, sessions and plotting."""
from ..random import set_random_seed
from .numerical import normalize, to_categorical
from .plotting import plot_decision_boundary, plot_history
from .session import clear_session

__all__ = [
    "clear_session",
    "normalize",
    "plot_decision_boundary",
    "plot_history",
    "set_random_seed",
    "to_categorical",
]
