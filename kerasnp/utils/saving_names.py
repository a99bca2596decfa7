"""Keras's keras.utils spellings of the saving helpers (custom objects, (de)serialize_keras_object, registered names)."""

__all__ = []
