"""Keras 3's public names, module by module, against kerasnp's (issue 13 item 5).

`KERAS_NAMES` is what `dir(keras.<module>)` lists in Keras 3.15.1 (public names, submodules such as
`keras.optimizers.schedules` included), written out here so the test needs no Keras. Every one of
them must be an attribute of the matching `kerasnp.<module>`, except the names of `NOT_YET`, each
with the reason it is missing ("next": planned, nothing stands in the way). `NOT_YET` must stay
honest both ways: a missing name that is not listed fails, and so does a listed name that kerasnp
offers now (delete its entry).

Run `python tests/test_keras_api_names.py` for the report: per module, how many of Keras's names
kerasnp offers and which are missing, grouped by reason.
"""
import importlib
import os
import subprocess
import sys
import textwrap

import pytest

KERAS_VERSION = "3.15.1"


def _names(text):
    return text.split()


KERAS_NAMES = {
    "activations": _names("""
        celu deserialize elu exponential gelu get glu hard_shrink hard_sigmoid hard_silu
        hard_swish hard_tanh leaky_relu linear log_sigmoid log_softmax mish relu relu6 selu
        serialize sigmoid silu soft_shrink softmax softplus softsign sparse_plus sparse_sigmoid
        sparsemax squareplus swish tanh tanh_shrink threshold
    """),
    "callbacks": _names("""
        BackupAndRestore CSVLogger Callback CallbackList EarlyStopping History LambdaCallback
        LearningRateScheduler ModelCheckpoint OrbaxCheckpoint ProgbarLogger ReduceLROnPlateau
        RemoteMonitor SwapEMAWeights TensorBoard TerminateOnNaN
    """),
    "constraints": _names("""
        Constraint MaxNorm MinMaxNorm NonNeg UnitNorm deserialize get max_norm min_max_norm
        non_neg serialize unit_norm
    """),
    "initializers": _names("""
        Constant GlorotNormal GlorotUniform HeNormal HeUniform Identity IdentityInitializer
        Initializer LecunNormal LecunUniform Ones Orthogonal OrthogonalInitializer RandomNormal
        RandomUniform STFT STFTInitializer TruncatedNormal VarianceScaling Zeros constant
        deserialize get glorot_normal glorot_uniform he_normal he_uniform identity lecun_normal
        lecun_uniform ones orthogonal random_normal random_uniform serialize stft truncated_normal
        variance_scaling zeros
    """),
    "layers": _names("""
        Activation ActivityRegularization AdaptiveAveragePooling1D AdaptiveAveragePooling2D
        AdaptiveAveragePooling3D AdaptiveMaxPooling1D AdaptiveMaxPooling2D AdaptiveMaxPooling3D
        Add AdditiveAttention AlphaDropout Attention AugMix AutoContrast Average AveragePooling1D
        AveragePooling2D AveragePooling3D AvgPool1D AvgPool2D AvgPool3D BatchNormalization
        Bidirectional CategoryEncoding CenterCrop Concatenate
        ContrastLimitedAdaptiveHistogramEqualization Conv1D Conv1DTranspose Conv2D Conv2DTranspose
        Conv3D Conv3DTranspose ConvLSTM1D ConvLSTM2D ConvLSTM3D Convolution1D
        Convolution1DTranspose Convolution2D Convolution2DTranspose Convolution3D
        Convolution3DTranspose Cropping1D Cropping2D Cropping3D CutMix Dense DepthwiseConv1D
        DepthwiseConv2D Discretization Dot Dropout ELU EinsumDense Embedding Equalization Flatten
        FlaxLayer GRU GRUCell GaussianDropout GaussianNoise GlobalAveragePooling1D
        GlobalAveragePooling2D GlobalAveragePooling3D GlobalAvgPool1D GlobalAvgPool2D
        GlobalAvgPool3D GlobalMaxPool1D GlobalMaxPool2D GlobalMaxPool3D GlobalMaxPooling1D
        GlobalMaxPooling2D GlobalMaxPooling3D GroupNormalization GroupQueryAttention
        HashedCrossing Hashing Identity Input InputLayer InputSpec IntegerLookup JaxLayer LSTM
        LSTMCell Lambda Layer LayerNormalization LeakyReLU Masking MaxNumBoundingBoxes MaxPool1D
        MaxPool2D MaxPool3D MaxPooling1D MaxPooling2D MaxPooling3D Maximum MelSpectrogram Minimum
        MixUp MultiHeadAttention Multiply Normalization PReLU Permute Pipeline RMSNormalization
        RNN RandAugment RandomBrightness RandomColorDegeneration RandomColorJitter RandomContrast
        RandomCrop RandomElasticTransform RandomErasing RandomFlip RandomGaussianBlur
        RandomGrayscale RandomHue RandomInvert RandomPerspective RandomPosterization
        RandomRotation RandomSaturation RandomSharpness RandomShear RandomTranslation RandomZoom
        ReLU RepeatVector Rescaling Reshape Resizing ReversibleEmbedding STFTSpectrogram
        SeparableConv1D SeparableConv2D SeparableConvolution1D SeparableConvolution2D SimpleRNN
        SimpleRNNCell Softmax Solarization SpatialDropout1D SpatialDropout2D SpatialDropout3D
        SpectralNormalization StackedRNNCells StringLookup Subtract TFSMLayer TextVectorization
        TimeDistributed TorchModuleWrapper UnitNormalization UpSampling1D UpSampling2D
        UpSampling3D Wrapper ZeroPadding1D ZeroPadding2D ZeroPadding3D add average concatenate
        deserialize dot maximum minimum multiply serialize subtract
    """),
    "losses": _names("""
        BinaryCrossentropy BinaryFocalCrossentropy CTC CategoricalCrossentropy
        CategoricalFocalCrossentropy CategoricalGeneralizedCrossEntropy CategoricalHinge Circle
        CosineSimilarity Dice Hinge Huber KLDivergence LogCosh Loss MeanAbsoluteError
        MeanAbsolutePercentageError MeanSquaredError MeanSquaredLogarithmicError Poisson
        SparseCategoricalCrossentropy SquaredHinge Tversky binary_crossentropy
        binary_focal_crossentropy categorical_crossentropy categorical_focal_crossentropy
        categorical_generalized_cross_entropy categorical_hinge circle cosine_similarity ctc
        deserialize dice get hinge huber kl_divergence log_cosh mean_absolute_error
        mean_absolute_percentage_error mean_squared_error mean_squared_logarithmic_error poisson
        serialize sparse_categorical_crossentropy squared_hinge tversky
    """),
    "metrics": _names("""
        AUC Accuracy BinaryAccuracy BinaryCrossentropy BinaryIoU CategoricalAccuracy
        CategoricalCrossentropy CategoricalHinge ConcordanceCorrelation CosineSimilarity F1Score
        FBetaScore FalseNegatives FalsePositives Hinge IoU KLDivergence LogCoshError Mean
        MeanAbsoluteError MeanAbsolutePercentageError MeanIoU MeanMetricWrapper MeanSquaredError
        MeanSquaredLogarithmicError Metric OneHotIoU OneHotMeanIoU PearsonCorrelation Poisson
        Precision PrecisionAtRecall R2Score Recall RecallAtPrecision RootMeanSquaredError
        SensitivityAtSpecificity SparseCategoricalAccuracy SparseCategoricalCrossentropy
        SparseTopKCategoricalAccuracy SpecificityAtSensitivity SquaredHinge Sum
        TopKCategoricalAccuracy TrueNegatives TruePositives binary_accuracy binary_crossentropy
        binary_focal_crossentropy categorical_accuracy categorical_crossentropy
        categorical_focal_crossentropy categorical_hinge concordance_correlation deserialize get
        hinge huber kl_divergence log_cosh mean_absolute_error mean_absolute_percentage_error
        mean_squared_error mean_squared_logarithmic_error pearson_correlation poisson serialize
        sparse_categorical_accuracy sparse_categorical_crossentropy
        sparse_top_k_categorical_accuracy squared_hinge top_k_categorical_accuracy
    """),
    "models": _names("""
        Model Sequential clone_model load_model model_from_json save_model
    """),
    "ops": _names("""
        abs absolute adaptive_average_pool adaptive_max_pool add all allclose amax amin angle any
        append arange arccos arccosh arcsin arcsinh arctan arctan2 arctanh argmax argmin
        argpartition argsort array array_split associative_scan average average_pool bartlett
        batch_normalization binary_crossentropy bincount bitwise_and bitwise_invert
        bitwise_left_shift bitwise_not bitwise_or bitwise_right_shift bitwise_xor blackman
        broadcast_to cast categorical_crossentropy cbrt cdist ceil celu cholesky cholesky_inverse
        clip concatenate cond conj conjugate conv conv_transpose convert_to_numpy
        convert_to_tensor copy corrcoef correlate cos cosh count_nonzero cross ctc_decode ctc_loss
        cumprod cumsum custom_gradient deg2rad depth_to_space depthwise_conv det diag diagflat
        diagonal diff digitize divide divide_no_nan dot dot_product_attention dsplit dstack dtype
        eig eigh einsum elu empty empty_like equal erf erfc erfinv exp exp2 expand_dims expm1
        extract_sequences eye fabs fft fft2 flip fliplr flipud floor floor_divide fmax fmin fmod
        fold fori_loop full full_like gcd gelu geomspace get_item glu greater greater_equal
        hamming hanning hard_shrink hard_sigmoid hard_silu hard_swish hard_tanh heaviside
        histogram hsplit hstack hypot i0 identity ifft2 imag image in_top_k inner inv irfft
        is_tensor isclose isfinite isin isinf isnan isneginf isposinf isreal istft jvp kaiser kron
        layer_normalization lcm ldexp leaky_relu left_shift less less_equal linalg linspace log
        log10 log1p log2 log_sigmoid log_softmax logaddexp logaddexp2 logdet logical_and
        logical_not logical_or logical_xor logspace logsumexp lstsq lu_factor map matmul
        matrix_rank max max_pool maximum mean median meshgrid min minimum mod moments moveaxis
        multi_hot multiply nan_to_num nanargmax nanargmin nancumprod nancumsum nanmax nanmean
        nanmedian nanmin nanpercentile nanprod nanquantile nanstd nansum nanvar ndim negative
        nextafter nn nonzero norm normalize not_equal numpy one_hot ones ones_like outer pad
        percentile pinv polar power prod psnr ptp qr quantile rad2deg ravel real rearrange
        reciprocal relu relu6 repeat reshape rfft right_shift rms_normalization roll rot90 round
        rsqrt saturate_cast scan scatter scatter_update searchsorted segment_max segment_min
        segment_prod segment_sum select selu separable_conv shape sigmoid sign signbit silu sin
        sinc sinh size slice slice_update slogdet soft_shrink softmax softplus softsign solve
        solve_triangular sort space_to_depth sparse_categorical_crossentropy sparse_plus
        sparse_sigmoid sparsemax split sqrt square squareplus squeeze stack std stft stop_gradient
        subtract sum svd swapaxes swish switch take take_along_axis tan tanh tanh_shrink tensordot
        threshold tile top_k trace transpose trapezoid tri tril triu true_divide trunc unfold
        unique unravel_index unstack vander var vdot vectorize vectorized_map view view_as_complex
        view_as_real vsplit vstack where while_loop zeros zeros_like
    """),
    "optimizers": _names("""
        Adadelta Adafactor Adagrad Adam AdamW Adamax Ftrl Lamb Lion LossScaleOptimizer
        MultiOptimizer Muon Nadam Optimizer OptimizerMap RMSprop SGD ScheduleFreeAdamW deserialize
        get legacy schedules serialize
    """),
    "regularizers": _names("""
        L1 L1L2 L2 OrthogonalRegularizer Regularizer deserialize get l1 l1_l2 l2
        orthogonal_regularizer serialize
    """),
    "saving": _names("""
        CustomObjectScope KerasFileEditor custom_object_scope deserialize_keras_object
        get_custom_objects get_registered_name get_registered_object load_model load_weights
        register_keras_serializable save_model save_weights serialize_keras_object
    """),
    "utils": _names("""
        Config CustomObjectScope FeatureSpace Progbar PyDataset Sequence array_to_img
        audio_dataset_from_directory bounding_boxes clear_session custom_object_scope
        deserialize_keras_object disable_interactive_logging enable_interactive_logging
        get_custom_objects get_file get_registered_name get_registered_object get_source_inputs
        image_dataset_from_directory img_to_array is_interactive_logging_enabled is_keras_tensor
        legacy load_img model_to_dot normalize pack_x_y_sample_weight pad_sequences plot_model
        register_keras_serializable save_img serialize_keras_object set_random_seed split_dataset
        standardize_dtype text_dataset_from_directory timeseries_dataset_from_array to_categorical
        unpack_x_y_sample_weight
    """),}

