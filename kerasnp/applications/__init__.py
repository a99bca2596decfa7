"""Ready-made model architectures, as in `keras.applications` (random initialization only).

`ResNet50`, `ResNet101`, `ResNet152` match Keras's layer for layer; `ResNet18`, `ResNet34` are
torchvision's basic-block networks. `resnet.preprocess_input` is Keras's ResNet preprocessing.
"""
from . import resnet
from .resnet import ResNet18, ResNet34, ResNet50, ResNet101, ResNet152

__all__ = ["ResNet18", "ResNet34", "ResNet50", "ResNet101", "ResNet152", "resnet"]
