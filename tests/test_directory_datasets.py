"""text/image/audio_dataset_from_directory and the image file helpers. File orders, splits and
array_to_img values were checked with Keras 3.15 (its `index_directory` and
`get_training_or_validation_split`, and `keras.utils.array_to_img`)."""
import inspect
import os
import sys
import wave

import numpy as np
import pytest

import kerasnp as keras
from kerasnp import utils


@pytest.fixture
def text_dir(tmp_path):
    root = tmp_path / "texts"
    (root / "a" / "sub").mkdir(parents=True)
    (root / "b").mkdir()
    for i in range(1, 6):
        (root / "a" / f"f{i}.txt").write_text(f"a{i}")
        (root / "b" / f"g{i}.txt").write_text(f"b{i}")
    (root / "a" / "sub" / "h.txt").write_text("s")
    (root / "top.txt").write_text("top")
    (root / "b" / "skip.csv").write_text("not a text file")
    return root


def _rel(ds, root):
    return [os.path.relpath(p, root).replace(os.sep, "/") for p in ds.file_paths]


def test_signatures_match_keras():
    assert str(inspect.signature(utils.text_dataset_from_directory)) == (
        "(directory, labels='inferred', label_mode='int', class_names=None, batch_size=32, "
        "max_length=None, shuffle=True, seed=None, validation_split=None, subset=None, "
        "follow_links=False, format='tf', verbose=True)")
    assert str(inspect.signature(utils.image_dataset_from_directory)) == (
        "(directory, labels='inferred', label_mode='int', class_names=None, color_mode='rgb', "
        "batch_size=32, image_size=(256, 256), shuffle=True, seed=None, validation_split=None, "
        "subset=None, interpolation='bilinear', follow_links=False, crop_to_aspect_ratio=False, "
        "pad_to_aspect_ratio=False, data_format=None, format='tf', verbose=True)")
    assert str(inspect.signature(utils.audio_dataset_from_directory)) == (
        "(directory, labels='inferred', label_mode='int', class_names=None, batch_size=32, "
        "sampling_rate=None, output_sequence_length=None, ragged=False, shuffle=True, "
        "seed=None, validation_split=None, subset=None, follow_links=False, verbose=True)")
    assert str(inspect.signature(utils.load_img)) == (
        "(path, color_mode='rgb', target_size=None, interpolation='nearest', "
        "keep_aspect_ratio=False)")
    assert str(inspect.signature(utils.save_img)) == (
        "(path, x, data_format=None, file_format=None, scale=True, **kwargs)")


# ----------------------------------------------------------------------------- text
def test_text_order_labels_and_batches(text_dir, capsys):
    ds = utils.text_dataset_from_directory(str(text_dir), shuffle=False, batch_size=4)
    assert capsys.readouterr().out == "Found 11 files belonging to 2 classes.\n"
    assert _rel(ds, text_dir) == ["a/f1.txt", "a/f2.txt", "a/f3.txt", "a/f4.txt", "a/f5.txt",
                                  "a/sub/h.txt", "b/g1.txt", "b/g2.txt", "b/g3.txt",
                                  "b/g4.txt", "b/g5.txt"]
    assert ds.class_names == ["a", "b"] and len(ds) == 3
    texts, labels = ds[2]
    assert list(texts) == ["b3", "b4", "b5"] and labels.dtype == np.int32
    assert labels.tolist() == [1, 1, 1]
    with pytest.raises(IndexError):
        ds[3]


def test_text_seeded_shuffle_is_keras_order(text_dir):
    ds = utils.text_dataset_from_directory(str(text_dir), seed=3, verbose=False, batch_size=11)
    assert _rel(ds, text_dir) == ["a/sub/h.txt", "a/f5.txt", "a/f2.txt", "a/f3.txt",
                                  "b/g4.txt", "b/g1.txt", "b/g2.txt", "a/f1.txt", "a/f4.txt",
                                  "b/g3.txt", "b/g5.txt"]
    texts, labels = ds[0]
    assert labels.tolist() == [0, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1]
    assert all(t[0] == "ab"[l] or t == "s" for t, l in zip(texts, labels))
    ds.on_epoch_end()                                  # reshuffled, pairs kept
    texts2, labels2 = ds[0]
    assert sorted(zip(texts2, labels2.tolist())) == sorted(zip(texts, labels.tolist()))


