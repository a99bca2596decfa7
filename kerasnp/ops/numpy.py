"""`kerasnp.ops.numpy`: Keras 3's `keras.ops.numpy` namespace (the NumPy-like ops)."""

__all__ = []
