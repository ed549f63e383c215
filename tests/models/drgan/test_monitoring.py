"""The failure signals (tpgan_tf/models/drgan/monitoring.py) against numpy by hand, and the
target / noise sampling of drgan spec 4.4 (sampling.py)."""
import math

import numpy as np
import tensorflow as tf

from tpgan_tf.core.config import apply_overrides, get_config
from tpgan_tf.models.drgan import monitoring, sampling, steps


def test_pair_mask_keeps_pairs_of_different_identities_once():
    mask = monitoring.pair_mask(tf.constant([0, 0, 1, 2])).numpy()
    expected = np.zeros((4, 4))
    for i, j in [(0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]:
        expected[i, j] = 1
    np.testing.assert_array_equal(mask, expected)
    same_pose = monitoring.pair_mask(tf.constant([0, 0, 1, 2]), tf.constant([5, 4, 5, 4]))
    assert set(zip(*np.nonzero(same_pose.numpy()))) == {(0, 2), (1, 3)}


def test_pairwise_distances_by_hand():
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (3, 8, 8, 3)).astype(np.float32)
    identity = tf.constant([0, 1, 1])
    mask = monitoring.pair_mask(identity)
    pooled = images.reshape(3, 2, 4, 2, 4, 3).mean(axis=(2, 4))  # 4 x 4 average pooling
    d = lambda i, j: np.abs(pooled[i] - pooled[j]).mean() / 2  # noqa: E731
    expected = (d(0, 1) + d(0, 2)) / 2
    np.testing.assert_allclose(float(monitoring.pairwise_l1(images, mask)), expected, rtol=1e-5)
    f = rng.normal(size=(3, 5)).astype(np.float32)
    cos = lambda a, b: a @ b / np.linalg.norm(a) / np.linalg.norm(b)  # noqa: E731
    expected = ((1 - cos(f[0], f[1])) + (1 - cos(f[0], f[2]))) / 2
    np.testing.assert_allclose(float(monitoring.pairwise_cosine_distance(f, mask)), expected,
                               rtol=1e-5)
    # Collapse: identical syntheses of different identities give 0.
    same = np.repeat(images[:1], 3, axis=0)
    assert float(monitoring.pairwise_l1(same, mask)) == 0.0
    assert float(monitoring.pairwise_l1(images, monitoring.pair_mask(tf.constant([1, 1, 1])))) == 0


def test_target_poses_and_noise():
    rng = tf.random.Generator.from_seed(1)
    paper = get_config("paper", "drgan")
    t = sampling.draw_targets(rng, 2000, 1, paper).numpy()
    assert t.dtype == np.int32 and t.min() == 0 and t.max() == 8
    assert abs(np.bincount(t.ravel()) / 2000 - 1 / 9).max() < 0.03  # uniform over 9 views
    z = sampling.draw_z(rng, 500, 2, paper).numpy()
    assert z.shape == (500, 2, 50) and z.min() >= -1 and z.max() <= 1
    official = get_config("official", "drgan")  # anchor N(0, 45 deg), others U(-90, 90)
    t = sampling.draw_targets(rng, 4000, 5, official).numpy()
    assert t.shape == (4000, 5)
    assert abs(t[:, 0].std() - math.radians(45)) < 0.03
    assert abs(t[:, 1:]).max() <= math.radians(90) and abs(t[:, 1:].std()
                                                           - math.radians(90) / 3 ** 0.5) < 0.03
    code = sampling.pose_code(tf.constant([0, 8]), paper).numpy()
    np.testing.assert_array_equal(code, np.eye(9)[[0, 8]])
    assert sampling.frontal_index(paper) == 4 and sampling.frontal_index(official) == 6
    np.testing.assert_allclose(sampling.view_targets(official).numpy()[[0, 6, 12]],
                               [-math.pi / 2, 0, math.pi / 2], atol=1e-6)


def test_syntheses_are_ordered_synthesis_major():
    """Multi-image: k = n + 1 syntheses per row, [single 0 rows; ...; fused rows]."""
    cfg = apply_overrides(get_config("tiny", "drgan"), ["model.multi_images=2"])
    assert steps.syntheses_per_row(cfg) == 3
    batch = {"image": tf.zeros([2, 2, 32, 32, 3]), "identity": tf.constant([5, 6]),
             "pose": tf.constant([[0, 1], [2, 3]]), "yaw": tf.constant([[-60, -45], [-30, -15]])}
    images, identity, pose = steps.real_images(batch, cfg)
    assert images.shape == (4, 32, 32, 3)
    assert identity.numpy().tolist() == [5, 5, 6, 6] and pose.numpy().tolist() == [0, 1, 2, 3]

    class Echo:  # stand-ins recording what G_dec receives
        feature_dim = 4

        def __call__(self, x, training=None):
            if isinstance(x, dict):
                self.seen = x
                return tf.zeros([x["features"].shape[0], 32, 32, 3])
            n = x.shape[0]
            return {"features": tf.tile(tf.range(n, dtype=tf.float32)[:, None], [1, 4]),
                    "omega": tf.ones([n, 1])}

    enc, dec = Echo(), Echo()
    targets = tf.constant([[0, 1, 2], [3, 4, 5]])
    syn = steps.synthesise(enc, dec, batch, targets, tf.zeros([2, 3, cfg.model.z_dim]), cfg,
                           training=False)
    assert syn["targets"].numpy().tolist() == [0, 3, 1, 4, 2, 5]
    assert syn["identity"].numpy().tolist() == [5, 6, 5, 6, 5, 6]
    # Features: image 0 of rows 0, 1 (encoder rows 0, 2), image 1 (1, 3), then the fusions.
    np.testing.assert_allclose(dec.seen["features"].numpy()[:, 0], [0, 2, 1, 3, 0.5, 2.5],
                               atol=1e-5)