# -- why each missing name is missing -------------------------------------------------------------
BOXES = "not offered: bounding-box pipelines (Keras's detection preprocessing)"
FOREIGN = "not applicable: wraps another framework's modules (JAX, Flax, TensorFlow, PyTorch)"
COMPLEX = "not offered: complex numbers (kerasnp's arrays are real float32/float64)"
LEGACY = "not applicable: tf.keras legacy namespace"
GRAPHVIZ = "not offered: needs graphviz/pydot; plot_model draws with matplotlib instead"


def _same(reason, names):
    return dict.fromkeys(names.split(), reason)


NOT_YET = {
    "activations": {},
    "callbacks": {"OrbaxCheckpoint": "not applicable: Orbax is JAX's checkpoint library"},
    "constraints": {},
    "initializers": {},
    "layers": {
        **_same(BOXES, "MaxNumBoundingBoxes"),
        **_same(FOREIGN, "FlaxLayer JaxLayer TFSMLayer TorchModuleWrapper"),
    },
    "losses": {},
    "metrics": {},
    "models": {},
    "ops": _same(COMPLEX, "angle conj conjugate imag real view_as_complex view_as_real polar "
                          "isreal"),
    "optimizers": {
        "LossScaleOptimizer": "not offered: float16 loss scaling; kerasnp trains in float32/64",
        "legacy": LEGACY,
    },
    "regularizers": {},
    "saving": {},
    "utils": {
        **_same(BOXES, "bounding_boxes"),
        **_same(LEGACY, "legacy"),
        **_same(GRAPHVIZ, "model_to_dot"),
    },
}


