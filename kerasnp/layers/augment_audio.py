"""Keras 3's image-augmentation and audio front-end layers: re-exported by kerasnp.layers."""
from .augment_color import (RandomColorDegeneration, RandomGrayscale, RandomHue, RandomInvert,
                            RandomSaturation, RandomSharpness)

__all__ = ["RandomColorDegeneration", "RandomGrayscale", "RandomHue", "RandomInvert",
           "RandomSaturation", "RandomSharpness"]
