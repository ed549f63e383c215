"""TP-GAN's losses (tpgan_tf/models/tpgan/losses.py) against hand-written numpy references
(spec 3, 4)."""
import math

import numpy as np
import pytest
import tensorflow as tf

from tpgan_tf.core.config import get_config
from tpgan_tf.faces.parts import PART_NAMES, PARTS
from tpgan_tf.models.tpgan import losses

RNG = np.random.default_rng(0)


def _rand(*shape):
    return RNG.random(shape, dtype=np.float64).astype(np.float32)


# ---------- numpy references ----------

def np_S(a, b):
    """spec 4.1: sum over H, W then mean over batch and channels."""
    return np.abs(a.astype(np.float64) - b).sum(axis=(1, 2)).mean()


def np_laplacian(x):
    """Explicit loops: 8 * centre minus the 8 neighbours, zero outside the image."""
    b, h, w, c = x.shape
    out = np.zeros_like(x, dtype=np.float64)
    for i in range(h):
        for j in range(w):
            acc = 8.0 * x[:, i, j, :].astype(np.float64)
            for di in (-1, 0, 1):
                for dj in (-1, 0, 1):
                    if (di, dj) == (0, 0):
                        continue
                    ii, jj = i + di, j + dj
                    if 0 <= ii < h and 0 <= jj < w:
                        acc -= x[:, ii, jj, :]
            out[:, i, j, :] = acc
    return out


def np_sym(x, use_laplacian, pool):
    x = x.astype(np.float64)
    if pool:
        b, h, w, c = x.shape
        x = x.reshape(b, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))
    if use_laplacian:
        x = np.concatenate([x, np_laplacian(x)], axis=-1)
    half = x.shape[2] // 2
    return np_S(x[:, :, :half], x[:, :, half:][:, :, ::-1])


def np_tv(x):
    x = x.astype(np.float64)
    v = np.abs(np.diff(x, axis=1)).sum(axis=(1, 2, 3))
    h = np.abs(np.diff(x, axis=2)).sum(axis=(1, 2, 3))
    return (v + h).mean()


def np_sigmoid_ce(x, z):
    x = np.asarray(x, np.float64)
    p = 1.0 / (1.0 + np.exp(-x))
    return np.mean(-(z * np.log(p) + (1 - z) * np.log(1 - p)))


# A tiny deterministic stand-in for Light-CNN: [B,128,128,1] -> (pool4 [B,8,8,2], fc [B,256]).
_FC_W = RNG.standard_normal((128, 256)).astype(np.float32)


def fake_lightcnn(gray):
    pooled = tf.nn.avg_pool2d(gray, ksize=16, strides=16, padding="VALID")  # [B,8,8,1]
    pool4 = tf.concat([pooled, tf.square(pooled)], axis=-1)
    fc = tf.reshape(pool4, [-1, 128]) @ _FC_W
    return pool4, fc


def np_fake_lightcnn(gray):
    b = gray.shape[0]
    pooled = gray.astype(np.float64).reshape(b, 8, 16, 8, 16, 1).mean(axis=(2, 4))
    pool4 = np.concatenate([pooled, pooled ** 2], axis=-1)
    return pool4, pool4.reshape(b, 128) @ _FC_W.astype(np.float64)


# ---------- S(.) and Laplacian ----------

def test_spatial_l1_matches_numpy_and_is_hw_times_mean():
    a, b = _rand(2, 5, 7, 3), _rand(2, 5, 7, 3)
    got = float(losses.spatial_l1(a, b))
    assert got == pytest.approx(np_S(a, b), rel=1e-5)
    assert got == pytest.approx(5 * 7 * np.abs(a - b).mean(), rel=1e-5)


def test_spatial_l1_rejects_shape_mismatch():
    with pytest.raises(ValueError, match="losses.py"):
        losses.spatial_l1(_rand(1, 4, 4, 3), _rand(1, 4, 5, 3))


def test_laplacian_hand_values_on_ones():
    # All ones, zero padding: corner 8 - 3 = 5, edge 8 - 5 = 3, interior 8 - 8 = 0.
    out = losses.laplacian(np.ones((1, 4, 4, 2), np.float32)).numpy()[0, :, :, 0]
    expected = np.array([[5, 3, 3, 5], [3, 0, 0, 3], [3, 0, 0, 3], [5, 3, 3, 5]], np.float32)
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_laplacian_matches_numpy_convolution_per_channel():
    x = _rand(2, 6, 5, 3)
    np.testing.assert_allclose(losses.laplacian(x).numpy(), np_laplacian(x), atol=1e-5)