def _module(name):
    return importlib.import_module(f"kerasnp.{name}")


def missing_names(module):
    """Keras's names that `kerasnp.<module>` does not offer."""
    mod = _module(module)
    return [n for n in KERAS_NAMES[module] if not hasattr(mod, n)]


@pytest.mark.parametrize("module", sorted(KERAS_NAMES))
def test_every_keras_name_is_offered_or_listed(module):
    unlisted = [n for n in missing_names(module) if n not in NOT_YET[module]]
    assert not unlisted, (f"kerasnp.{module} lacks Keras's {unlisted}: add them, or list them "
                          f"in NOT_YET['{module}'] with the reason")


@pytest.mark.parametrize("module", sorted(KERAS_NAMES))
def test_not_yet_lists_only_missing_keras_names(module):
    stale = [n for n in NOT_YET[module] if hasattr(_module(module), n)]
    assert not stale, (f"kerasnp.{module} offers {stale} now: delete them from "
                       f"NOT_YET['{module}'] in tests/test_keras_api_names.py")
    foreign = [n for n in NOT_YET[module] if n not in KERAS_NAMES[module]]
    assert not foreign, f"NOT_YET['{module}'] lists {foreign}, which Keras does not have"
    assert all(isinstance(r, str) and r for r in NOT_YET[module].values())


