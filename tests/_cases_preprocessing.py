"""Harness cases (see tests/test_layers.py) for the preprocessing layers. In inference the random
image layers are the identity; the `training` cases check their resampling and its adjoint (the
harness re-seeds the layer's generator before every forward, so all calls see one draw).
Normalization is given its statistics here: an adapted one is tested in tests/test_preprocessing.py
(a clone made from its config alone has nothing to normalize with until its weights are set)."""
from kerasnp.layers.preprocessing import Normalization, Rescaling
from kerasnp.layers.preprocessing_image import RandomFlip, RandomRotation, RandomTranslation

CASES = {
    "rescaling": (lambda: Rescaling(1 / 255), (5,), {}),
    "rescaling_per_channel": (lambda: Rescaling([0.5, 2.0, -1.0], offset=[0.0, 1.0, 2.0]),
                              (2, 3), {}),
    "normalization_given": (lambda: Normalization(mean=[0.5, -1.0, 2.0],
                                                  variance=[4.0, 0.25, 1.0]), (3,), {}),
    "normalization_scalar_invert": (lambda: Normalization(axis=None, mean=2.0, variance=9.0,
                                                          invert=True), (2, 3), {}),
    "normalization_two_axes": (lambda: Normalization(axis=(1, 2), mean=[[0, 1, 2], [3, 4, 5]],
                                                     variance=[[1, 2, 3], [4, 5, 6]]),
                               (2, 3), {}),
    "random_flip_inference": (lambda: RandomFlip(), (4, 5, 2), {}),
    "random_flip": (lambda: RandomFlip(), (4, 5, 2), {"training": True}),
    "random_flip_vertical": (lambda: RandomFlip("vertical"), (3, 4, 1), {"training": True}),
    "random_translation_inference": (lambda: RandomTranslation(0.2, 0.3), (5, 6, 2), {}),
    "random_translation": (lambda: RandomTranslation(0.3, (-0.4, 0.2)), (5, 6, 2),
                           {"training": True}),
    "random_translation_constant_nearest": (
        lambda: RandomTranslation(0.5, 0.5, fill_mode="constant", interpolation="nearest",
                                  fill_value=1.5), (5, 4, 3), {"training": True}),
    "random_rotation_inference": (lambda: RandomRotation(0.2), (6, 6, 1), {}),
    "random_rotation": (lambda: RandomRotation(0.2), (6, 5, 2), {"training": True}),
    "random_rotation_wrap": (lambda: RandomRotation((-0.5, 0.5), fill_mode="wrap"), (5, 5, 1),
                             {"training": True}),
    "random_rotation_constant": (lambda: RandomRotation(0.3, fill_mode="constant",
                                                        fill_value=-2.0), (4, 6, 2),
                                 {"training": True}),
    "random_rotation_nearest_fill": (lambda: RandomRotation(0.4, fill_mode="nearest"), (5, 4, 1),
                                     {"training": True}),
}
