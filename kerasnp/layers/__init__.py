"""Layers: the building blocks of models (see `Layer` for the contract)."""
from .activation import ELU, LeakyReLU, PReLU, ReLU, Softmax
from .base import LAYERS, Layer
from .conv import Conv1D, Conv2D
from .conv_depthwise import DepthwiseConv2D, SeparableConv2D
from .core import Activation, Dense, Dropout, Flatten, Input, InputLayer, Reshape
from .embedding import Embedding
from .noise import GaussianNoise
from .normalization import LayerNormalization

__all__ = ["Activation", "Conv1D", "Conv2D", "Dense", "DepthwiseConv2D", "Dropout", "ELU", "Embedding", "Flatten", "GaussianNoise",
           "Input", "InputLayer", "Layer", "LayerNormalization", "LeakyReLU", "PReLU", "ReLU",
           "Reshape", "SeparableConv2D", "Softmax"]
