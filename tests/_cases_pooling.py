"""Harness cases (see tests/test_layers.py) for pooling, global pooling, BatchNormalization,
spatial reshaping and SpatialDropout. Inputs are standard normals, so max/min windows have no
near-ties and the finite differences see a smooth function."""
from kerasnp.layers.batch_norm import BatchNormalization
from kerasnp.layers.global_pooling import (GlobalAveragePooling1D, GlobalAveragePooling2D,
                                           GlobalMaxPooling1D, GlobalMaxPooling2D)
from kerasnp.layers.pooling import (AveragePooling1D, AveragePooling2D, MaxPooling1D,
                                    MaxPooling2D, MinPooling1D, MinPooling2D)
from kerasnp.layers.reshaping import Cropping2D, UpSampling2D, ZeroPadding2D
from kerasnp.layers.spatial_dropout import SpatialDropout1D, SpatialDropout2D

_BN = {"updates_in_training": True}                  # moving statistics move in a training step
_BN_TRAIN = {"training": True, "updates_in_training": True}

CASES = {
    # local pooling: even/odd sizes, stride > 1 and < pool (overlap), "same"/"valid", pool == input
    "maxpool2d": (lambda: MaxPooling2D(), (4, 6, 2), {}),
    "maxpool2d_odd_valid": (lambda: MaxPooling2D(2), (5, 5, 3), {}),
    "maxpool2d_same_odd": (lambda: MaxPooling2D(2, padding="same"), (5, 7, 2), {}),
    "maxpool2d_3x3_s2_same": (lambda: MaxPooling2D(3, strides=2, padding="same"), (6, 5, 2), {}),
    "maxpool2d_overlap_s1": (lambda: MaxPooling2D((3, 2), strides=1), (5, 4, 2), {}),
    "maxpool2d_nonsquare_s3": (lambda: MaxPooling2D((2, 3), strides=(2, 3), padding="same"),
                               (5, 7, 1), {}),
    "maxpool2d_whole_input": (lambda: MaxPooling2D((4, 3)), (4, 3, 2), {}),
    "minpool2d": (lambda: MinPooling2D(), (4, 4, 2), {}),
    "minpool2d_same_s3": (lambda: MinPooling2D(3, strides=3, padding="same"), (7, 8, 2), {}),
    "avgpool2d": (lambda: AveragePooling2D(), (4, 6, 2), {}),
    "avgpool2d_same_odd": (lambda: AveragePooling2D(3, strides=2, padding="same"), (5, 6, 2), {}),
    "avgpool2d_overlap_nonsquare": (lambda: AveragePooling2D((3, 2), strides=(1, 2)),
                                    (5, 5, 3), {}),
    "avgpool2d_whole_input": (lambda: AveragePooling2D((3, 5)), (3, 5, 2), {}),
    "maxpool1d": (lambda: MaxPooling1D(), (6, 3), {}),
    "maxpool1d_same_s3": (lambda: MaxPooling1D(4, strides=3, padding="same"), (7, 2), {}),
    "minpool1d": (lambda: MinPooling1D(3, strides=2), (9, 2), {}),
    "avgpool1d_same": (lambda: AveragePooling1D(3, padding="same"), (7, 2), {}),
    "avgpool1d_overlap": (lambda: AveragePooling1D(3, strides=1), (5, 3), {}),
    # global pooling
    "global_avgpool2d": (lambda: GlobalAveragePooling2D(), (3, 5, 4), {}),
    "global_avgpool2d_keepdims": (lambda: GlobalAveragePooling2D(keepdims=True), (4, 3, 2), {}),
    "global_maxpool2d": (lambda: GlobalMaxPooling2D(), (3, 4, 3), {}),
    "global_maxpool2d_keepdims": (lambda: GlobalMaxPooling2D(keepdims=True), (3, 3, 2), {}),
    "global_avgpool1d": (lambda: GlobalAveragePooling1D(), (5, 3), {}),
    "global_maxpool1d_keepdims": (lambda: GlobalMaxPooling1D(keepdims=True), (6, 2), {}),
    # batch normalization after Dense (2-D) and Conv2D (4-D), training and inference
    "bn_2d_train": (lambda: BatchNormalization(), (5,), _BN_TRAIN),
    "bn_2d_infer": (lambda: BatchNormalization(), (5,), _BN),
    "bn_4d_train": (lambda: BatchNormalization(momentum=0.9), (3, 4, 3), _BN_TRAIN),
    "bn_4d_infer": (lambda: BatchNormalization(epsilon=1e-2), (3, 4, 3), _BN),
    "bn_3d_axis1_train": (lambda: BatchNormalization(axis=1, gamma_regularizer="l2"),
                          (3, 4), _BN_TRAIN),
    "bn_no_scale_train": (lambda: BatchNormalization(scale=False), (2, 2, 3), _BN_TRAIN),
    "bn_no_center_infer": (lambda: BatchNormalization(center=False), (4,), _BN),
    "bn_plain_train": (lambda: BatchNormalization(center=False, scale=False), (4,), _BN_TRAIN),
    # spatial reshaping and spatial dropout
    "zero_padding2d": (lambda: ZeroPadding2D(), (3, 2, 2), {}),
    "zero_padding2d_asym": (lambda: ZeroPadding2D(((1, 0), (2, 3))), (2, 3, 1), {}),
    "cropping2d": (lambda: Cropping2D(((1, 0), (0, 2))), (4, 5, 2), {}),
    "cropping2d_int": (lambda: Cropping2D(1), (4, 3, 2), {}),
    "upsampling2d": (lambda: UpSampling2D(), (2, 3, 2), {}),
    "upsampling2d_nonsquare": (lambda: UpSampling2D((3, 1)), (2, 2, 3), {}),
    "spatial_dropout2d": (lambda: SpatialDropout2D(0.4), (3, 3, 6), {"training": True}),
    "spatial_dropout1d": (lambda: SpatialDropout1D(0.4), (4, 6), {"training": True}),
}
