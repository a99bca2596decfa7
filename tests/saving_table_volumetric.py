"""Rows of the kerasnp-format save/load round trip (tests/test_saving.py) for the 3-D
(volumetric) layers and the convolutional LSTMs."""
from kerasnp import layers as L

CASES = {
    "Conv3D": (lambda: L.Conv3D(3, 2, strides=(1, 2, 1), activation="relu"), [(4, 5, 4, 2)],
               False),
    "Conv3DTranspose": (lambda: L.Conv3DTranspose(2, 3, strides=2, padding="same"),
                        [(2, 3, 2, 2)], False),
    "MaxPooling3D": (lambda: L.MaxPooling3D(2, padding="same"), [(3, 4, 5, 2)], False),
    "AveragePooling3D": (lambda: L.AveragePooling3D((2, 1, 2)), [(4, 3, 4, 2)], False),
    "GlobalMaxPooling3D": (lambda: L.GlobalMaxPooling3D(keepdims=True), [(3, 2, 4, 2)], False),
    "GlobalAveragePooling3D": (lambda: L.GlobalAveragePooling3D(), [(3, 2, 4, 2)], False),
    "AdaptiveAveragePooling3D": (lambda: L.AdaptiveAveragePooling3D((2, 1, 3)), [(5, 3, 4, 2)],
                                 False),
    "AdaptiveMaxPooling3D": (lambda: L.AdaptiveMaxPooling3D(2), [(5, 3, 4, 2)], False),
    "UpSampling3D": (lambda: L.UpSampling3D((1, 2, 3)), [(2, 2, 2, 2)], False),
    "ZeroPadding3D": (lambda: L.ZeroPadding3D(((1, 0), 2, (0, 1))), [(2, 2, 2, 2)], False),
    "Cropping3D": (lambda: L.Cropping3D(((1, 0), 1, (0, 2))), [(3, 4, 5, 2)], False),
    "SpatialDropout3D": (lambda: L.SpatialDropout3D(0.5, seed=3), [(2, 2, 2, 4)], False),
    "ConvLSTM1D": (lambda: L.ConvLSTM1D(2, 3, padding="same", dropout=0.3,
                                        recurrent_dropout=0.2, return_sequences=True),
                   [(3, 5, 2)], False),
    "ConvLSTM2D": (lambda: L.ConvLSTM2D(2, (2, 3), strides=(1, 2), go_backwards=True),
                   [(3, 4, 5, 2)], False),
    "ConvLSTM3D": (lambda: L.ConvLSTM3D(2, 2, padding="same", return_state=True),
                   [(2, 3, 2, 3, 1)], False),
}
