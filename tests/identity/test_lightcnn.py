"""Light-CNN-29 v1 (tpgan_tf/identity/lightcnn.py, tpgan spec 4.4): topology, parameter count, width
multiplier, the NCHW flatten of fc1, MFM. (Its weight files and the PyTorch comparison:
test_weights.py.)"""
from __future__ import annotations

import keras
import numpy as np
import pytest

from tpgan_tf.core.config import scaled
from tpgan_tf.identity import lightcnn

TINY = 0.125  # pool4 channels scaled(128, 0.125) = 16, feature 32


@pytest.fixture(scope="module")
def full_model():
    """The real-size network, built once for the module (weights are loaded by each test)."""
    return lightcnn.build_lightcnn(1.0)


def test_frozen_and_parameter_count(full_model):
    assert full_model.trainable_weights == []
    assert full_model.trainable is False
    # Hand count from the spec 4.4 table, (k*k*cin + 1) * 2*cout for every conv (2*cout
    # filters before MFM) and (8192 + 1) * 512 for fc1:
    #   conv1   5x5  1 -> 96                              (25*1 + 1) * 96   =     2,496
    #   conv2_* 3x3 48 -> 96,  2 convs                 2 * (9*48 + 1) * 96  =    83,136
    #   conv2a  1x1 48 -> 96                              (48 + 1) * 96     =     4,704
    #   conv2   3x3 48 -> 192                             (9*48 + 1) * 192  =    83,136
    #   conv3_* 3x3 96 -> 192, 4 convs                 4 * (9*96 + 1) * 192 =   664,320
    #   conv3a  1x1 96 -> 192                             (96 + 1) * 192    =    18,624
    #   conv3   3x3 96 -> 384                             (9*96 + 1) * 384  =   332,160
    #   conv4_* 3x3 192 -> 384, 6 convs                6 * (9*192 + 1)*384  = 3,983,616
    #   conv4a  1x1 192 -> 384                            (192 + 1) * 384   =    74,112
    #   conv4   3x3 192 -> 256                            (9*192 + 1) * 256 =   442,624
    #   conv5_* 3x3 128 -> 256, 8 convs                8 * (9*128 + 1)*256  = 2,361,344
    #   conv5a  1x1 128 -> 256                            (128 + 1) * 256   =    33,024
    #   conv5   3x3 128 -> 256                            (9*128 + 1) * 256 =   295,168
    #   fc1     8192 -> 512                               (8192 + 1) * 512  = 4,194,816
    #   total                                                                12,573,280
    expected = 12_573_280
    assert full_model.count_params() == expected
    assert len(full_model.non_trainable_weights) == 2 * 30
    assert tuple(full_model.outputs[0].shape) == (None, 8, 8, 128)
    assert tuple(full_model.outputs[1].shape) == (None, 256)
    assert tuple(full_model.inputs[0].shape) == (None, 128, 128, 1)


def test_width_scales_every_layer():
    model = lightcnn.build_lightcnn(TINY)
    assert tuple(model.outputs[0].shape) == (None, 8, 8, scaled(128, TINY))
    assert tuple(model.outputs[1].shape) == (None, scaled(256, TINY))
    assert tuple(model.get_layer("conv1").kernel.shape) == (5, 5, 1, 2 * scaled(48, TINY))
    assert tuple(model.get_layer("conv3a").kernel.shape) == (1, 1, 12, 24)  # 96 * 0.125 = 12
    assert tuple(model.get_layer("fc1").kernel.shape) == (64 * 16, 64)
    assert model.trainable_weights == []


