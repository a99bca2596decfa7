"""Data loading: `DataLoader` batches any `Dataset` (an object with `__len__` and `__getitem__`
returning one `(x, y)` sample), the PyTorch-style pattern of the seed articles. A DataLoader is a
`PyDataset`, so `fit`, `evaluate` and `predict` take it directly."""
from .loader import DataLoader, Dataset

__all__ = ["DataLoader", "Dataset"]