def test_text_split_modes_and_options(text_dir, capsys):
    train, val = utils.text_dataset_from_directory(
        str(text_dir), validation_split=0.2, subset="both", seed=3, label_mode="categorical")
    out = capsys.readouterr().out
    assert "Using 9 files for training." in out and "Using 2 files for validation." in out
    assert _rel(val, text_dir) == ["b/g3.txt", "b/g5.txt"]          # the last int(0.2 * 11)
    assert not set(train.file_paths) & set(val.file_paths)
    _, y = val[0]
    np.testing.assert_array_equal(y, [[0.0, 1.0], [0.0, 1.0]])
    ds = utils.text_dataset_from_directory(str(text_dir), label_mode="binary", shuffle=False,
                                           class_names=["b", "a"], max_length=1,
                                           verbose=False, batch_size=None)
    text, label = ds[0]
    assert text == "b" and label.dtype == np.float32 and label.tolist() == [0.0]
    assert ds.class_names == ["b", "a"]
    ds = utils.text_dataset_from_directory(str(text_dir), labels=None, shuffle=False,
                                           verbose=False)
    assert list(ds[0])[0] == "top" and len(ds.file_paths) == 12      # texts only
    labels = list(range(12))
    ds = utils.text_dataset_from_directory(str(text_dir), labels=labels, shuffle=False,
                                           verbose=False)
    assert ds[0][1].tolist() == labels


@pytest.mark.parametrize("kwargs, match", [
    ({"label_mode": "sparse"}, "label_mode"),
    ({"validation_split": 0.2}, "subset"),
    ({"subset": "training"}, "validation_split"),
    ({"validation_split": 0.2, "subset": "training"}, "seed"),
    ({"validation_split": 1.5, "subset": "training", "seed": 1}, "between 0 and 1"),
    ({"class_names": ["a", "zzz"]}, "class_names"),
    ({"labels": None, "class_names": ["a"]}, "class_names"),
    ({"labels": [0, 1]}, "lengths of `labels`"),
    ({"labels": "folders"}, "labels"),
    ({"batch_size": 0}, "batch_size"),
    ({"format": "torch"}, "format"),
])
def test_text_argument_errors(text_dir, kwargs, match):
    with pytest.raises(ValueError, match=match):
        utils.text_dataset_from_directory(str(text_dir), verbose=False, **kwargs)


def test_binary_needs_two_classes(tmp_path):
    for c in "xyz":
        (tmp_path / c).mkdir()
        (tmp_path / c / "t.txt").write_text(c)
    with pytest.raises(ValueError, match="exactly 2 classes"):
        utils.text_dataset_from_directory(str(tmp_path), label_mode="binary", verbose=False)


# ----------------------------------------------------------------------------- images
def _png_dir(tmp_path, Image):
    rng = np.random.default_rng(0)
    arrays = {}
    for c in ("cat", "dog"):
        (tmp_path / "img" / c).mkdir(parents=True)
        for i in range(3):
            arr = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
            path = tmp_path / "img" / c / f"{i}.png"
            Image.fromarray(arr).save(path)
            arrays[str(path)] = arr
    return tmp_path / "img", arrays


