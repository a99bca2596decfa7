"""Keras 3's image-augmentation and audio front-end layers: re-exported by kerasnp.layers."""

__all__ = []
