"""`text_dataset_from_directory`, `image_dataset_from_directory`, `audio_dataset_from_directory`:
a folder of files (one subfolder per class) as a kerasnp dataset that `fit` takes.

Each returns a `DirectoryDataset` (a `PyDataset`) that reads one batch of files at a time, so a
folder larger than memory trains. Texts come as str arrays (for `TextVectorization` or an
`Input(dtype="string")`), images as float32 `(batch, height, width, channels)` resized with
kerasnp's `Resizing` (Keras's kernels; Pillow decodes the files, an optional dependency: the
`[image]` extra), audio as float32 `(batch, samples, channels)` in [-1, 1] from PCM `.wav` files
(the standard library's `wave`).
"""
import wave

import numpy as np

from .directory_index import DirectoryDataset, check_arguments, encode_labels, \
    index_directory, split
from .image_utils import pil_image

__all__ = ["audio_dataset_from_directory", "image_dataset_from_directory",
           "text_dataset_from_directory"]

IMAGE_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_COLOR_MODES = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}
_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "lanczos3", "lanczos5")


def _build(who, directory, labels, label_mode, class_names, batch_size, shuffle, seed,
           validation_split, subset, follow_links, verbose, formats, load):
    """The dataset(s) of one `*_dataset_from_directory` call (a list of two for subset='both')."""
    label_mode = check_arguments(who, labels, label_mode, class_names, batch_size, shuffle,
                                 seed, validation_split, subset)
    if shuffle and seed is None:
        seed = int(np.random.randint(1_000_000))
    paths, ids, class_names = index_directory(directory, labels, formats, class_names,
                                              shuffle, seed, follow_links, verbose, who)
    num_classes = len(class_names) if class_names is not None else 0
    encoded = encode_labels(ids, label_mode, num_classes, who)
    if not paths:
        raise ValueError(f"{who}: no files found in directory {directory!r}. Allowed formats: "
                         f"{formats}")

    def make(subset_name):
        p, y = split(np.asarray(paths, dtype=object), encoded, validation_split, subset_name,
                     verbose)
        if len(p) == 0:
            raise ValueError(f"{who}: the {subset_name} subset is empty (validation_split="
                             f"{validation_split} of {len(paths)} files).")
        return DirectoryDataset(list(p), y, load, batch_size, shuffle, seed, class_names)

    if subset == "both":
        return [make("training"), make("validation")]
    return make(subset)


# ----------------------------------------------------------------------------- text
def text_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None,
                                batch_size=32, max_length=None, shuffle=True, seed=None,
                                validation_split=None, subset=None, follow_links=False,
                                format="tf", verbose=True):
    """A dataset of `(texts, labels)` batches from the `.txt` files of a directory tree.

    Args:
        directory: with `labels="inferred"`, one subdirectory per class.
        labels: `"inferred"` (from the subdirectory names), None, or a list of integer labels
            in the alphanumeric order of the file paths.
        label_mode: `"int"` (int32 `(batch,)`), `"categorical"` (float32 one-hot), `"binary"`
            (float32 `(batch, 1)`, two classes) or None (texts only).
        class_names: the subdirectories to use, in label order (default: all, sorted).
        batch_size: texts per batch (None: single samples).
        max_length: keep at most this many characters of each text.
        shuffle, seed: shuffle the files (seeded: the order Keras gives), and reshuffle after
            each epoch.
        validation_split, subset: keep the last `validation_split` of the files for
            `subset="validation"`, the rest for `"training"`; `"both"` returns both datasets.
        follow_links: follow symbolic links to subdirectories.
        format: Keras's backend choice (`"tf"` or `"grain"`); kerasnp returns its own dataset
            either way.
        verbose: print how many files were found.

    Returns:
        A `DirectoryDataset` (`class_names` and `file_paths` attributes), or a list of two.

    Example:
        >>> import kerasnp as keras, os, tempfile
        >>> root = tempfile.mkdtemp()
        >>> for label in ("neg", "pos"):
        ...     os.makedirs(os.path.join(root, label))
        ...     with open(os.path.join(root, label, "a.txt"), "w") as f:
        ...         _ = f.write(f"a {label} review")
        >>> ds = keras.utils.text_dataset_from_directory(root, shuffle=False, verbose=False)
        >>> texts, labels = ds[0]
        >>> list(texts), labels.tolist(), ds.class_names
        (['a neg review', 'a pos review'], [0, 1], ['neg', 'pos'])
    """
    who = "text_dataset_from_directory"
    _check_format(format, who)
    if max_length is not None and (not isinstance(max_length, int) or max_length < 1):
        raise ValueError(f"{who}: `max_length` must be a positive int or None. Received: "
                         f"max_length={max_length!r}")

    def load(paths):
        texts = []
        for p in paths:
            with open(p, "rb") as f:
                text = f.read().decode("utf-8", errors="replace")
            texts.append(text[:max_length] if max_length else text)
        out = np.empty(len(texts), dtype=object)
        out[:] = texts
        return out
    return _build(who, directory, labels, label_mode, class_names, batch_size, shuffle, seed,
                  validation_split, subset, follow_links, verbose, (".txt",), load)


