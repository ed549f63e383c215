"""Light-CNN-29 (v1), the frozen identity network of the "ip" loss (spec 4.4, 4.2), and its weight loaders.

Topology (spec 4.4 table; identical to AlfredXiangWu's public `LightCNN_29Layers`, v1):

    conv1 5x5 (1 -> 96, MFM 48), pool1                                        128 -> 64
    1 residual pair @48  (conv2_1, conv2_2), group conv2a 1x1 / conv2 3x3 -> 96, pool2   64 -> 32
    2 residual pairs @96 (conv3_1..conv3_4), group conv3a / conv3 -> 192, pool3          32 -> 16
    3 residual pairs @192 (conv4_1..conv4_6), group conv4a / conv4 -> 128               16
    4 residual pairs @128 (conv5_1..conv5_8), group conv5a / conv5 -> 128, pool4         16 -> 8
    pool4 transposed to NCHW, flattened (8192) -> fc1 (512) -> MFM -> 256-d feature

Every conv is stride 1, SAME (PyTorch padding k // 2) and followed by MFM (max of the first and
second channel half). A residual pair is x + MFM(conv(MFM(conv(x)))) with nothing after the add.
Pools are 2x2, stride 2 max pools.

Weights come from one of
  * the original TP-GAN `DeepFace168.pickle` (Python-2 pickle: name -> [kernel HWIO, bias]),
  * our own .h5 (see `save_h5_weights`), e.g. written by experiments/convert_lightcnn.py from
    the public PyTorch checkpoint (`torch_state_dict_to_weights`).
"""
from __future__ import annotations

import os
import pickle
from typing import Mapping

import h5py
import keras
import numpy as np

from tpgan_tf import layers as tl
from tpgan_tf.config import scaled

H5_FORMAT = "tpgan_tf.lightcnn29.v1"
INPUT_SIZE = 128  # spec 4.4: 128x128x1 gray in [0, 1]
POOL4_SIZE = 8  # 128 / 2^4

# Spec 4.4 table, stages 2..5: (residual pairs, channels of the pairs, channels after the
# group's 3x3, max pool after the group).
_STAGES = ((1, 48, 96, True), (2, 96, 192, True), (3, 192, 128, False), (4, 128, 128, True))
_CONV1_CHANNELS = 48
_FEATURE_DIM = 256


def _stage_layer_names(stage: int, pairs: int) -> list[str]:
    """Pickle names of stage `stage` (2..5): convk_1..convk_2n, convka, convk."""
    return [f"conv{stage}_{i}" for i in range(1, 2 * pairs + 1)] + [f"conv{stage}a", f"conv{stage}"]


# Every weighted layer in network order (spec 4.4 pickle names): conv1, 2*(1+2+3+4) = 20
# residual convs, 8 group convs and fc1 = 30 layers (the classifier fc2 is not part of it).
LAYER_NAMES: tuple[str, ...] = tuple(
    ["conv1"]
    + [n for k, (pairs, *_rest) in enumerate(_STAGES, start=2) for n in _stage_layer_names(k, pairs)]
    + ["fc1"])


def _torch_prefixes() -> dict[str, str]:
    """Our layer name -> PyTorch module path of the public network (without `.filter.*`).

    Stage k (2..5) is PyTorch's block{k-1} (residual blocks i = 0.. with conv1/conv2) and
    group{k-1} (conv_a, conv); fc1 is `fc`.
    """
    table = {"conv1": "conv1", "fc1": "fc"}
    for k, (pairs, *_rest) in enumerate(_STAGES, start=2):
        for i in range(pairs):
            table[f"conv{k}_{2 * i + 1}"] = f"block{k - 1}.{i}.conv1"
            table[f"conv{k}_{2 * i + 2}"] = f"block{k - 1}.{i}.conv2"
        table[f"conv{k}a"] = f"group{k - 1}.conv_a"
        table[f"conv{k}"] = f"group{k - 1}.conv"
    return table


TORCH_PREFIXES: dict[str, str] = _torch_prefixes()


@keras.saving.register_keras_serializable(package="tpgan_tf")
class MFM(keras.layers.Layer):
    """Max-feature-map: [..., 2C] -> [..., C] = max(first half, second half) (spec 4.4)."""

    def call(self, x):
        return tl.mfm(x)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] // 2)


def _conv_mfm(x, channels: int, kernel: int, name: str):
    """conv k x k, stride 1, SAME, 2*channels filters, then MFM -> `channels`."""
    x = tl.conv(2 * channels, kernel, strides=1, name=name)(x)
    return MFM(name=f"{name}_mfm")(x)


