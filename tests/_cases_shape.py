"""Harness cases (see tests/test_layers.py) for the weightless shape layers: Permute,
RepeatVector, Identity. Lambda is tested in tests/test_merging.py: its config keeps only the
function's name, so the harness's plain `from_config(get_config())` round trip cannot apply."""
from kerasnp.layers.shape_utils import Identity, Permute, RepeatVector

CASES = {
    "permute_swap": (lambda: Permute((2, 1)), (3, 5), {}),
    "permute_3axes": (lambda: Permute((3, 1, 2)), (2, 3, 4), {}),
    "permute_identity": (lambda: Permute((1, 2)), (3, 2), {}),
    "repeat_vector": (lambda: RepeatVector(3), (5,), {}),
    "repeat_vector_once": (lambda: RepeatVector(1), (4,), {}),
    "identity": (lambda: Identity(), (6,), {}),
    "identity_3d": (lambda: Identity(), (2, 3, 2), {}),
}
