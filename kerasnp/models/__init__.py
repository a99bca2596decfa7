"""Models: `Model` (functional graphs) and `Sequential` (a stack of layers)."""
from .model import Model
from .sequential import Sequential

__all__ = ["Model", "Sequential"]
