"""Saving round-trip rows for the wider core family (kerasnp/layers/more_core.py)."""
from kerasnp import layers as L

CASES = {
    "GroupNormalization": (lambda: L.GroupNormalization(groups=2), [(3, 4)], False),
    "RMSNormalization": (lambda: L.RMSNormalization(), [(3, 4)], False),
    "UnitNormalization": (lambda: L.UnitNormalization(), [(4,)], False),
    "GaussianDropout": (lambda: L.GaussianDropout(0.3), [(6,)], False),
    "AlphaDropout": (lambda: L.AlphaDropout(0.3), [(6,)], False),
    "ActivityRegularization": (lambda: L.ActivityRegularization(l1=0.1), [(4,)], False),
    "AdaptiveAveragePooling2D": (lambda: L.AdaptiveAveragePooling2D((3, 2)), [(7, 5, 2)], False),
    "AdaptiveMaxPooling2D": (lambda: L.AdaptiveMaxPooling2D(3), [(7, 5, 2)], False),
    "DepthwiseConv1D": (lambda: L.DepthwiseConv1D(3, depth_multiplier=2), [(6, 2)], False),
    "SeparableConv1D": (lambda: L.SeparableConv1D(3, 2, padding="same"), [(6, 2)], False),
    "EinsumDense": (lambda: L.EinsumDense("abc,cde->abde", (None, 2, 3), bias_axes="de"),
                    [(4, 5)], False),
    "CategoryEncoding": (lambda: L.CategoryEncoding(10, output_mode="count"), [(4,)], True),
    "Hashing": (lambda: L.Hashing(5, salt=7, output_mode="multi_hot"), [(4,)], True),
    "HashedCrossing": (lambda: L.HashedCrossing(6), [(1,), (1,)], True),
    "Discretization": (lambda: L.Discretization([2.0, 5.0], output_mode="one_hot"), [(4,)],
                       True),
    "ReversibleEmbedding": (lambda: L.ReversibleEmbedding(10, 3, tie_weights=False), [(4,)],
                            True),
    "SpectralNormalization": (lambda: L.SpectralNormalization(L.Dense(3)), [(4,)], False),
    "Pipeline": (lambda: L.Pipeline([L.GaussianNoise(0.2), L.Dense(3)]), [(4,)], False),
}
# GroupQueryAttention takes query and value as separate arguments: its round trip is in
# tests/test_layers_core_more_attn.py. InputSpec is not a layer
# (tests/test_layers_core_more_misc.py).
NOT_IN_TABLE = {"GroupQueryAttention", "InputSpec"}