def _check_format(fmt, who):
    if fmt not in ("tf", "grain"):
        raise ValueError(f"{who}: `format` must be 'tf' or 'grain'. Received: format={fmt!r}")


# ----------------------------------------------------------------------------- images
def image_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                 class_names=None, color_mode="rgb", batch_size=32,
                                 image_size=(256, 256), shuffle=True, seed=None,
                                 validation_split=None, subset=None, interpolation="bilinear",
                                 follow_links=False, crop_to_aspect_ratio=False,
                                 pad_to_aspect_ratio=False, data_format=None, format="tf",
                                 verbose=True):
    """A dataset of `(images, labels)` batches from the image files (`.bmp .gif .jpeg .jpg
    .png`) of a directory tree. Needs Pillow (`pip install kerasnp[image]`).

    Args:
        color_mode: `"grayscale"`, `"rgb"` or `"rgba"` (1, 3 or 4 channels).
        image_size: `(height, width)` every image is resized to.
        interpolation: `"bilinear"`, `"nearest"`, `"bicubic"`, `"lanczos3"` or `"lanczos5"`.
        crop_to_aspect_ratio / pad_to_aspect_ratio: centre-crop / zero-pad each image to the
            aspect ratio of `image_size` before resizing (at most one of them).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        Others: as `text_dataset_from_directory`'s.

    Returns:
        A `DirectoryDataset` of float32 images (values 0-255), or a list of two.

    Example:
        >>> import kerasnp as keras
        >>> ds = keras.utils.image_dataset_from_directory(  # doctest: +SKIP
        ...     "flowers/", image_size=(64, 64), validation_split=0.2, subset="training",
        ...     seed=1)
    """
    who = "image_dataset_from_directory"
    _check_format(format, who)
    if color_mode not in _COLOR_MODES:
        raise ValueError(f"{who}: `color_mode` must be one of {sorted(_COLOR_MODES)}. "
                         f"Received: color_mode={color_mode!r}")
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"{who}: `interpolation` must be one of {_INTERPOLATIONS}. Received: "
                         f"interpolation={interpolation!r}")
    if data_format not in (None, "channels_last", "channels_first"):
        raise ValueError(f"{who}: `data_format` must be 'channels_last' or 'channels_first'. "
                         f"Received: data_format={data_format!r}")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError(f"{who}: only one of `crop_to_aspect_ratio` and `pad_to_aspect_ratio` "
                         "can be True.")
    try:
        height, width = (int(v) for v in image_size)
    except (TypeError, ValueError):
        height = width = 0
    if height < 1 or width < 1:
        raise ValueError(f"{who}: `image_size` must be (height, width) of positive ints. "
                         f"Received: image_size={image_size!r}")
    Image = pil_image(who)
    from ..layers import Resizing
    resize = Resizing(height, width, interpolation=interpolation,
                      crop_to_aspect_ratio=crop_to_aspect_ratio,
                      pad_to_aspect_ratio=pad_to_aspect_ratio)
    mode = _COLOR_MODES[color_mode]

    def load(paths):
        out = []
        for p in paths:
            with Image.open(p) as img:
                arr = np.asarray(img.convert(mode), dtype=np.float32)
            arr = arr[..., None] if arr.ndim == 2 else arr
            out.append(np.asarray(resize(arr[None]))[0])
        x = np.stack(out)
        return x.transpose(0, 3, 1, 2) if data_format == "channels_first" else x
    return _build(who, directory, labels, label_mode, class_names, batch_size, shuffle, seed,
                  validation_split, subset, follow_links, verbose, IMAGE_FORMATS, load)


