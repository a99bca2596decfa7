"""Keras 3's image-augmentation and audio front-end layers: re-exported by kerasnp.layers."""
from .augment_color import (RandomColorDegeneration, RandomGrayscale, RandomHue, RandomInvert,
                            RandomSaturation, RandomSharpness)
from .augment_tone import AutoContrast, Equalization, RandomPosterization, Solarization

__all__ = ["AutoContrast", "Equalization", "RandomPosterization", "Solarization",
           "RandomColorDegeneration", "RandomGrayscale", "RandomHue", "RandomInvert",
           "RandomSaturation", "RandomSharpness"]
