"""Automatic differentiation: the reverse-mode tape under `kerasnp.ops`.

`GradientTape` records ops; `record` is how an op puts its node on the tape (see `tape.py`).
"""
from .tape import (GradientTape, Tensor, is_tracked, record, recording, stop_recording,
                   unwrap)

__all__ = ["GradientTape", "Tensor", "is_tracked", "record", "recording", "stop_recording",
           "unwrap"]
