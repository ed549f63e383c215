"""The FSRNet generator (fsrnet spec 2, 4.5): outputs, switches, separate block weights,
checkpoints, serialisation and mixed precision."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.models.fsrnet import param_tables as T
from tpgan_tf.core.config import get_config
from tpgan_tf.models.fsrnet.blocks import ResidualBlock
from tpgan_tf.models.fsrnet.generator import FsrnetGenerator


def _count(layer):
    return sum(int(np.prod(w.shape)) for w in layer.trainable_weights)


@pytest.fixture(scope="module")
def tiny():
    cfg = get_config("tiny", task="fsrnet")
    g = FsrnetGenerator.from_config_sections(cfg.model, cfg.num_priors)
    x = tf.constant(np.random.default_rng(0).uniform(size=(2, 32, 32, 3)), tf.float32)
    return cfg, g, x, g(x, training=False)


def test_outputs_and_shapes(tiny):
    cfg, g, _, out = tiny
    k = cfg.num_priors
    assert set(out) == {"coarse", "priors", "sr", "features"}
    assert out["coarse"].shape == (2, 32, 32, 3) and out["sr"].shape == (2, 32, 32, 3)
    assert out["priors"].shape == (2, 16, 16, k)
    assert out["features"].shape == (2, 16, 16, 8)
    assert _count(g) == T.generator(4, 8, k, cfg.model.hourglass_depth)


def test_encoder_and_prior_net_see_the_coarse_image_not_x(tiny):
    _, g, x, out = tiny
    coarse = out["coarse"]
    maps, feats = g.prior(coarse, training=False)
    np.testing.assert_allclose(maps.numpy(), out["priors"].numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(feats.numpy(), out["features"].numpy(), rtol=1e-5, atol=1e-6)
    sr = g.decoder(g.encoder(coarse, training=False), maps, training=False)  # spec 2 data flow
    np.testing.assert_allclose(sr.numpy(), out["sr"].numpy(), rtol=1e-5, atol=1e-6)
    maps_x, _ = g.prior(x, training=False)
    assert not np.allclose(maps_x.numpy(), out["priors"].numpy())


def test_every_residual_block_owns_separate_weights(tiny):
    _, g, _, _ = tiny
    blocks = [layer for layer in g._flatten_layers() if isinstance(layer, ResidualBlock)]
    assert len(blocks) == 3 + 12 + 2 + 3  # coarse, encoder, prior stem, decoder
    by_shape = {}
    for b in blocks:
        by_shape.setdefault(tuple(b.conv1.conv.kernel.shape), []).append(b)
    for group in by_shape.values():
        kernels = [b.conv1.conv.kernel for b in group]
        assert len({id(k) for k in kernels}) == len(kernels)  # distinct variables
        assert len({k.path for k in kernels}) == len(kernels)
        values = [k.numpy() for k in kernels]
        for i in range(len(values)):
            for j in range(i + 1, len(values)):
                assert not np.array_equal(values[i], values[j])  # different values
    # Changing one block leaves the others alone (no [CS]-style sharing, spec 4.5).
    first, second = by_shape[(3, 3, 4, 4)][:2]
    before = second.conv1.conv.kernel.numpy()
    first.conv1.conv.kernel.assign(first.conv1.conv.kernel + 1.0)
    np.testing.assert_array_equal(second.conv1.conv.kernel.numpy(), before)
    first.conv1.conv.kernel.assign(first.conv1.conv.kernel - 1.0)


def test_checkpoint_holds_every_variable(tiny, tmp_path):
    _, g, _, _ = tiny
    path = tf.train.Checkpoint(generator=g).save(str(tmp_path / "ckpt"))
    saved = [name for name, _ in tf.train.list_variables(path) if name.startswith("generator/")]
    assert len(saved) == len(g.weights)


def test_decoder_prior_input_switch_and_config_round_trip(tiny):
    cfg, g, x, out = tiny
    k = cfg.num_priors
    feats = FsrnetGenerator(k, width=0.0625, decoder_prior_input="features")
    assert feats(x)["sr"].shape == (2, 32, 32, 3)
    assert _count(feats) == T.generator(4, 8, k, 4, maps=False)
    clone = FsrnetGenerator.from_config(g.get_config())
    clone(x)
    assert clone.get_config() == g.get_config()
    clone.set_weights(g.get_weights())
    np.testing.assert_allclose(clone(x, training=False)["sr"].numpy(), out["sr"].numpy(),
                               rtol=1e-5, atol=1e-6)


def test_bad_input_sizes_and_switches_raise(tiny):
    _, g, _, _ = tiny
    with pytest.raises(ValueError, match="multiples of 2 \\* 2\\^hourglass_depth = 32"):
        g(tf.zeros((1, 48, 48, 3)))
    with pytest.raises(ValueError, match=r"\[B, H, W, 3\]"):
        g(tf.zeros((1, 32, 32, 1)))
    with pytest.raises(ValueError, match="decoder_prior_input"):
        FsrnetGenerator(5, decoder_prior_input="both")


def test_tanh_heads_bound_the_images():
    g = FsrnetGenerator(4, width=0.0625, hourglass_depth=2, image_activation="tanh")
    out = g(tf.constant(np.random.default_rng(1).normal(0, 50, (1, 16, 16, 3)), tf.float32))
    assert np.all(np.abs(out["sr"].numpy()) <= 1.0) and np.all(np.abs(out["coarse"].numpy()) <= 1.0)


def test_builds_and_runs_under_mixed_bfloat16():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        g = FsrnetGenerator(6, width=0.0625)
        out = g(tf.random.uniform((2, 32, 32, 3)), training=True)
        assert out["sr"].dtype == tf.bfloat16 and out["priors"].dtype == tf.bfloat16
        assert g.coarse.stem.conv.conv.kernel.dtype == "float32"  # float32 master weights
        assert all(np.all(np.isfinite(v.numpy().astype(np.float32))) for v in out.values())
    finally:
        keras.config.set_dtype_policy(previous)
    assert keras.config.dtype_policy().name == previous.name


def test_input_residual_starts_as_bicubic_and_keeps_the_parameter_count():
    plain = FsrnetGenerator(4, width=0.0625, hourglass_depth=1, num_stacks=1)
    skip = FsrnetGenerator(4, width=0.0625, hourglass_depth=1, num_stacks=1,
                           input_residual=True)
    x = tf.constant(np.random.default_rng(1).uniform(size=(1, 32, 32, 3)), tf.float32)
    out = skip(x, training=False)
    # both image heads start at zero: y_c = y_hat = x
    np.testing.assert_array_equal(out["coarse"].numpy(), x.numpy())
    np.testing.assert_array_equal(out["sr"].numpy(), x.numpy())
    assert not np.allclose(plain(x, training=False)["sr"].numpy(), x.numpy(), atol=1e-3)
    assert _count(skip) == _count(plain)
    assert FsrnetGenerator.from_config(skip.get_config()).input_residual is True
