"""SwapEMAWeights: evaluate and save with the optimizer's exponential moving averages of the weights."""

__all__ = []
