"""`kerasnp.ops.image`: Keras 3's `keras.ops.image` namespace (channels-last images by default,
`data_format="channels_first"` accepted). Colour, crop/pad and resize ops are in
`_image_extra`; patches, blur and coordinate sampling in `_image_sample_extra`; sobel_edges,
ssim, extract_patches_3d and scale_and_translate in `_image_filter_extra`;
perspective_transform and elastic_transform in `_image_warp_extra`.
"""
from ._image_extra import *  # noqa: F401,F403
from ._image_sample_extra import *  # noqa: F401,F403
from ._image_filter_extra import *  # noqa: F401,F403
from ._image_warp_extra import *  # noqa: F401,F403
from . import _image_extra, _image_filter_extra, _image_sample_extra, _image_warp_extra

__all__ = sorted(_image_extra.__all__ + _image_sample_extra.__all__ + _image_filter_extra.__all__
                 + _image_warp_extra.__all__)
