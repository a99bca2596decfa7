"""Models: `Model` (functional graphs and subclassing) and `Sequential`."""
from .model import Model
from .sequential import Sequential

__all__ = ["Model", "Sequential"]
