"""Keras's image file helpers: `load_img`, `save_img`, `array_to_img`, `img_to_array`.

Images are Pillow images, imported only when one of these is called: Pillow is optional
(`pip install kerasnp[image]`).
"""
import numpy as np

__all__ = ["array_to_img", "img_to_array", "load_img", "save_img"]

_RESAMPLE = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")
_CHANNEL_MODES = {4: "RGBA", 3: "RGB"}


def pil_image(who):
    """Pillow's `Image` module, or an ImportError naming the extra that installs it."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(f"{who} needs Pillow to read and write images: install it with "
                          "`pip install kerasnp[image]` (or `pip install Pillow`).") from None
    return Image


def _data_format(data_format, who):
    if data_format is None:
        return "channels_last"
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"{who}: data_format must be 'channels_last' or 'channels_first'. "
                         f"Received: data_format={data_format!r}")
    return data_format


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """A Pillow image from a `(height, width, channels)` array (1, 3 or 4 channels).

    Args:
        x: the array (`(channels, height, width)` with `data_format="channels_first"`).
        scale: rescale the values to 0-255 (minimum to 0, maximum to 255) first.
        dtype: the dtype the array is converted to first (default `floatx()`).

    Example:
        >>> import numpy as np
        >>> from kerasnp.utils import array_to_img
        >>> array_to_img(np.zeros((4, 6, 3))).size        # doctest: +SKIP
        (6, 4)
    """
    from .. import config
    Image = pil_image("array_to_img")
    fmt = _data_format(data_format, "array_to_img")
    x = np.asarray(x, dtype=dtype or config.floatx())
    if x.ndim != 3:
        raise ValueError(f"Expected image array to have rank 3 (single image). Got array with "
                         f"shape: {x.shape}")
    if fmt == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        top = np.max(x)
        if top != 0:
            x = x / top
        x = x * 255
    channels = x.shape[2]
    if channels in _CHANNEL_MODES:
        return Image.fromarray(x.astype("uint8"), _CHANNEL_MODES[channels])
    if channels == 1:
        if np.max(x) > 255:                    # 32-bit integer grayscale
            return Image.fromarray(x[:, :, 0].astype("int32"), "I")
        return Image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"Unsupported channel number: {channels}")


def img_to_array(img, data_format=None, dtype=None):
    """A `(height, width, channels)` array (default dtype `floatx()`) from a Pillow image.

    Example:
        >>> from kerasnp.utils import array_to_img, img_to_array
        >>> import numpy as np
        >>> img_to_array(array_to_img(np.ones((2, 3, 1)))).shape     # doctest: +SKIP
        (2, 3, 1)
    """
    from .. import config
    fmt = _data_format(data_format, "img_to_array")
    x = np.asarray(img, dtype=dtype or config.floatx())
    if x.ndim == 2:
        x = x[:, :, None]
    elif x.ndim != 3:
        raise ValueError(f"Unsupported image shape: {x.shape}")
    return x.transpose(2, 0, 1) if fmt == "channels_first" else x


def load_img(path, color_mode="rgb", target_size=None, interpolation="nearest",
             keep_aspect_ratio=False):
    """Load an image file as a Pillow image.

    Args:
        path: the file (a path or a binary file object).
        color_mode: `"grayscale"`, `"rgb"` or `"rgba"`.
        target_size: `(height, width)` to resize to, or None.
        interpolation: Pillow's resampling: `"nearest"`, `"bilinear"`, `"bicubic"`,
            `"hamming"`, `"box"` or `"lanczos"`.
        keep_aspect_ratio: centre-crop to the aspect ratio of `target_size` before resizing.

    Example:
        >>> from kerasnp.utils import load_img
        >>> img = load_img("cat.png", target_size=(224, 224))   # doctest: +SKIP
    """
    Image = pil_image("load_img")
    if color_mode not in ("grayscale", "rgb", "rgba"):
        raise ValueError(f"load_img: color_mode must be 'grayscale', 'rgb' or 'rgba'. "
                         f"Received: color_mode={color_mode!r}")
    if interpolation not in _RESAMPLE:
        raise ValueError(f"load_img: interpolation must be one of {_RESAMPLE}. Received: "
                         f"interpolation={interpolation!r}")
    with Image.open(path) as opened:
        img = opened.copy() if hasattr(opened, "copy") else opened
    if color_mode == "grayscale":
        if img.mode not in ("L", "I;16", "I"):
            img = img.convert("L")
    elif img.mode != color_mode.upper():
        img = img.convert(color_mode.upper())
    if target_size is None:
        return img
    height, width = (int(v) for v in target_size)
    if img.size == (width, height):
        return img
    resample = getattr(getattr(Image, "Resampling", Image), interpolation.upper())
    box = None
    if keep_aspect_ratio:
        w, h = img.size
        cw, ch = min(w, h * width // height), min(h, w * height // width)
        left, top = (w - cw) // 2, (h - ch) // 2
        box = (left, top, left + cw, top + ch)
    return img.resize((width, height), resample=resample, box=box)


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Save an array as an image file (see `array_to_img`; `file_format` defaults to the
    extension's; `**kwargs` go to Pillow's `Image.save`). An RGBA array saved as JPEG loses
    its alpha channel.

    Example:
        >>> import numpy as np
        >>> from kerasnp.utils import save_img
        >>> save_img("noise.png", np.random.rand(8, 8, 3))   # doctest: +SKIP
    """
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and (file_format or str(path).rsplit(".", 1)[-1]).lower() in (
            "jpg", "jpeg"):
        img = img.convert("RGB")                     # JPEG has no alpha channel
    img.save(path, format=file_format, **kwargs)
