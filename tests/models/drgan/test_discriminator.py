"""D against drgan spec 2.4: trunk shapes, the three head layouts (sizes and how the one FC
is split), parameter counts from the tables, and separate BN statistics for real and fake."""
import numpy as np
import pytest
import tensorflow as tf

from tests.models.drgan.helpers import SHAPES_96, check_rows, discriminator_params
from tpgan_tf.models.drgan.discriminator import Discriminator


def _images(batch, size, seed=0):
    return tf.constant(np.random.default_rng(seed).uniform(-1, 1, (batch, size, size, 3)),
                       tf.float32)


def _count(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


@pytest.fixture(scope="module")
def paper_d():
    d = Discriminator(width=1.0, variant="cvpr", num_identities=200, pose_dim=9)
    return d, d.layer_outputs(_images(2, 96), training=False)


def test_paper_trunk_shapes_and_heads(paper_d):
    d, out = paper_d
    for name, shape in SHAPES_96.items():  # its own CASIA trunk, the same table as G_enc
        assert tuple(out[name].shape) == (2, *shape), name
    assert tuple(out["avgpool"].shape) == (2, 320)
    assert tuple(out["identity"].shape) == (2, 201)  # N^d + 1, last = fake
    assert tuple(out["pose"].shape) == (2, 9)
    assert "real_fake" not in out
    assert _count(d) == discriminator_params(1.0, "cvpr", 200, 9) == 2_931_474


def _fc_logits_of_order_one(d, images):
    """D's outputs in training mode (pooled features of order 1) after giving its one FC a
    kernel and a bias of order 1 (every output distinct, so a wrong split shows), and the
    FC's logits by hand."""
    d(images, training=False)  # build
    rng = np.random.default_rng(8)
    d.fc.kernel.assign(rng.normal(0, 1, d.fc.kernel.shape).astype(np.float32))
    d.fc.bias.assign(rng.normal(0, 1, d.fc.bias.shape).astype(np.float32))
    out = d.layer_outputs(images, training=True)
    return out, out["avgpool"].numpy() @ d.fc.kernel.numpy() + d.fc.bias.numpy()


def test_cvpr_fc_split_identity_with_fake_class_then_pose():
    d = Discriminator(width=0.125, variant="cvpr", num_identities=7, pose_dim=9)
    out, logits = _fc_logits_of_order_one(d, _images(3, 32))
    # One FC to N^d + 1 + N^p, split in that order (the fake class is identity's last).
    assert logits.shape == (3, 7 + 1 + 9) and out["identity"].shape == (3, 8)
    np.testing.assert_allclose(out["identity"].numpy(), logits[:, :8], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(out["pose"].numpy(), logits[:, 8:], rtol=1e-4, atol=1e-4)


def test_tpami_heads_split_identity_real_fake_pose():
    d = Discriminator(width=0.125, variant="tpami", num_identities=7, pose_dim=9)
    out, logits = _fc_logits_of_order_one(d, _images(3, 32))
    assert logits.shape == (3, 7 + 1 + 9)
    np.testing.assert_allclose(out["identity"].numpy(), logits[:, :7], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(out["real_fake"].numpy(), logits[:, 7:8], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(out["pose"].numpy(), logits[:, 8:], rtol=1e-4, atol=1e-4)
    assert _count(d) == discriminator_params(0.125, "tpami", 7, 9)
    # With an AM-softmax identity head the FC holds real/fake then pose; the identity is
    # the cosine of the pooled features with W's columns.
    d = Discriminator(width=0.125, variant="tpami", num_identities=7, pose_dim=9,
                      identity_head="am_softmax", name="d_tpami_am")
    out, logits = _fc_logits_of_order_one(d, _images(3, 32))
    assert logits.shape == (3, 1 + 9)
    np.testing.assert_allclose(out["real_fake"].numpy(), logits[:, :1], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(out["pose"].numpy(), logits[:, 1:], rtol=1e-4, atol=1e-4)
    f, w = out["avgpool"].numpy(), d.identity_out.kernel.numpy()
    cos = (f / np.linalg.norm(f, axis=1, keepdims=True)) @ (w / np.linalg.norm(w, axis=0))
    np.testing.assert_allclose(out["identity"].numpy(), cos, rtol=1e-4, atol=1e-5)


def test_official_branches_shapes_and_count():
    d = Discriminator(width=1.0, variant="official", num_identities=200, pose_dim=1,
                      identity_head="am_softmax", last_activation=None, head_dropout=0.4)
    out = d.layer_outputs(_images(1, 96), training=False)
    assert tuple(out["conv51"].shape) == (1, 6, 6, 256)  # shared trunk ends at d_k40
    assert "conv52" not in out and "conv53" not in out
    for branch in ("identity_branch", "pose_branch", "adversarial_branch"):
        assert tuple(out[f"{branch}/conv52"].shape) == (1, 6, 6, 160)
        assert tuple(out[f"{branch}/conv53"].shape) == (1, 6, 6, 320)
    assert tuple(out["identity"].shape) == (1, 200)
    assert np.abs(out["identity"].numpy()).max() <= 1.0 + 1e-6  # cosines
    assert tuple(out["pose"].shape) == (1, 1)  # yaw regression
    assert tuple(out["real_fake"].shape) == (1, 1)
    assert _count(d) == discriminator_params(1.0, "official", 200, 1) == 4_590_466


@pytest.mark.parametrize("variant, last_activation", [("cvpr", "elu"), ("tpami", None)])
def test_paper_trunk_rows_by_hand_in_training_mode(variant, last_activation):
    """Spec 2.4 / 2.1: D's own 14-row trunk, BN + ELU after every conv, Conv53 with the
    configured last activation; training-mode BN (unit scale)."""
    d = Discriminator(width=0.125, variant=variant, num_identities=5, pose_dim=9,
                      last_activation=last_activation, name=f"d_rows_{variant}")
    x = _images(4, 32, seed=5)
    out = d.layer_outputs(x, training=True)
    names = list(SHAPES_96)
    acts = ["elu"] * 13 + [last_activation]
    check_rows(out, x, [(n, getattr(d.trunk, n), True, a) for n, a in zip(names, acts)])


def test_official_trunk_and_branch_rows_by_hand_in_training_mode():
    """Official D (spec 2.4, 2.1 [CODE]): BN + ELU after every trunk conv d_k01 .. d_k40
    (Conv51 included); in each branch Conv52 + BN + ELU, then Conv53 + BN and NO
    activation (k42 is the only conv without one)."""
    d = Discriminator(width=0.125, variant="official", num_identities=5, pose_dim=1,
                      identity_head="am_softmax", last_activation=None, head_dropout=0.4,
                      name="d_rows_official")
    x = _images(4, 32, seed=6)
    out = d.layer_outputs(x, training=True)
    trunk = list(SHAPES_96)[:12]  # conv11 .. conv51
    check_rows(out, x, [(n, getattr(d.trunk, n), True, "elu") for n in trunk])
    for branch in ("identity_branch", "pose_branch", "adversarial_branch"):
        stack = getattr(d, branch)
        check_rows(out, out["conv51"], [(f"{branch}/conv52", stack.conv52, True, "elu"),
                                        (f"{branch}/conv53", stack.conv53, True, None)])
    # The identity features are the pooled Conv53 of the identity branch, the identity
    # output their AM-softmax cosines (row-normalised f, column-normalised W; no dropout).
    f = out["identity_branch/conv53"].numpy().mean(axis=(1, 2))
    np.testing.assert_allclose(out["features"].numpy(), f, rtol=1e-5, atol=1e-6)
    w = d.identity_out.kernel.numpy()
    cos = (f / np.linalg.norm(f, axis=1, keepdims=True)) @ (w / np.linalg.norm(w, axis=0))
    np.testing.assert_allclose(out["identity"].numpy(), cos, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("variant", ["official", "tpami"])
def test_head_dropout_only_before_the_pose_and_adversarial_heads(variant):
    """Official (spec 2.4): dropout keep 0.6 before the pose and the adversarial Dense, none
    before the AM-softmax identity head; tpami: before its one FC. Training-mode BN is
    deterministic for a fixed batch, so only dropout makes two training calls differ."""
    d = Discriminator(width=0.125, variant=variant, num_identities=5, pose_dim=9,
                      identity_head="am_softmax" if variant == "official" else "softmax",
                      head_dropout=0.4, name=f"d_dropout_{variant}")
    x = _images(4, 32, seed=7)
    d(x, training=False)  # build
    for v in d.trainable_weights:  # head kernels of order 1: dropout shows in the outputs
        if v.path.split("/")[-2] in ("identity_head", "pose_head", "adversarial_head", "fc"):
            v.assign(np.random.default_rng(0).normal(0, 1, v.shape).astype(np.float32))
    a, b = d(x, training=True), d(x, training=True)
    for key in ("pose", "real_fake"):
        assert np.abs(a[key].numpy() - b[key].numpy()).max() > 0.05, key
    if variant == "official":  # the identity cosines see no dropout
        np.testing.assert_allclose(a["identity"].numpy(), b["identity"].numpy(), rtol=1e-5,
                                   atol=1e-6)
    else:
        assert np.abs(a["identity"].numpy() - b["identity"].numpy()).max() > 0.05
    a, b = d(x, training=False), d(x, training=False)
    for key in ("identity", "pose", "real_fake"):
        np.testing.assert_array_equal(a[key].numpy(), b[key].numpy())


def test_cvpr_with_am_softmax_is_refused():
    with pytest.raises(ValueError, match="variant 'cvpr'"):
        Discriminator(variant="cvpr", identity_head="am_softmax")
    with pytest.raises(ValueError, match="'wgan'"):
        Discriminator(variant="wgan")


def _bn_stats_differ(a, b):
    return not np.allclose(a.numpy(), b.numpy(), atol=1e-5)


def test_official_call_real_fake_keeps_separate_bn_statistics():
    d = Discriminator(width=0.0625, variant="official", num_identities=5, pose_dim=1,
                      identity_head="am_softmax", last_activation=None, head_dropout=0.0)
    real, fake = _images(3, 32, seed=1), _images(2, 32, seed=2) * 0.2
    real_out, fake_out = d.call_real_fake(real, fake, training=True)
    # Identity path: trunk + identity branch on each half alone = D on that half alone.
    np.testing.assert_allclose(real_out["identity"].numpy(),
                               d(real, training=True)["identity"].numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(fake_out["identity"].numpy(),
                               d(fake, training=True)["identity"].numpy(), rtol=1e-4, atol=1e-5)
    # ...and not what one joint batch gives.
    joint = d(tf.concat([real, fake], 0), training=True)
    assert _bn_stats_differ(real_out["identity"], joint["identity"][:3])
    # Pose and adversarial branches: on the re-concatenated separately-normalised trunk output.
    trunk = tf.concat([d.trunk(real, training=True), d.trunk(fake, training=True)], 0)
    expected = d._official_pose_adversarial(trunk, training=True)
    for key in ("pose", "real_fake"):
        got = np.concatenate([real_out[key].numpy(), fake_out[key].numpy()])
        np.testing.assert_allclose(got, expected[key].numpy(), rtol=1e-4, atol=1e-5)
    assert real_out["pose"].shape == (3, 1) and fake_out["real_fake"].shape == (2, 1)


def test_paper_call_real_fake_is_two_separate_calls():
    d = Discriminator(width=0.0625, variant="tpami", num_identities=5, pose_dim=9)
    real, fake = _images(2, 32, seed=3), _images(2, 32, seed=4)
    real_out, fake_out = d.call_real_fake(real, fake, training=True)
    alone = d(real, training=True)
    joint = d(tf.concat([real, fake], 0), training=True)
    for key in ("identity", "pose", "real_fake"):
        np.testing.assert_allclose(real_out[key].numpy(), alone[key].numpy(), rtol=1e-4,
                                   atol=1e-5)
    assert _bn_stats_differ(real_out["real_fake"], joint["real_fake"][:2])
