"""CTC: `ctc_loss` and `ctc_decode` (Keras 3 names) for sequence alignment, with the loss's VJP."""

__all__ = []
