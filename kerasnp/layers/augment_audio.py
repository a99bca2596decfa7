"""Keras 3's image-augmentation and audio front-end layers: re-exported by kerasnp.layers."""
from .audio_mel import MelSpectrogram
from .audio_stft import STFTSpectrogram
from .augment_clahe import ContrastLimitedAdaptiveHistogramEqualization
from .augment_color import (RandomColorDegeneration, RandomGrayscale, RandomHue, RandomInvert,
                            RandomSaturation, RandomSharpness)
from .augment_compound import AugMix, RandAugment
from .augment_filters import RandomColorJitter, RandomErasing, RandomGaussianBlur
from .augment_geometry import RandomElasticTransform, RandomPerspective, RandomShear
from .augment_mix import CutMix, MixUp
from .augment_tone import AutoContrast, Equalization, RandomPosterization, Solarization

__all__ = [
    "AugMix",
    "AutoContrast",
    "ContrastLimitedAdaptiveHistogramEqualization",
    "CutMix",
    "Equalization",
    "MelSpectrogram",
    "MixUp",
    "RandAugment",
    "RandomColorDegeneration",
    "RandomColorJitter",
    "RandomElasticTransform",
    "RandomErasing",
    "RandomGaussianBlur",
    "RandomGrayscale",
    "RandomHue",
    "RandomInvert",
    "RandomPerspective",
    "RandomPosterization",
    "RandomSaturation",
    "RandomSharpness",
    "RandomShear",
    "STFTSpectrogram",
    "Solarization",
]
