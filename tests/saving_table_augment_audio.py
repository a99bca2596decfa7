"""Rows of the saving round trip (tests/test_saving.py) for the augmentation and audio layers."""
from kerasnp import layers as L

CASES = {
    "RandomGrayscale": (lambda: L.RandomGrayscale(0.5, seed=1), [(4, 4, 3)], False),
    "RandomInvert": (lambda: L.RandomInvert(0.8, value_range=(-3, 3)), [(4, 4, 2)], False),
    "RandomHue": (lambda: L.RandomHue(0.4, value_range=(-3, 3)), [(4, 4, 3)], False),
    "RandomSaturation": (lambda: L.RandomSaturation(0.6), [(4, 4, 3)], False),
    "RandomColorDegeneration": (lambda: L.RandomColorDegeneration(0.5), [(4, 4, 3)], False),
    "RandomSharpness": (lambda: L.RandomSharpness(0.5, value_range=(-3, 3)), [(4, 4, 2)],
                        False),
    "RandomPosterization": (lambda: L.RandomPosterization(5, value_range=(-3, 3)), [(4, 4, 2)],
                            False),
    "Solarization": (lambda: L.Solarization(0.2, (0.1, 0.6), value_range=(-3, 3)), [(4, 4, 2)],
                     False),
    "AutoContrast": (lambda: L.AutoContrast(value_range=(-3, 3)), [(4, 4, 2)], False),
    "Equalization": (lambda: L.Equalization(value_range=(-3, 3), bins=64), [(4, 4, 2)], False),
    "STFTSpectrogram": (lambda: L.STFTSpectrogram(mode="psd", frame_length=8, frame_step=3),
                        [(40, 2)], False),
    "MelSpectrogram": (lambda: L.MelSpectrogram(fft_length=16, sequence_stride=4,
                                                num_mel_bins=5, sampling_rate=1000),
                       [(48,)], False),
    "RandomShear": (lambda: L.RandomShear(0.3, (-0.2, 0.1), fill_mode="wrap"), [(5, 5, 1)],
                    False),
    "RandomPerspective": (lambda: L.RandomPerspective(0.8, 0.5, fill_value=1.0), [(5, 5, 2)],
                          False),
    "RandomElasticTransform": (lambda: L.RandomElasticTransform(value_range=(-3, 3)),
                               [(8, 8, 1)], False),
}
