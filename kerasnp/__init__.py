"""kerasnp: Keras-compatible deep learning that trains on the CPU with NumPy and Numba.

Port a Keras script by changing its import line::

    import kerasnp as keras
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, activation="softmax")])
"""
__version__ = "0.1.0"

from . import (activations, applications, callbacks, config, constraints, data, datasets,
               distribution, export, initializers, layers, losses, metrics, models, ops,
               optimizers, random, regularizers, saving, utils, wrappers)
from .autodiff import GradientTape
from .layers import Input, InputLayer, Layer
from .models import Model, Sequential
from .random import set_random_seed
from .variables import Variable

__all__ = ["GradientTape", "Input", "InputLayer", "Layer", "Model", "Sequential", "Variable",
           "activations", "applications", "ops", "random", "callbacks", "config", "constraints",
           "data", "datasets", "distribution", "export", "initializers", "layers", "losses",
           "metrics", "models", "optimizers", "regularizers", "saving", "set_random_seed", "utils",
           "wrappers", "__version__"]
