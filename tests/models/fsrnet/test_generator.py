"""The FSRNet generator (fsrnet spec 2, 4.5): outputs, switches, separate block weights,
checkpoints, serialisation and mixed precision."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from tests import structural as S
from tests.models.fsrnet import param_tables as T
from tpgan_tf.core.config import get_config
from tpgan_tf.models.fsrnet.blocks import ResidualBlock
from tpgan_tf.models.fsrnet.generator import FsrnetGenerator
from tpgan_tf.models.fsrnet.networks import build_generator


def _count(layer):
    return sum(int(np.prod(w.shape)) for w in layer.trainable_weights)


@pytest.fixture(scope="module")
def tiny():
    cfg = get_config("tiny", task="fsrnet")
    g = build_generator(cfg)
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


def generator_by_hand(g, x) -> dict:
    """spec 2 data flow with the four sub-networks as black boxes (training mode, see
    test_blocks.py): coarse = CoarseSR(x) (+ x with input_residual); f = encoder(coarse);
    (p, h) = prior(coarse); sr = decoder(f, p or h) (+ x)."""
    coarse = g.coarse(x, training=True).numpy() + (x if g.input_residual else 0)
    f = g.encoder(coarse, training=True)
    maps, feats = (v.numpy() for v in g.prior(coarse, training=True))
    prior = maps if g.decoder_prior_input == "maps" else feats
    sr = g.decoder(f, prior, training=True).numpy() + (x if g.input_residual else 0)
    return {"coarse": coarse, "priors": maps, "sr": sr, "features": feats}


def generator_wiring_error(g, x) -> float:
    """Worst relative error of g(x, training=True) against generator_by_hand."""
    out, want = g(x, training=True), generator_by_hand(g, x)
    assert set(out) == set(want)
    return max(S.relative_error(out[k], want[k]) for k in want)


def test_encoder_and_prior_net_see_the_coarse_image_not_x(tiny):
    _, g, x, _ = tiny
    x = x.numpy()
    weights = g.get_weights()  # training-mode calls move the shared model's BN averages
    try:
        assert generator_wiring_error(g, x) < 1e-5
        out = g(x, training=True)
        maps_x, _ = g.prior(x, training=True)
        assert S.relative_error(maps_x, out["priors"]) > 0.01
    finally:
        g.set_weights(weights)


def test_decoder_on_features_and_input_residual_are_wired_as_said():
    x = np.random.default_rng(2).uniform(size=(2, 32, 32, 3)).astype(np.float32)
    for kwargs in ({"decoder_prior_input": "features"}, {"input_residual": True}):
        g = FsrnetGenerator(4, width=0.0625, hourglass_depth=1, num_stacks=1, **kwargs)
        g(x)
        if g.input_residual:  # non-zero heads, else y = x hides the wiring
            for conv in (g.coarse.out, g.decoder.out):
                conv.conv.kernel.assign(np.random.default_rng(3).normal(
                    0, 0.02, conv.conv.kernel.shape))
        assert generator_wiring_error(g, x) < 1e-5, kwargs


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
    # Relative: at initialisation in inference mode the outputs are ~1e-8, so any absolute
    # tolerance would pass a clone with its own random weights.
    assert S.relative_error(clone(x, training=False)["sr"], out["sr"]) < 1e-5


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
    x = tf.constant(np.random.default_rng(1).uniform(size=(2, 16, 16, 3)), tf.float32)
    g(x)
    # Heads 100 x larger: their pre-activations reach well beyond 1, so only tanh keeps
    # the images in [-1, 1] (at N(0, 0.02) they would stay inside anyway).
    for conv in (g.coarse.out, g.decoder.out):
        conv.conv.kernel.assign(conv.conv.kernel * 100.0)
    out = g(x, training=True)
    for key in ("coarse", "sr"):
        image = np.abs(out[key].numpy())
        assert image.max() <= 1.0 and (image > 0.999).mean() > 0.1, key


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
