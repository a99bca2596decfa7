"""NumPy-like ops beyond the first set (Keras 3 names), with their VJPs: re-exported by kerasnp.ops."""

__all__ = []
