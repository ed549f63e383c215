"""FSRNet / FSRGAN losses (fsrnet spec 6.1, 6.2) against numpy on random tensors."""
import numpy as np
import pytest
import tensorflow as tf

from tpgan_tf.models.fsrnet import losses

RNG = np.random.default_rng(7)


def _bce(logits, target):
    return np.mean(np.maximum(logits, 0) - logits * target + np.log1p(np.exp(-np.abs(logits))))


@pytest.fixture
def batch():
    f = lambda *s: RNG.normal(size=s).astype(np.float32)  # noqa: E731
    return dict(coarse=f(2, 8, 8, 3), sr=f(2, 8, 8, 3), priors=f(2, 4, 4, 5), hr=f(2, 8, 8, 3),
                priors_gt=f(2, 4, 4, 5))


def test_fsrnet_loss_is_the_sum_of_element_means(batch):
    b = batch
    total, terms = losses.fsrnet_loss(b["coarse"], b["sr"], b["priors"], b["hr"], b["priors_gt"],
                                      alpha=0.5, beta=2.0)
    want = {"coarse": np.mean((b["coarse"] - b["hr"]) ** 2), "fine": np.mean((b["sr"] - b["hr"]) ** 2),
            "prior": np.mean((b["priors"] - b["priors_gt"]) ** 2)}
    assert set(terms) == set(losses.FSRNET_TERMS)
    for k, v in want.items():
        np.testing.assert_allclose(terms[k].numpy(), v, rtol=1e-5)
    np.testing.assert_allclose(total.numpy(), want["coarse"] + 0.5 * want["fine"] + 2.0 * want["prior"],
                               rtol=1e-5)
    assert total.dtype == tf.float32


def test_fsrgan_generator_loss_adds_weighted_adversarial_and_perceptual(batch):
    b = batch
    logits = RNG.normal(size=(2, 3, 3, 1)).astype(np.float32)
    base, _ = losses.fsrnet_loss(b["coarse"], b["sr"], b["priors"], b["hr"], b["priors_gt"])
    total, terms = losses.fsrgan_generator_loss(
        b["coarse"], b["sr"], b["priors"], b["hr"], b["priors_gt"], tf.cast(logits, tf.bfloat16),
        perceptual=tf.constant(3.0))
    adv = _bce(tf.cast(tf.cast(logits, tf.bfloat16), tf.float32).numpy(), 1.0)
    assert set(terms) == set(losses.FSRGAN_TERMS)
    np.testing.assert_allclose(terms["adversarial"].numpy(), adv, rtol=1e-5)
    np.testing.assert_allclose(total.numpy(), base.numpy() + 1e-3 * adv + 1e-1 * 3.0, rtol=1e-5)
    off, terms_off = losses.fsrgan_generator_loss(
        b["coarse"], b["sr"], b["priors"], b["hr"], b["priors_gt"], logits, perceptual=None)
    assert float(terms_off["perceptual"]) == 0.0
    np.testing.assert_allclose(off.numpy(), base.numpy() + 1e-3 * _bce(logits, 1.0), rtol=1e-5)


def test_discriminator_loss():
    real = RNG.normal(size=(3, 2, 2, 1)).astype(np.float32)
    fake = RNG.normal(size=(3, 2, 2, 1)).astype(np.float32)
    total, terms = losses.discriminator_loss(real, fake)
    np.testing.assert_allclose(terms["real"].numpy(), _bce(real, 1.0), rtol=1e-5)
    np.testing.assert_allclose(terms["fake"].numpy(), _bce(fake, 0.0), rtol=1e-5)
    np.testing.assert_allclose(total.numpy(), _bce(real, 1.0) + _bce(fake, 0.0), rtol=1e-5)


def test_shape_mismatch_raises():
    with pytest.raises(ValueError, match="one shape"):
        losses.mse(np.zeros((1, 4, 4, 3)), np.zeros((1, 4, 4, 5)))
