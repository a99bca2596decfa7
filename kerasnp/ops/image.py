"""`kerasnp.ops.image`: Keras 3's `keras.ops.image` namespace (channels-last images)."""

__all__ = []
