"""Datasets: MNIST, Fashion-MNIST, CIFAR-10, IMDB and Reuters (cached, Keras's return conventions),
scikit-learn's 8x8 digits, and small synthetic 2-D problems."""
from . import cifar10, fashion_mnist, imdb, mnist, reuters
from .digits import load_digits
from .mnist import mnist_subset
from .synthetic import make_circle, make_moons, make_spiral

__all__ = ["cifar10", "fashion_mnist", "imdb", "load_digits", "make_circle", "make_moons",
           "make_spiral", "mnist", "mnist_subset", "reuters"]
