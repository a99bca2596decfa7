"""Keras 3's image-augmentation and audio front-end layers: re-exported by kerasnp.layers."""
from .augment_color import (RandomColorDegeneration, RandomGrayscale, RandomHue, RandomInvert,
                            RandomSaturation, RandomSharpness)
from .augment_tone import AutoContrast, Equalization, RandomPosterization, Solarization
from .audio_mel import MelSpectrogram
from .audio_stft import STFTSpectrogram

__all__ = ["MelSpectrogram", "STFTSpectrogram", "AutoContrast", "Equalization", "RandomPosterization", "Solarization",
           "RandomColorDegeneration", "RandomGrayscale", "RandomHue", "RandomInvert",
           "RandomSaturation", "RandomSharpness"]
