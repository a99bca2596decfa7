"""Layers: the building blocks of models (see `Layer` for the contract)."""
from .activation import ELU, LeakyReLU, PReLU, ReLU, Softmax
from .base import LAYERS, Layer
from .conv import Conv1D, Conv2D
from .conv_transpose import Conv1DTranspose, Conv2DTranspose
from .conv_depthwise import DepthwiseConv2D, SeparableConv2D
from .core import Activation, Dense, Dropout, Flatten, Input, InputLayer, Reshape
from .batch_norm import BatchNormalization
from .embedding import Embedding
from .masking import Masking
from .lookup import IntegerLookup, StringLookup
from .text_vectorization import TextVectorization
from .wrappers import TimeDistributed, Wrapper
from .attention import AdditiveAttention, Attention
from .attention_mha import MultiHeadAttention
from .rnn import RNN
from .rnn_cells import LSTMCell, SimpleRNNCell
from .rnn_cells_gru import GRUCell
from .rnn_stacked import StackedRNNCells
from .recurrent import GRU, LSTM, SimpleRNN
from .bidirectional import Bidirectional
from .pooling_adaptive import AdaptiveAveragePooling1D, AdaptiveMaxPooling1D
from .reshaping_1d import Cropping1D, UpSampling1D, ZeroPadding1D
from .merging import Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract
from .merging_functions import (add, average, concatenate, dot, maximum, minimum, multiply,
                                subtract)
from .shape_utils import Identity, Lambda, Permute, RepeatVector
from .global_pooling import (GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAvgPool1D,
                             GlobalAvgPool2D, GlobalMaxPool1D, GlobalMaxPool2D,
                             GlobalMaxPooling1D, GlobalMaxPooling2D)
from .pooling import (AveragePooling1D, AveragePooling2D, AvgPool1D, AvgPool2D, MaxPool1D,
                      MaxPool2D, MaxPooling1D, MaxPooling2D, MinPool1D, MinPool2D,
                      MinPooling1D, MinPooling2D)
from .preprocessing import Normalization, Rescaling
from .preprocessing_image import RandomFlip, RandomRotation, RandomTranslation
from .preprocessing_image_more import RandomBrightness, RandomContrast, RandomZoom
from .preprocessing_image_resize import CenterCrop, RandomCrop, Resizing
from .reshaping import Cropping2D, UpSampling2D, ZeroPadding2D
from .spatial_dropout import SpatialDropout1D, SpatialDropout2D
from .noise import GaussianNoise
from .normalization import LayerNormalization
from .serialization import deserialize, serialize
from . import augment_audio, more_core, volumetric
from .augment_audio import *  # noqa: F401,F403
from .more_core import *  # noqa: F401,F403
from .volumetric import *  # noqa: F401,F403

__all__ = ["Activation", "Add", "Average", "AveragePooling1D", "AveragePooling2D",
           "AvgPool1D", "AvgPool2D", "BatchNormalization", "Concatenate", "Conv1D",
           "Conv2D", "Conv2DTranspose", "Cropping2D", "Dense", "DepthwiseConv2D", "Dot",
           "Dropout", "ELU", "Embedding", "Flatten", "GaussianNoise",
           "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAvgPool1D",
           "GlobalAvgPool2D", "GlobalMaxPool1D", "GlobalMaxPool2D",
           "GlobalMaxPooling1D", "GlobalMaxPooling2D", "Identity", "Input",
           "InputLayer", "Lambda", "Layer", "LayerNormalization", "LeakyReLU",
           "MaxPool1D", "MaxPool2D", "MaxPooling1D", "MaxPooling2D", "Maximum",
           "MinPool1D", "MinPool2D", "MinPooling1D", "MinPooling2D", "Minimum",
           "Multiply", "Normalization", "PReLU", "Permute", "RandomFlip",
           "RandomRotation", "RandomTranslation", "ReLU", "RepeatVector", "Rescaling",
           "Reshape", "SeparableConv2D", "Softmax", "SpatialDropout1D",
           "SpatialDropout2D", "Subtract", "UpSampling2D", "ZeroPadding2D",
           "AdaptiveAveragePooling1D", "AdaptiveMaxPooling1D", "Bidirectional",
           "Conv1DTranspose", "Cropping1D", "Masking", "TimeDistributed", "UpSampling1D",
           "Wrapper", "ZeroPadding1D", "AdditiveAttention", "Attention",
           "MultiHeadAttention",
           "IntegerLookup", "StringLookup", "TextVectorization",
           "GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "SimpleRNN", "SimpleRNNCell",
           "StackedRNNCells",
           "add", "average", "concatenate", "dot", "maximum", "minimum", "multiply",
           "subtract", "CenterCrop", "RandomBrightness", "RandomContrast", "RandomCrop",
           "RandomZoom", "Resizing", "Convolution1D", "Convolution2D",
           "Convolution1DTranspose", "Convolution2DTranspose", "SeparableConvolution2D"]
__all__ += more_core.__all__ + volumetric.__all__ + augment_audio.__all__
__all__ += ["deserialize", "serialize"]

# Keras's long spellings of the convolution layers are the same classes.
Convolution1D, Convolution2D = Conv1D, Conv2D
Convolution1DTranspose, Convolution2DTranspose = Conv1DTranspose, Conv2DTranspose
SeparableConvolution2D = SeparableConv2D
