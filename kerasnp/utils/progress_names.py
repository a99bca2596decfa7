"""Keras's keras.utils progress helpers (Progbar, interactive-logging switches)."""

__all__ = []