def test_fc1_reads_pool4_in_nchw_order():
    """A pool4 one-hot at (h, w, c) must select fc1 row c*64 + h*8 + w (spec 4.4)."""
    model = lightcnn.build_lightcnn(TINY)
    channels = scaled(128, TINY)
    fc1 = model.get_layer("fc1")
    kernel = np.zeros(fc1.kernel.shape, np.float32)
    kernel[:, 0] = np.arange(1, kernel.shape[0] + 1)  # unit 0 reports row index + 1
    fc1.set_weights([kernel, np.zeros(fc1.bias.shape, np.float32)])
    head = keras.Model(model.get_layer("pool4").output, model.outputs[1])
    positions = [(0, 0, 0), (0, 1, 0), (1, 0, 0), (0, 0, 1), (7, 3, 5), (2, 6, channels - 1)]
    pool4 = np.zeros((len(positions), 8, 8, channels), np.float32)
    for i, (h, w, c) in enumerate(positions):
        pool4[i, h, w, c] = 1.0
    feature = np.asarray(head(pool4))
    # Unit 0 of the feature is max(first-half unit 0, second-half unit 0) = max(row + 1, 0).
    np.testing.assert_array_equal(feature[:, 0], [c * 64 + h * 8 + w + 1 for h, w, c in positions])
    np.testing.assert_array_equal(feature[:, 1:], 0.0)


def test_mfm_takes_max_of_first_and_second_half():
    x = np.array([[1.0, -5.0, 3.0, -2.0, 4.0, 0.5]], np.float32)
    np.testing.assert_array_equal(np.asarray(lightcnn.MFM()(x)), [[1.0, 4.0, 3.0]])


def test_layer_names_and_torch_prefixes():
    # conv1, 2 * (1 + 2 + 3 + 4) residual convs, 4 x 2 group convs, fc1 (spec 4.4).
    assert len(lightcnn.LAYER_NAMES) == 30
    assert lightcnn.LAYER_NAMES[:4] == ("conv1", "conv2_1", "conv2_2", "conv2a")
    assert lightcnn.LAYER_NAMES[-2:] == ("conv5", "fc1")
    assert set(lightcnn.TORCH_PREFIXES) == set(lightcnn.LAYER_NAMES)
    assert lightcnn.TORCH_PREFIXES["conv5_8"] == "block4.3.conv2"
    model = lightcnn.build_lightcnn(TINY)
    assert model.lightcnn_width == TINY
    assert [w.path for w in model.get_layer("conv1").weights] == ["conv1/kernel", "conv1/bias"]


def residual_pair_error(model, stage: int = 2, pair: int = 0) -> float:
    """Relative error of a residual pair's output (the `..._add` layer) against spec 4.4's
    x + MFM(conv(MFM(conv(x)))), nothing after the add, for a batch of random images."""
    from tests import structural as S

    first, second = (f"conv{stage}_{2 * pair + i}" for i in (1, 2))
    x_layer = model.get_layer(f"conv{stage}_{2 * pair}_add" if pair else f"pool{stage - 1}")
    probe = keras.Model(model.inputs[0], [x_layer.output, model.get_layer(f"{second}_add").output])
    images = np.random.default_rng(0).uniform(size=(2, 128, 128, 1)).astype(np.float32)
    x, out = (np.asarray(v) for v in probe(images))

    def conv_mfm(z, name):
        layer = model.get_layer(name)
        y = S.conv2d(z, layer.kernel, layer.bias)
        half = y.shape[-1] // 2
        return np.maximum(y[..., :half], y[..., half:])

    return S.relative_error(out, x + conv_mfm(conv_mfm(x, first), second))


def test_residual_pairs_add_their_input_with_nothing_after():
    model = lightcnn.build_lightcnn(TINY)
    rng = np.random.default_rng(1)
    # He-scaled kernels (as trained weights are, not N(0, 0.02)): the branch is of the order
    # of its input, so a missing add or MFM is an O(1) error.
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            k = layer.kernel.shape
            layer.kernel.assign(rng.normal(0, np.sqrt(2 / np.prod(k[:3])), k))
    assert residual_pair_error(model, 2, 0) < 1e-5
    assert residual_pair_error(model, 5, 3) < 1e-5
