"""Datasets: MNIST (cached, with an offline fallback) and small synthetic 2-D problems."""
from . import mnist
from .mnist import mnist_subset
from .synthetic import make_circle, make_spiral

__all__ = ["mnist", "mnist_subset", "make_spiral", "make_circle"]