def build_lightcnn(width: float = 1.0, name: str = "lightcnn29") -> keras.Model:
    """Builds the frozen Light-CNN-29 v1.

    Input: [B, 128, 128, 1] float32 gray in [0, 1] (spec 4.4).
    Outputs: (pool4 [B, 8, 8, C], feature [B, F]) with C = scaled(128, width),
    F = scaled(256, width); width 1.0 is the real network (C = 128, F = 256).
    The model has `trainable = False` and a `lightcnn_width` attribute.
    """
    ch = lambda c: scaled(c, width)  # noqa: E731
    inputs = keras.Input((INPUT_SIZE, INPUT_SIZE, 1), name="gray")
    x = _conv_mfm(inputs, ch(_CONV1_CHANNELS), 5, "conv1")
    x = keras.layers.MaxPooling2D(2, 2, padding="same", name="pool1")(x)
    pools = 1
    for k, (pairs, c_pair, c_out, pool) in enumerate(_STAGES, start=2):
        names = _stage_layer_names(k, pairs)
        for i in range(pairs):
            y = _conv_mfm(x, ch(c_pair), 3, names[2 * i])
            y = _conv_mfm(y, ch(c_pair), 3, names[2 * i + 1])
            # Residual pair: no activation after the add (spec 4.4).
            x = keras.layers.Add(name=f"{names[2 * i + 1]}_add")([x, y])
        # Group: 1x1 keeping the channel count, then 3x3 to the new count.
        x = _conv_mfm(x, ch(c_pair), 1, names[-2])
        x = _conv_mfm(x, ch(c_out), 3, names[-1])
        if pool:  # stages 2, 3 and 5 end in pool2, pool3, pool4
            pools += 1
            x = keras.layers.MaxPooling2D(2, 2, padding="same", name=f"pool{pools}")(x)
    pool4 = x  # [B, 8, 8, C]
    # fc1 was trained on a PyTorch/Caffe NCHW flatten: index = c*64 + h*8 + w (spec 4.4).
    flat = keras.layers.Permute((3, 1, 2), name="pool4_nchw")(pool4)
    flat = keras.layers.Flatten(name="flatten")(flat)
    feature = tl.linear(2 * ch(_FEATURE_DIM), name="fc1")(flat)
    feature = MFM(name="fc1_mfm")(feature)
    model = keras.Model(inputs, (pool4, feature), name=name)
    model.trainable = False  # spec 4.4: frozen, never optimised
    model.lightcnn_width = float(width)
    return model


def _expected_shapes(model: keras.Model) -> dict[str, tuple[tuple[int, ...], tuple[int, ...]]]:
    """Layer name -> (kernel shape, bias shape) of the built model."""
    out = {}
    for name in LAYER_NAMES:
        layer = model.get_layer(name)
        out[name] = (tuple(layer.kernel.shape), tuple(layer.bias.shape))
    return out


def set_weights_from_dict(model: keras.Model, weights: Mapping[str, tuple[np.ndarray, np.ndarray]],
                          source: str = "<weights dict>") -> None:
    """Assigns `weights[name] = (kernel, bias)` to every layer of LAYER_NAMES.

    Kernels are HWIO for convs and [in, out] for fc1 (NCHW flatten order of the input).
    Extra entries (e.g. a classifier) are ignored. Raises ValueError naming `source` and the
    layer when a layer is missing or has the wrong shape; nothing is assigned in that case.
    """
    expected = _expected_shapes(model)
    checked = {}
    for name, (kshape, bshape) in expected.items():
        if name not in weights:
            raise ValueError(f"{source}: Light-CNN weights have no layer {name!r} "
                             f"(expected kernel {kshape}, bias {bshape}); found layers "
                             f"{sorted(weights)}")
        entry = weights[name]
        if len(entry) != 2:
            raise ValueError(f"{source}: layer {name!r} should be [kernel, bias], got "
                             f"{len(entry)} arrays")
        kernel = np.asarray(entry[0], dtype=np.float32)
        bias = np.asarray(entry[1], dtype=np.float32)
        if kernel.shape != kshape or bias.shape != bshape:
            width = getattr(model, "lightcnn_width", None)
            raise ValueError(f"{source}: layer {name!r} has kernel {kernel.shape} and bias "
                             f"{bias.shape}, the model (width {width}) expects kernel {kshape} "
                             f"and bias {bshape}")
        checked[name] = (kernel, bias)
    for name, (kernel, bias) in checked.items():
        model.get_layer(name).set_weights([kernel, bias])


def get_weights_dict(model: keras.Model) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The model's weights as name -> (kernel, bias) numpy arrays (inverse of set_weights_from_dict)."""
    return {name: tuple(np.asarray(w) for w in model.get_layer(name).get_weights())
            for name in LAYER_NAMES}


def _check_file(path) -> str:
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Light-CNN weight file {path} does not exist")
    return path