# ---------- symmetry ----------

@pytest.mark.parametrize("fn,size,lap,pool", [
    (losses.symmetry_128, 16, False, True),
    (losses.symmetry_64, 8, True, False),
    (losses.symmetry_32, 6, True, False),
])
def test_symmetry_matches_numpy(fn, size, lap, pool):
    x = _rand(2, size, size, 3)
    assert float(fn(x)) == pytest.approx(np_sym(x, lap, pool), rel=1e-5)


def test_symmetry_128_shape_of_halves_on_real_size():
    x = _rand(1, 128, 128, 3)
    assert float(losses.symmetry_128(x)) == pytest.approx(np_sym(x, False, True), rel=1e-5)


@pytest.mark.parametrize("fn", [losses.symmetry_128, losses.symmetry_64, losses.symmetry_32])
def test_symmetric_image_gives_zero(fn):
    x = _rand(2, 16, 8, 3)
    sym = np.concatenate([x, x[:, :, ::-1]], axis=2)  # 16 x 16, mirror-symmetric
    assert float(fn(sym)) == pytest.approx(0.0, abs=1e-5)
    assert float(fn(_rand(2, 16, 16, 3))) > 0.1


def _grad(fn, x):
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = fn(x)
    return np.abs(tape.gradient(loss, x).numpy()).sum(axis=(0, 1, 3))  # per column


