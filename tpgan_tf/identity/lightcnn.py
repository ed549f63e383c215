"""Light-CNN-29 (v1), the frozen identity network (TP-GAN's "ip" loss, tpgan spec 4.4, 4.2; the
identity features of every model's recognition evaluation). Weight loaders: weights.py.

Topology (tpgan spec 4.4 table; identical to AlfredXiangWu's public `LightCNN_29Layers`, v1):

    conv1 5x5 (1 -> 96, MFM 48), pool1                                        128 -> 64
    1 residual pair @48  (conv2_1, conv2_2), group conv2a 1x1 / conv2 3x3 -> 96, pool2   64 -> 32
    2 residual pairs @96 (conv3_1..conv3_4), group conv3a / conv3 -> 192, pool3          32 -> 16
    3 residual pairs @192 (conv4_1..conv4_6), group conv4a / conv4 -> 128               16
    4 residual pairs @128 (conv5_1..conv5_8), group conv5a / conv5 -> 128, pool4         16 -> 8
    pool4 transposed to NCHW, flattened (8192) -> fc1 (512) -> MFM -> 256-d feature

Every conv is stride 1, SAME (PyTorch padding k // 2) and followed by MFM (max of the first and
second channel half). A residual pair is x + MFM(conv(MFM(conv(x)))) with nothing after the add.
Pools are 2x2, stride 2 max pools.

"""
from __future__ import annotations

import keras
import tensorflow as tf

from tpgan_tf.core.config import scaled
from tpgan_tf.core.layers import normal, truncated_normal

INPUT_SIZE = 128  # tpgan spec 4.4: 128x128x1 gray in [0, 1]
POOL4_SIZE = 8  # 128 / 2^4

# tpgan spec 4.4 table, stages 2..5: (residual pairs, channels of the pairs, channels after the
# group's 3x3, max pool after the group).
_STAGES = ((1, 48, 96, True), (2, 96, 192, True), (3, 192, 128, False), (4, 128, 128, True))
_CONV1_CHANNELS = 48
_FEATURE_DIM = 256


def _stage_layer_names(stage: int, pairs: int) -> list[str]:
    """Pickle names of stage `stage` (2..5): convk_1..convk_2n, convka, convk."""
    return [f"conv{stage}_{i}" for i in range(1, 2 * pairs + 1)] + [f"conv{stage}a", f"conv{stage}"]


# Every weighted layer in network order (tpgan spec 4.4 pickle names): conv1, 2*(1+2+3+4) = 20
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
    """Max-feature-map: [..., 2C] -> [..., C] = max(first half, second half) (tpgan spec 4.4)."""

    def call(self, x):
        first, second = tf.split(x, 2, axis=-1)
        return tf.maximum(first, second)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] // 2)


def _conv_mfm(x, channels: int, kernel: int, name: str):
    """conv k x k, stride 1, SAME, 2*channels filters, then MFM -> `channels`."""
    # The initialisers only matter before weights are loaded (TP-GAN's ops.py style).
    x = keras.layers.Conv2D(2 * channels, kernel, strides=1, padding="same", name=name,
                            kernel_initializer=truncated_normal())(x)
    return MFM(name=f"{name}_mfm")(x)


def build_lightcnn(width: float = 1.0, name: str = "lightcnn29") -> keras.Model:
    """Builds the frozen Light-CNN-29 v1.

    Input: [B, 128, 128, 1] float32 gray in [0, 1] (tpgan spec 4.4).
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
            # Residual pair: no activation after the add (tpgan spec 4.4).
            x = keras.layers.Add(name=f"{names[2 * i + 1]}_add")([x, y])
        # Group: 1x1 keeping the channel count, then 3x3 to the new count.
        x = _conv_mfm(x, ch(c_pair), 1, names[-2])
        x = _conv_mfm(x, ch(c_out), 3, names[-1])
        if pool:  # stages 2, 3 and 5 end in pool2, pool3, pool4
            pools += 1
            x = keras.layers.MaxPooling2D(2, 2, padding="same", name=f"pool{pools}")(x)
    pool4 = x  # [B, 8, 8, C]
    # fc1 was trained on a PyTorch/Caffe NCHW flatten: index = c*64 + h*8 + w (tpgan spec 4.4).
    flat = keras.layers.Permute((3, 1, 2), name="pool4_nchw")(pool4)
    flat = keras.layers.Flatten(name="flatten")(flat)
    feature = keras.layers.Dense(2 * ch(_FEATURE_DIM), name="fc1",
                                 kernel_initializer=normal())(flat)
    feature = MFM(name="fc1_mfm")(feature)
    model = keras.Model(inputs, (pool4, feature), name=name)
    model.trainable = False  # tpgan spec 4.4: frozen, never optimised
    model.lightcnn_width = float(width)
    return model