def test_image_dataset_values_modes_and_fit(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    root, arrays = _png_dir(tmp_path, Image)
    ds = utils.image_dataset_from_directory(str(root), image_size=(6, 8), batch_size=4,
                                            shuffle=False, verbose=False)
    x, y = ds[0]
    assert x.shape == (4, 6, 8, 3) and x.dtype == np.float32 and y.tolist() == [0, 0, 0, 1]
    for row, path in zip(x, ds.file_paths[:4]):              # same size: the pixels themselves
        np.testing.assert_array_equal(row, arrays[path].astype(np.float32))
    ds = utils.image_dataset_from_directory(str(root), image_size=(3, 4), color_mode="grayscale",
                                            batch_size=2, shuffle=False, verbose=False,
                                            data_format="channels_first")
    x, _ = ds[0]
    assert x.shape == (2, 1, 3, 4)
    gray = np.asarray(Image.open(ds.file_paths[0]).convert("L"), np.float32)
    expected = np.asarray(keras.layers.Resizing(3, 4)(gray[None, :, :, None]))[0, :, :, 0]
    np.testing.assert_allclose(x[0, 0], expected, rtol=1e-6)
    ds = utils.image_dataset_from_directory(str(root), image_size=(4, 4), seed=2,
                                            validation_split=0.5, subset="training",
                                            verbose=False, crop_to_aspect_ratio=True)
    model = keras.Sequential([keras.Input((4, 4, 3)), keras.layers.Rescaling(1 / 255.0),
                              keras.layers.Flatten(), keras.layers.Dense(2)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(ds, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()


def test_image_argument_errors(tmp_path):
    pytest.importorskip("PIL.Image")
    for kwargs, match in (({"color_mode": "bgr"}, "color_mode"),
                          ({"interpolation": "area"}, "interpolation"),
                          ({"image_size": (0, 3)}, "image_size"),
                          ({"crop_to_aspect_ratio": True, "pad_to_aspect_ratio": True},
                           "only one")):
        with pytest.raises(ValueError, match=match):
            utils.image_dataset_from_directory(str(tmp_path), **kwargs)


def test_missing_pillow_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r"kerasnp\[image\]"):
        utils.image_dataset_from_directory(str(tmp_path))
    with pytest.raises(ImportError, match=r"kerasnp\[image\]"):
        utils.array_to_img(np.zeros((2, 2, 3)))


def test_array_to_img_and_back_as_keras(tmp_path):
    pytest.importorskip("PIL.Image")
    x = np.arange(12, dtype="float32").reshape(2, 2, 3)
    img = utils.array_to_img(x)
    assert img.mode == "RGB" and img.size == (2, 2)
    assert np.asarray(img).tolist() == [[[0, 23, 46], [69, 92, 115]],
                                        [[139, 162, 185], [208, 231, 255]]]
    assert np.asarray(utils.array_to_img(x, scale=False)).tolist() == \
        x.astype(int).tolist()
    assert utils.array_to_img(np.full((2, 2, 1), 300.0), scale=False).mode == "I"
    a = utils.img_to_array(img)
    assert a.dtype == np.float32 and a.shape == (2, 2, 3)
    a = utils.img_to_array(img, data_format="channels_first", dtype="uint8")
    assert a.dtype == np.uint8 and a.shape == (3, 2, 2)
    with pytest.raises(ValueError, match="rank 3"):
        utils.array_to_img(np.ones((2, 2)))
    with pytest.raises(ValueError, match="Unsupported channel number: 2"):
        utils.array_to_img(np.ones((2, 2, 2)))
    path = str(tmp_path / "x.png")
    utils.save_img(path, x, scale=False)
    np.testing.assert_array_equal(utils.img_to_array(utils.load_img(path)), x)
    rgba = np.zeros((4, 6, 4))
    utils.save_img(str(tmp_path / "y.jpg"), rgba)            # alpha dropped for JPEG
    loaded = utils.load_img(str(tmp_path / "x.png"), color_mode="grayscale", target_size=(1, 1))
    assert loaded.mode == "L" and loaded.size == (1, 1)
    wide = utils.load_img(str(tmp_path / "y.jpg"), target_size=(2, 2), keep_aspect_ratio=True)
    assert wide.size == (2, 2) and wide.mode == "RGB"


# ----------------------------------------------------------------------------- audio
def _wav(path, samples, rate=8000, width=2):
    samples = np.asarray(samples)
    channels = 1 if samples.ndim == 1 else samples.shape[1]
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(samples.astype("<i2" if width == 2 else np.uint8).tobytes())


def test_audio_dataset_values_padding_and_errors(tmp_path):
    root = tmp_path / "audio"
    (root / "no").mkdir(parents=True)
    (root / "yes").mkdir()
    _wav(root / "no" / "a.wav", [0, 16384, -32768, 32767])
    _wav(root / "yes" / "b.wav", [1000, -1000])
    _wav(root / "yes" / "c.wav", np.array([128, 255, 0], np.uint8), width=1)
    ds = utils.audio_dataset_from_directory(str(root), shuffle=False, verbose=False)
    x, y = ds[0]
    assert x.shape == (3, 4, 1) and x.dtype == np.float32 and y.tolist() == [0, 1, 1]
    np.testing.assert_allclose(x[0, :, 0], np.array([0, 16384, -32768, 32767]) / 32768.0)
    np.testing.assert_allclose(x[1, :, 0], [1000 / 32768.0, -1000 / 32768.0, 0.0, 0.0])
    np.testing.assert_allclose(x[2, :, 0], [0.0, 127 / 128.0, -1.0, 0.0])
    ds = utils.audio_dataset_from_directory(str(root), shuffle=False, verbose=False,
                                            output_sequence_length=3, batch_size=None)
    clip, label = ds[0]
    assert clip.shape == (3, 1) and label == 0
    with pytest.raises(ValueError, match="sampling rate 8000, not the requested 16000"):
        utils.audio_dataset_from_directory(str(root), sampling_rate=16000, verbose=False)[0]
    with pytest.raises(ValueError, match="ragged"):
        utils.audio_dataset_from_directory(str(root), ragged=True)
    (root / "yes" / "bad.wav").write_bytes(b"RIFF nonsense")
    with pytest.raises(ValueError, match="not a PCM .wav file"):
        ds = utils.audio_dataset_from_directory(str(root), shuffle=False, verbose=False)
        ds[0]


def test_audio_stereo(tmp_path):
    (tmp_path / "c").mkdir()
    _wav(tmp_path / "c" / "s.wav", np.array([[100, -100], [200, -200]]))
    ds = utils.audio_dataset_from_directory(str(tmp_path), verbose=False, label_mode=None)
    x = ds[0]
    np.testing.assert_allclose(x[0], np.array([[100, -100], [200, -200]]) / 32768.0)