@pytest.mark.parametrize("fn", [losses.symmetry_64, losses.symmetry_32])
def test_symmetry_laplacian_left_half_gets_no_gradient(fn):
    w = 8
    g = _grad(fn, _rand(2, w, w, 3))
    # Cols 0..W/2-2 reach the loss only through the stop-gradient left half.
    np.testing.assert_array_equal(g[: w // 2 - 1], 0.0)
    # Col W/2-1 feeds the Laplacian of col W/2 (right half), so it does get gradient.
    assert g[w // 2 - 1] > 0
    assert np.all(g[w // 2:] > 0)


def test_symmetry_128_pooled_left_half_gets_no_gradient():
    g = _grad(losses.symmetry_128, _rand(2, 16, 16, 3))
    np.testing.assert_array_equal(g[:8], 0.0)  # pooled cols 0..3 = input cols 0..7
    assert np.all(g[8:] > 0)


# ---------- TV, adversarial, CE ----------

def test_total_variation_matches_numpy_and_hand_value():
    x = _rand(3, 5, 4, 3)
    assert float(losses.total_variation(x)) == pytest.approx(np_tv(x), rel=1e-5)
    # One image [[0, 1], [2, 4]], 1 channel: vertical |2|+|3| = 5, horizontal |1|+|2| = 3 -> 8.
    hand = np.array([0, 1, 2, 4], np.float32).reshape(1, 2, 2, 1)
    assert float(losses.total_variation(hand)) == pytest.approx(8.0)


def test_adversarial_losses_at_zero_logits_are_log2():
    zeros = np.zeros((2, 16), np.float32)
    d_loss, d_real, d_fake = losses.discriminator_loss(zeros, zeros)
    assert float(d_real) == pytest.approx(math.log(2), rel=1e-6)
    assert float(d_fake) == pytest.approx(math.log(2), rel=1e-6)
    assert float(d_loss) == pytest.approx(2 * math.log(2), rel=1e-6)
    assert float(losses.generator_adversarial_loss(zeros)) == pytest.approx(math.log(2), rel=1e-6)


def test_label_smoothing_values_by_hand():
    # Logit 10, target 0.9: softplus form max(x,0) - x z + log(1 + e^-|x|) = 10 - 9 + log(1 + e^-10).
    big = np.full((1, 16), 10.0, np.float32)
    assert float(losses.generator_adversarial_loss(big)) == pytest.approx(
        1.0 + math.log1p(math.exp(-10)), rel=1e-5)
    # Real target is 0.9 (not 1): a confident real logit still costs ~1.
    _, d_real, d_fake = losses.discriminator_loss(big, -big)
    assert float(d_real) == pytest.approx(1.0 + math.log1p(math.exp(-10)), rel=1e-5)
    # Fake target is 0 (one-sided): logit -10 against 0 costs log(1 + e^-10) only.
    assert float(d_fake) == pytest.approx(math.log1p(math.exp(-10)), rel=1e-4)
    real, fake = RNG.standard_normal((2, 16)), RNG.standard_normal((2, 16))
    d_loss, d_real, d_fake = losses.discriminator_loss(real.astype(np.float32), fake.astype(np.float32))
    assert float(d_real) == pytest.approx(np_sigmoid_ce(real, 0.9), rel=1e-5)
    assert float(d_fake) == pytest.approx(np_sigmoid_ce(fake, 0.0), rel=1e-5)
    assert float(d_loss) == pytest.approx(np_sigmoid_ce(real, 0.9) + np_sigmoid_ce(fake, 0.0), rel=1e-5)
    assert float(losses.generator_adversarial_loss(fake.astype(np.float32))) == pytest.approx(
        np_sigmoid_ce(fake, 0.9), rel=1e-5)


def test_identity_cross_entropy():
    assert float(losses.identity_cross_entropy(np.zeros((2, 340), np.float32), [3, 7])) == \
        pytest.approx(math.log(340), rel=1e-6)
    logits = np.array([[2.0, 0.0, 0.0], [0.0, 0.0, 1.0]], np.float32)
    expected = np.mean([math.log(math.exp(2) + 2) - 2, math.log(math.e + 2) - 0])
    assert float(losses.identity_cross_entropy(logits, np.array([0, 1]))) == pytest.approx(expected, rel=1e-6)


# ---------- identity loss ----------

def test_identity_loss_matches_numpy_and_blocks_real_gradient():
    fake, real = _rand(2, 128, 128, 3), _rand(2, 128, 128, 3)
    pf, ff = np_fake_lightcnn(fake.mean(axis=-1, keepdims=True))
    pr, fr = np_fake_lightcnn(real.mean(axis=-1, keepdims=True))
    expected = np.abs(ff - fr).mean() + np_S(pf, pr)
    fake_t, real_t = tf.constant(fake), tf.constant(real)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([fake_t, real_t])
        loss = losses.identity_loss(fake_lightcnn, fake_t, real_t)
    assert float(loss) == pytest.approx(expected, rel=1e-4)
    assert tape.gradient(loss, real_t) is None
    assert np.abs(tape.gradient(loss, fake_t).numpy()).sum() > 0


# ---------- weighted sums ----------

_MADE_UP = {"l1_128": 1.0, "l1_64": 2.0, "l1_32": 3.0, "sym_128": 4.0, "sym_64": 5.0, "sym_32": 6.0,
            "adversarial": 7.0, "identity": 8.0, "cross_entropy": 9.0, "total_variation": 10.0,
            "part_eye_left": 1.0, "part_eye_right": 2.0, "part_nose": 3.0, "part_mouth": 4.0}


def test_combine_generator_loss_paper_weights():
    w = get_config("paper", "tpgan").loss
    # 1*(1 + .3*4) + 1*(2 + .3*5) + 1.5*(3 + .3*6) + 40*8 + 20*7 + 10*9 + .001*10
    expected = 2.2 + 3.5 + 7.2 + 320.0 + 140.0 + 90.0 + 0.01
    terms = {k: tf.constant(v) for k, v in _MADE_UP.items()}
    assert float(losses.combine_generator_loss(terms, w)) == pytest.approx(expected, rel=1e-6)


def test_rotation_loss_paper_weight():
    terms = {k: tf.constant(v) for k, v in _MADE_UP.items()}
    assert float(losses.rotation_loss(terms, get_config("paper", "tpgan").loss)) == pytest.approx(3.0 * 10.0)


# ---------- all terms on a small batch ----------

def _small_batch(b=2):
    outputs = {"img128": _rand(b, 128, 128, 3), "img64": _rand(b, 64, 64, 3),
               "img32": _rand(b, 32, 32, 3),
               "identity_logits": RNG.standard_normal((b, 340)).astype(np.float32)}
    batch = {"frontal": _rand(b, 128, 128, 3), "label": np.array([5, 17], np.int32)[:b]}
    for part in PARTS:
        outputs[part.name] = _rand(b, part.height, part.width, 3)
        batch[f"frontal_{part.name}"] = _rand(b, part.height, part.width, 3)
    return outputs, batch


def test_generator_loss_terms_small_batch():
    outputs, batch = _small_batch()
    fake_logits = RNG.standard_normal((2, 16)).astype(np.float32)
    terms = losses.generator_loss_terms(outputs, batch, fake_logits, fake_lightcnn)
    assert set(terms) == set(losses.TERM_NAMES) and len(terms) == 14
    for k, v in terms.items():
        assert v.shape == () and np.isfinite(float(v)), k
    f = batch["frontal"]
    assert float(terms["l1_128"]) == pytest.approx(np_S(outputs["img128"], f), rel=1e-5)
    assert float(terms["l1_64"]) == pytest.approx(np_S(outputs["img64"], f[:, ::2, ::2]), rel=1e-5)
    assert float(terms["l1_32"]) == pytest.approx(np_S(outputs["img32"], f[:, ::4, ::4]), rel=1e-5)
    # Each symmetry term on its own scale (spec 4.2: pooled 128, Laplacian 64 and 32).
    assert float(terms["sym_128"]) == pytest.approx(np_sym(outputs["img128"], False, True), rel=1e-5)
    assert float(terms["sym_64"]) == pytest.approx(np_sym(outputs["img64"], True, False), rel=1e-5)
    assert float(terms["sym_32"]) == pytest.approx(np_sym(outputs["img32"], True, False), rel=1e-5)
    assert float(terms["adversarial"]) == pytest.approx(np_sigmoid_ce(fake_logits, 0.9), rel=1e-5)
    assert float(terms["total_variation"]) == pytest.approx(np_tv(outputs["img128"]), rel=1e-5)
    # ip of img128 against the frontal GT (spec 4.2), on gray images.
    pf, ff = np_fake_lightcnn(outputs["img128"].mean(axis=-1, keepdims=True))
    pr, fr = np_fake_lightcnn(f.mean(axis=-1, keepdims=True))
    assert float(terms["identity"]) == pytest.approx(np.abs(ff - fr).mean() + np_S(pf, pr), rel=1e-4)
    logits = outputs["identity_logits"].astype(np.float64)
    log_softmax = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    assert float(terms["cross_entropy"]) == pytest.approx(
        -log_softmax[np.arange(2), batch["label"]].mean(), rel=1e-5)
    for name in PART_NAMES:
        assert float(terms[f"part_{name}"]) == pytest.approx(
            np_S(outputs[name], batch[f"frontal_{name}"]), rel=1e-5)


def test_identity_term_compares_img128_with_the_frontal_and_trains_only_the_generator():
    # The value is symmetric in (fake, real): only the gradient tells which side is the target.
    outputs, batch = _small_batch()
    img128, frontal = tf.constant(outputs["img128"]), tf.constant(batch["frontal"])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([img128, frontal])
        terms = losses.generator_loss_terms(dict(outputs, img128=img128),
                                            dict(batch, frontal=frontal),
                                            np.zeros((2, 16), np.float32), fake_lightcnn)
    assert tape.gradient(terms["identity"], frontal) is None
    assert np.abs(tape.gradient(terms["identity"], img128).numpy()).sum() > 0


def test_generator_loss_terms_switches_off_identity_and_ce():
    outputs, batch = _small_batch()
    del outputs["identity_logits"]
    terms = losses.generator_loss_terms(outputs, batch, np.zeros((2, 16), np.float32), None)
    assert float(terms["identity"]) == 0.0
    assert float(terms["cross_entropy"]) == 0.0


def test_generator_loss_terms_names_missing_key():
    outputs, batch = _small_batch()
    del batch["frontal_nose"]
    with pytest.raises(KeyError, match="frontal_nose"):
        losses.generator_loss_terms(outputs, batch, np.zeros((2, 16), np.float32), None)


@pytest.mark.parametrize("dtype", [tf.bfloat16, tf.float16])
def test_losses_are_computed_in_float32_for_mixed_precision_inputs(dtype):
    a, b = _rand(2, 8, 8, 3), _rand(2, 8, 8, 3)
    low = lambda x: tf.cast(x, dtype)  # noqa: E731
    got = losses.spatial_l1(low(a), low(b))
    assert got.dtype == tf.float32
    assert float(got) == pytest.approx(np_S(low(a).numpy().astype(np.float64),
                                            low(b).numpy().astype(np.float64)), rel=1e-5)
    assert losses.total_variation(low(a)).dtype == tf.float32
    assert losses.symmetry_64(low(a)).dtype == tf.float32
    logits = low(RNG.standard_normal((2, 16)).astype(np.float32))
    assert all(v.dtype == tf.float32 for v in losses.discriminator_loss(logits, logits))
