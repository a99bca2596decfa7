"""Utilities: label encoding, normalisation, seeding, sessions, plotting (training curves and
model diagrams), sequence padding and time-series windows."""
from ..random import set_random_seed
from .numerical import normalize, to_categorical
from .plot_model import plot_model
from .plotting import plot_decision_boundary, plot_history
from .py_dataset import PyDataset, Sequence
from .sequence import pad_sequences
from .session import clear_session
from .split import split_dataset, train_test_split
from .timeseries import timeseries_dataset_from_array
from .feature_space import FeatureSpace
from .file_utils import get_file
from .tensor_utils import get_source_inputs, is_keras_tensor, standardize_dtype
from .directory_datasets import audio_dataset_from_directory, image_dataset_from_directory, \
    text_dataset_from_directory
from .image_utils import array_to_img, img_to_array, load_img, save_img
from . import progress_names, saving_names
from .progress_names import *  # noqa: F401,F403
from .saving_names import *  # noqa: F401,F403
from ..models.steps import pack_x_y_sample_weight, unpack_x_y_sample_weight

__all__ = [
    "array_to_img",
    "audio_dataset_from_directory",
    "clear_session",
    "FeatureSpace",
    "image_dataset_from_directory",
    "img_to_array",
    "load_img",
    "save_img",
    "text_dataset_from_directory",
    "get_file",
    "get_source_inputs",
    "is_keras_tensor",
    "standardize_dtype",
    "normalize",
    "pad_sequences",
    "pack_x_y_sample_weight",
    "plot_decision_boundary",
    "plot_history",
    "plot_model",
    "PyDataset",
    "Sequence",
    "set_random_seed",
    "split_dataset",
    "timeseries_dataset_from_array",
    "to_categorical",
    "train_test_split",
    "unpack_x_y_sample_weight",
]
__all__ += saving_names.__all__ + progress_names.__all__
