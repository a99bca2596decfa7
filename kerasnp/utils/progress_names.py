"""Keras's keras.utils progress helpers (Progbar, interactive-logging switches)."""
from .interactive_logging import (disable_interactive_logging, enable_interactive_logging,
                                  is_interactive_logging_enabled)
from .progbar import Progbar

__all__ = ["Progbar", "disable_interactive_logging", "enable_interactive_logging",
           "is_interactive_logging_enabled"]
