"""Keras 3's 3-D (volumetric) layers and the convolutional LSTMs: re-exported by kerasnp.layers."""
from .convlstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from .conv3d import Conv3D, Conv3DTranspose, Convolution3D, Convolution3DTranspose
from .pooling3d import (AveragePooling3D, AvgPool3D, GlobalAveragePooling3D, GlobalAvgPool3D,
                        GlobalMaxPool3D, GlobalMaxPooling3D, MaxPool3D, MaxPooling3D)
from .pooling_adaptive3d import AdaptiveAveragePooling3D, AdaptiveMaxPooling3D
from .reshaping3d import Cropping3D, SpatialDropout3D, UpSampling3D, ZeroPadding3D

__all__ = ["AdaptiveAveragePooling3D", "AdaptiveMaxPooling3D", "AveragePooling3D", "AvgPool3D",
           "Conv3D", "Conv3DTranspose", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "Convolution3D",
           "Convolution3DTranspose", "Cropping3D",
           "GlobalAveragePooling3D", "GlobalAvgPool3D", "GlobalMaxPool3D", "GlobalMaxPooling3D",
           "MaxPool3D", "MaxPooling3D", "SpatialDropout3D", "UpSampling3D", "ZeroPadding3D"]
