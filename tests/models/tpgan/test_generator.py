"""TP-GAN's generator and discriminator (tpgan_tf/models/tpgan/generator.py, discriminator.py)
against spec 2-3: parameter counts, shapes, wiring, initialisers, width multiplier,
serialisation and checkpoints. (Fusion, the part table, legacy resize and the layers have
their own modules: test_fusion.py, tests/faces/, test_blocks.py.)"""
import numpy as np
import pytest
import tensorflow as tf

from tpgan_tf.core import layers
from tpgan_tf.core.config import get_config
from tpgan_tf.faces.image_ops import mirror_concat
from tpgan_tf.faces.parts import PART_BY_NAME, PART_NAMES
from tpgan_tf.models.tpgan.discriminator import Discriminator
from tpgan_tf.models.tpgan.generator import Generator, input_shapes
from tpgan_tf.models.tpgan.networks import build_discriminator, build_generator


def _count(layer):
    return sum(int(np.prod(w.shape)) for w in layer.trainable_weights)


def _random_inputs(batch, seed=0):
    rng = np.random.default_rng(seed)
    return {k: tf.constant(rng.uniform(0, 1, v).astype(np.float32) if k != "z"
                           else rng.normal(0, 0.02, v).astype(np.float32))
            for k, v in input_shapes(batch).items()}


@pytest.fixture(scope="module")
def paper_models():
    cfg = get_config("paper", "tpgan")
    g = build_generator(cfg)
    d = build_discriminator(cfg)
    inputs = _random_inputs(2)
    out = g(inputs, training=False)
    logits = d(out["img128"], training=False)
    return g, d, inputs, out, logits


def test_paper_parameter_counts_equal_spec_2_7(paper_models):
    g, d, _, _, _ = paper_models
    assert _count(g.encoder) == 39_420_672
    assert _count(g.decoder) == 49_197_818
    assert _count(g.identity_head) == 87_380
    assert _count(g.local.nets["eye_left"]) == 17_199_043
    assert _count(g.local.nets["eye_right"]) == 17_200_771  # 6-channel input
    assert _count(g.local.nets["nose"]) == 17_199_043
    assert _count(g.local.nets["mouth"]) == 17_199_043
    assert _count(g.local) == 68_797_900
    assert _count(g) == 157_503_770
    assert _count(d) == 13_357_441


def test_paper_output_shapes_at_batch_2(paper_models):
    g, _, inputs, out, logits = paper_models
    assert out["img128"].shape == (2, 128, 128, 3)
    assert out["img64"].shape == (2, 64, 64, 3)
    assert out["img32"].shape == (2, 32, 32, 3)
    assert out["fused_image"].shape == (2, 128, 128, 3)
    assert out["identity_logits"].shape == (2, 340)
    assert out["featvec"].shape == (2, 256)
    for name in PART_NAMES:
        p = PART_BY_NAME[name]
        assert out[name].shape == (2, p.height, p.width, 3)
    assert logits.shape == (2, 16)
    # Sub-networks one by one.
    feats = g.encoder(mirror_concat(inputs["image"]), training=False)
    expected = {"feat128": (2, 128, 128, 64), "feat64": (2, 64, 64, 64),
                "feat32": (2, 32, 32, 128), "feat16": (2, 16, 16, 256),
                "feat8": (2, 8, 8, 512), "featvec": (2, 256)}
    assert {k: tuple(v.shape) for k, v in feats.items()} == expected
    local_feats, _ = g.local({p: inputs[p] for p in PART_NAMES}, training=False)
    for name in PART_NAMES:
        p = PART_BY_NAME[name]
        assert local_feats[name].shape == (2, p.height, p.width, 64)
    # tanh heads: [-1, 1] (float32 tanh saturates to exactly 1 beyond ~9); the fused image is
    # ReLU'd by the zero padding + max (spec 2.3).
    for key in ("img128", "img64", "img32", *PART_NAMES):
        assert float(tf.reduce_max(tf.abs(out[key]))) <= 1.0
        assert float(tf.reduce_min(out[key])) < 0.0 < float(tf.reduce_max(out[key]))
    assert float(tf.reduce_min(out["fused_image"])) >= 0.0


def test_paper_layer_wiring(paper_models):
    g, d, _, _, _ = paper_models
    # spec 2.4: 6-channel mirror-concatenated encoder input, 7x7 first conv.
    assert tuple(g.encoder.conv0.conv.kernel.shape) == (7, 7, 6, 64)
    # spec 2.2: the right-eye net takes right ⊕ left eye (6 channels), the others 3.
    assert tuple(g.local.nets["eye_right"].conv0.conv.kernel.shape) == (3, 3, 6, 64)
    assert tuple(g.local.nets["nose"].conv0.conv.kernel.shape) == (3, 3, 3, 64)
    # spec 2.6: 2x2 residual blocks at 8x8 on 576 channels; 7x7 select128 on 78; 5x5 dec128 on 212.
    assert tuple(g.decoder.select8.conv1.kernel.shape) == (2, 2, 576, 576)
    assert tuple(g.decoder.select128.conv1.kernel.shape) == (7, 7, 78, 78)
    assert tuple(g.decoder.dec128_res1.conv1.kernel.shape) == (5, 5, 212, 212)
    assert tuple(g.decoder.select64.conv1.kernel.shape) == (5, 5, 86, 86)
    assert tuple(g.decoder.dec64_res1.conv1.kernel.shape) == (3, 3, 217, 217)
    assert tuple(g.decoder.select32.conv1.kernel.shape) == (3, 3, 166, 166)
    assert tuple(g.decoder.initial32.conv.kernel.shape) == (3, 3, 32, 64)  # deconv: HW out in
    assert g.decoder.initial32.conv.strides == (4, 4)
    # spec 2.1: bias 0.1 for feature, initial8, idenLinear; 0 elsewhere.
    for dense in (g.encoder.feature, g.decoder.initial8, g.identity_head.logits):
        np.testing.assert_allclose(dense.bias.numpy(), 0.1)
    np.testing.assert_allclose(g.encoder.conv1.conv.bias.numpy(), 0.0)
    # spec 2.1: truncated normal(0.02) convs stay within 2 sigma; normal deconvs do not.
    k = g.encoder.conv4_res[0].conv1.kernel.numpy()
    assert abs(k.std() - 0.0176) < 0.001 and np.abs(k).max() <= 0.04 + 1e-6
    kd = g.decoder.deconv16.conv.kernel.numpy()
    assert abs(kd.std() - 0.02) < 0.001 and np.abs(kd).max() > 0.06
    assert tuple(d.h5.kernel.shape) == (1, 1, 512, 1)


