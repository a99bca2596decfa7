"""`kerasnp.ops.linalg`: Keras 3's `keras.ops.linalg` namespace."""

__all__ = []