def test_names_from_the_long_tail_are_offered():
    # issue 13 item 5, by name
    wanted = {
        "layers": "add concatenate average maximum minimum multiply subtract dot Resizing "
                  "CenterCrop RandomCrop RandomZoom RandomContrast RandomBrightness serialize "
                  "deserialize",
        "saving": "get_custom_objects custom_object_scope serialize_keras_object "
                  "deserialize_keras_object register_keras_serializable",
        "metrics": "TruePositives FalsePositives TrueNegatives FalseNegatives "
                   "MeanAbsolutePercentageError MeanSquaredLogarithmicError CosineSimilarity "
                   "LogCoshError Hinge KLDivergence PrecisionAtRecall SensitivityAtSpecificity "
                   "R2Score",
        "models": "clone_model", "regularizers": "l1 l2 l1_l2"}
    for module, names in wanted.items():
        assert not [n for n in names.split() if not hasattr(_module(module), n)], module


def report():
    """Per module: Keras's names kerasnp offers, and the missing ones grouped by reason."""
    lines = []
    for module in sorted(KERAS_NAMES):
        missing = missing_names(module)
        total = len(KERAS_NAMES[module])
        lines.append(f"keras.{module}: {total - len(missing)} of {total} offered")
        by_reason = {}
        for name in missing:
            by_reason.setdefault(NOT_YET[module].get(name, "NOT LISTED"), []).append(name)
        for reason, names in sorted(by_reason.items()):
            lines.append(textwrap.fill(f"{reason}: {', '.join(names)}", 100,
                                       initial_indent="  - ", subsequent_indent="    "))
    return "\n".join(lines)


def test_report_counts_every_module():
    text = report()
    for module in KERAS_NAMES:
        assert f"keras.{module}: " in text
    assert "NOT LISTED" not in text


def test_names_match_installed_keras():
    """With Keras KERAS_VERSION installed, the lists above are exactly its names (Keras runs in
    a subprocess on the torch backend, so this process never imports it)."""
    pytest.importorskip("torch")
    code = ("import json, os, importlib; os.environ['KERAS_BACKEND'] = 'torch'; import keras; "
            "print(json.dumps([keras.__version__, {m: sorted(n for n in dir(importlib."
            "import_module('keras.' + m)) if not n.startswith('_')) for m in %r}]))"
            % sorted(KERAS_NAMES))
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=300, env={**os.environ, "KERAS_BACKEND": "torch"})
    except subprocess.TimeoutExpired:
        pytest.skip("importing Keras took too long")
    if out.returncode != 0:
        pytest.skip("Keras is not installed (or does not import)")
    import json
    version, names = json.loads(out.stdout.strip().splitlines()[-1])
    if version != KERAS_VERSION:
        pytest.skip(f"Keras {version} installed; the lists are Keras {KERAS_VERSION}'s")
    for module in KERAS_NAMES:
        assert sorted(KERAS_NAMES[module]) == names[module], module


if __name__ == "__main__":
    print(report())
