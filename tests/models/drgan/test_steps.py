"""The per-replica pieces of DR-GAN's steps (tpgan_tf/models/drgan/steps.py): how D sees the
real and the synthetic batch (model.separate_bn_real_fake, drgan spec 2.4), in training-mode
BN where separate and joint statistics give different values."""
import numpy as np
import pytest
import tensorflow as tf

from tpgan_tf.core.config import apply_overrides, get_config
from tpgan_tf.models.drgan import networks, steps


def _images(batch, seed):
    return tf.constant(np.random.default_rng(seed).uniform(-1, 1, (batch, 32, 32, 3)),
                       tf.float32)


@pytest.mark.parametrize("separate", [True, False])
def test_discriminate_separate_or_joint_bn_statistics(separate):
    cfg = apply_overrides(get_config("tiny", task="drgan"), [
        "model.discriminator=tpami", f"model.separate_bn_real_fake={str(separate).lower()}"])
    disc = networks.build_discriminator(cfg)
    disc(_images(1, 0), training=False)  # build; then an FC of order 1 (init: 0.02)
    disc.fc.kernel.assign(np.random.default_rng(3).normal(0, 1, disc.fc.kernel.shape))
    real, fake = _images(3, 1), _images(2, 2) * 0.3
    real_out, fake_out = steps.discriminate(disc, real, fake, cfg, training=True)
    alone = disc(real, training=True)["real_fake"].numpy()
    joint = disc(tf.concat([real, fake], 0), training=True)["real_fake"].numpy()
    assert np.abs(alone - joint[:3]).max() > 0.05  # the two rules can be told apart
    expected = alone if separate else joint[:3]
    np.testing.assert_allclose(real_out["real_fake"].numpy(), expected, rtol=1e-4, atol=1e-5)
    expected_fake = disc(fake, training=True)["real_fake"].numpy() if separate else joint[3:]
    np.testing.assert_allclose(fake_out["real_fake"].numpy(), expected_fake, rtol=1e-4,
                               atol=1e-5)
