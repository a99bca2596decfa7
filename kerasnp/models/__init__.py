"""Models: `Model` (functional graphs) and `Sequential` (a stack of layers)."""
from .model import Model
from .sequential import Sequential
from .model_files import load_model, model_from_json
from .cloning import clone_model

__all__ = ["Model", "Sequential", "load_model", "model_from_json", "clone_model"]