def test_batch_norm_modes():
    """core/layers.py BatchNorm (moved here unchanged from the old test_models; its modes are
    tested in depth in tests/core/test_layers.py)."""
    x = tf.constant(np.random.default_rng(2).normal(3.0, 2.0, (8, 4, 4, 5)).astype(np.float32))
    faithful = layers.BatchNorm("batch_stats")
    ordinary = layers.BatchNorm("inference")
    # Fresh moving stats are mean 0 / var 1, so inference mode is (almost) the identity,
    # while the faithful mode normalises with the batch's own statistics even at test time.
    y_faithful = faithful(x, training=False).numpy()
    y_ordinary = ordinary(x, training=False).numpy()
    np.testing.assert_allclose(y_faithful.mean(axis=(0, 1, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(y_faithful.std(axis=(0, 1, 2)), 1.0, atol=1e-3)
    np.testing.assert_allclose(y_ordinary, x.numpy() / np.sqrt(1 + 1e-5), rtol=1e-5)
    # The faithful layer still updates its moving averages (decay 0.9), as the original did.
    np.testing.assert_allclose(faithful.moving_mean.numpy(),
                               0.1 * x.numpy().mean(axis=(0, 1, 2)), rtol=1e-4)


def test_tiny_generator_is_deterministic_given_z_and_serialisable():
    cfg = get_config("tiny", "tpgan")
    g = build_generator(cfg)
    inputs = _random_inputs(2, seed=3)
    a = g(inputs, training=False)
    b = g(inputs, training=False)
    np.testing.assert_array_equal(a["img128"].numpy(), b["img128"].numpy())
    other_z = dict(inputs, z=inputs["z"] + 0.5)
    assert not np.allclose(g(other_z, training=False)["img128"].numpy(), a["img128"].numpy())
    # get_config -> from_config rebuilds the same architecture; copied weights give equal outputs.
    clone = Generator.from_config(g.get_config())
    clone(inputs, training=False)
    assert _count(clone) == _count(g)
    clone.set_weights(g.get_weights())
    np.testing.assert_allclose(clone(inputs, training=False)["img128"].numpy(),
                               a["img128"].numpy(), atol=1e-6)


def test_width_multiplier_scales_every_channel():
    cfg = get_config("tiny", "tpgan")  # width 1/16
    g = build_generator(cfg)
    assert tuple(g.encoder.conv0.conv.kernel.shape) == (7, 7, 6, 4)
    assert tuple(g.encoder.feature.kernel.shape) == (8 * 8 * 32, 32)
    d = build_discriminator(cfg)
    assert tuple(d.h4.conv.kernel.shape) == (3, 3, 32, 32)


def test_checkpoint_holds_every_generator_variable_and_kernels_differ(tmp_path):
    g = build_generator(get_config("tiny", "tpgan"))
    # Fresh initialisers per layer: same-shaped kernels must not start identical.
    a, b = g.encoder.conv4_res[0].conv1.kernel.numpy(), g.encoder.conv4_res[1].conv1.kernel.numpy()
    assert not np.array_equal(a, b)
    path = tf.train.Checkpoint(generator=g).save(str(tmp_path / "ckpt"))
    saved = {name for name, _ in tf.train.list_variables(path)
             if name.startswith("generator/") and "OPTIMIZER" not in name}
    assert len(saved) == len(g.weights)  # lists/dicts of layers would hide most of them
    shifted = [w + 1.0 for w in g.get_weights()]
    g2 = build_generator(get_config("tiny", "tpgan"))
    g2.set_weights(shifted)
    tf.train.Checkpoint(generator=g2).restore(path).assert_existing_objects_matched()
    for w, v in zip(g.get_weights(), g2.get_weights()):
        np.testing.assert_array_equal(w, v)


def test_generator_and_discriminator_survive_keras_serialisation():
    """keras.saving round trip (Generator/Discriminator.from_config of a get_config dict)."""
    import keras

    cfg = get_config("tiny", "tpgan")
    for model in (build_generator(cfg), build_discriminator(cfg)):
        clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(model))
        assert type(clone) is type(model) and clone.get_config() == model.get_config()
        assert clone.norm == model.norm and clone.width == cfg.model.width