# ----------------------------------------------------------------------------- audio
def audio_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                 class_names=None, batch_size=32, sampling_rate=None,
                                 output_sequence_length=None, ragged=False, shuffle=True,
                                 seed=None, validation_split=None, subset=None,
                                 follow_links=False, verbose=True):
    """A dataset of `(audio, labels)` batches from the PCM `.wav` files of a directory tree.

    Audio is float32 `(batch, samples, channels)` in [-1, 1]; clips shorter than the longest of
    their batch (or than `output_sequence_length`) are padded with zeros at the end, longer ones
    are cut to `output_sequence_length`.

    Args:
        sampling_rate: the rate every file must have (kerasnp does not resample; a file at
            another rate is an error naming it). None: any rate.
        output_sequence_length: the number of samples of every clip (None: the batch's longest).
        ragged: must be False (kerasnp has no ragged tensors).
        Others: as `text_dataset_from_directory`'s.

    Example:
        >>> import kerasnp as keras
        >>> ds = keras.utils.audio_dataset_from_directory(  # doctest: +SKIP
        ...     "speech_commands/", output_sequence_length=16000, batch_size=64)
    """
    who = "audio_dataset_from_directory"
    if ragged:
        raise ValueError(f"{who}: ragged=True is not supported (kerasnp has no ragged tensors); "
                         "clips are zero-padded to a common length instead.")
    for arg, v in (("sampling_rate", sampling_rate),
                   ("output_sequence_length", output_sequence_length)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
            raise ValueError(f"{who}: `{arg}` must be a positive int or None. Received: "
                             f"{arg}={v!r}")

    def load(paths):
        clips = [read_wav(p, sampling_rate, who) for p in paths]
        n = output_sequence_length or max(len(c) for c in clips)
        channels = max(c.shape[1] for c in clips)
        out = np.zeros((len(clips), n, channels), np.float32)
        for i, c in enumerate(clips):
            out[i, :min(n, len(c)), :c.shape[1]] = c[:n]
        return out
    return _build(who, directory, labels, label_mode, class_names, batch_size, shuffle, seed,
                  validation_split, subset, follow_links, verbose, (".wav",), load)


def read_wav(path, sampling_rate=None, who="read_wav"):
    """A PCM `.wav` file as float32 `(samples, channels)` in [-1, 1] (8-bit files are
    unsigned, 16/24/32-bit signed, as `tf.audio.decode_wav` reads them)."""
    try:
        with wave.open(str(path), "rb") as w:
            rate, width, channels = w.getframerate(), w.getsampwidth(), w.getnchannels()
            raw = w.readframes(w.getnframes())
    except (wave.Error, EOFError) as err:
        raise ValueError(f"{who}: {path!r} is not a PCM .wav file that can be read: "
                         f"{err}") from None
    if sampling_rate is not None and rate != sampling_rate:
        raise ValueError(f"{who}: {path!r} has sampling rate {rate}, not the requested "
                         f"{sampling_rate}; kerasnp does not resample audio.")
    if width == 1:
        x = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 3:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        x = (np.where(v >= 1 << 23, v - (1 << 24), v) / float(1 << 23)).astype(np.float32)
    elif width in (2, 4):
        dtype = np.dtype("<i2") if width == 2 else np.dtype("<i4")
        x = (np.frombuffer(raw, dtype) / float(1 << (8 * width - 1))).astype(np.float32)
    else:
        raise ValueError(f"{who}: {path!r} has {8 * width}-bit samples; 8, 16, 24 and 32-bit "
                         "PCM are read.")
    return x.reshape(-1, channels)