def load_pickle_weights(model: keras.Model, path) -> None:
    """Loads the original TP-GAN `DeepFace168.pickle` (spec 4.4).

    A Python-2 pickle of {layer name: [kernel HWIO, bias]}, fc1 kernel 8192 x 512 in NCHW
    flatten order; read with encoding='latin1'.
    """
    path = _check_file(path)
    try:
        with open(path, "rb") as f:
            data = pickle.load(f, encoding="latin1")
    except Exception as e:  # unpickling errors come in many types
        raise ValueError(f"{path}: cannot read as a Light-CNN pickle: {e}") from e
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a dict layer name -> [kernel, bias], got "
                         f"{type(data).__name__}")
    set_weights_from_dict(model, data, source=path)


def save_h5_weights(model: keras.Model, path) -> None:
    """Writes our .h5 format: one group per layer (datasets `kernel`, `bias`), root attributes
    `format` = H5_FORMAT and `width`. Kernels are HWIO, fc1 [in, out] in NCHW flatten order."""
    path = os.fspath(path)
    with h5py.File(path, "w") as f:
        f.attrs["format"] = H5_FORMAT
        f.attrs["width"] = float(getattr(model, "lightcnn_width", 1.0))
        for name, (kernel, bias) in get_weights_dict(model).items():
            group = f.create_group(name)
            group.create_dataset("kernel", data=kernel.astype(np.float32))
            group.create_dataset("bias", data=bias.astype(np.float32))


def load_h5_weights(model: keras.Model, path) -> None:
    """Loads a file written by `save_h5_weights`; checks format, width and every shape."""
    path = _check_file(path)
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise ValueError(f"{path}: not an HDF5 file: {e}") from e
    with f:
        fmt = f.attrs.get("format")
        if isinstance(fmt, bytes):
            fmt = fmt.decode()
        if fmt != H5_FORMAT:
            raise ValueError(f"{path}: format attribute is {fmt!r}, expected {H5_FORMAT!r}")
        file_width = float(f.attrs.get("width", np.nan))
        model_width = getattr(model, "lightcnn_width", None)
        weights = {}
        for name in f:
            group = f[name]
            if not isinstance(group, h5py.Group) or "kernel" not in group or "bias" not in group:
                raise ValueError(f"{path}: layer {name!r} needs datasets 'kernel' and 'bias'")
            weights[name] = (group["kernel"][()], group["bias"][()])
    try:
        set_weights_from_dict(model, weights, source=path)
    except ValueError as e:
        if model_width is not None and file_width != model_width:
            raise ValueError(f"{e} (the file was saved at width {file_width})") from None
        raise


def load_weights(model: keras.Model, path) -> None:
    """Loads Light-CNN weights, choosing the reader by suffix: .pickle/.pkl or .h5/.hdf5."""
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix in (".pickle", ".pkl"):
        load_pickle_weights(model, path)
    elif suffix in (".h5", ".hdf5"):
        load_h5_weights(model, path)
    else:
        raise ValueError(f"{os.fspath(path)}: unknown Light-CNN weight file type {suffix!r}; "
                         "use .pickle/.pkl (TP-GAN DeepFace) or .h5 (tpgan_tf)")


def _to_numpy(value) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch.Tensor; avoid importing torch here
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float32)


def torch_state_dict_to_weights(state_dict: Mapping, source: str = "state_dict"
                                ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Public PyTorch LightCNN-29 v1 state_dict -> {our layer name: (kernel, bias)}.

    Conv weights OIHW -> HWIO; fc weight [out, in] -> [in, out] (its input index is already
    the NCHW flatten order). A DataParallel `module.` prefix is stripped; `fc2.*` and other
    extra keys are ignored. Raises ValueError naming `source` and the missing key.
    """
    sd = {(k[len("module."):] if k.startswith("module.") else k): v for k, v in state_dict.items()}
    out = {}
    for name, prefix in TORCH_PREFIXES.items():
        arrays = []
        for part in ("weight", "bias"):
            key = f"{prefix}.filter.{part}"
            if key not in sd:
                raise ValueError(f"{source}: missing key {key!r} (for layer {name!r})")
            arrays.append(_to_numpy(sd[key]))
        weight, bias = arrays
        if name == "fc1":
            if weight.ndim != 2:
                raise ValueError(f"{source}: {prefix}.filter.weight should be 2-D, got {weight.shape}")
            kernel = weight.T
        else:
            if weight.ndim != 4:
                raise ValueError(f"{source}: {prefix}.filter.weight should be 4-D OIHW, got "
                                 f"{weight.shape}")
            kernel = weight.transpose(2, 3, 1, 0)
        out[name] = (np.ascontiguousarray(kernel), bias)
    return out
