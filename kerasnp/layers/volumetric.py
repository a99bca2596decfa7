"""Keras 3's 3-D (volumetric) layers and the convolutional LSTMs: re-exported by kerasnp.layers."""

__all__ = []
