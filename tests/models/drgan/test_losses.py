"""DR-GAN losses (drgan spec 3.1-3.3) against numpy on random logits: every term, the D and G
totals with weights, the fake class, the pose term on real vs synthetic images, label
smoothing, yaw regression, masks, and the multi-image 2(n + 1) generator terms."""
import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from tpgan_tf.core.config import get_config
from tpgan_tf.models.drgan import losses

RNG = np.random.default_rng(2017)
B, ND, NP = 6, 7, 9


def np_ce(logits, labels):
    z = logits.astype(np.float64)
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -logp[np.arange(len(labels)), labels]


def np_bce(logits, target):
    p = 1 / (1 + np.exp(-logits.astype(np.float64)))
    return -(target * np.log(p) + (1 - target) * np.log(1 - p))


def _cfg(name, **model):
    cfg = get_config(name, "drgan")
    cfg.model = dataclasses.replace(cfg.model, num_identities=ND, **model)
    return cfg


def _d_out(variant, pose_dim=NP, seed=0):
    rng = np.random.default_rng(seed)
    k = ND + 1 if variant == "cvpr" else ND
    out = {"identity": rng.normal(0, 2, (B, k)).astype(np.float32),
           "pose": rng.normal(0, 2, (B, pose_dim)).astype(np.float32)}
    if variant != "cvpr":
        out["real_fake"] = rng.normal(0, 2, (B, 1)).astype(np.float32)
    return out


IDS = RNG.integers(0, ND, B)
POSE = RNG.integers(0, NP, B)
TARGET = RNG.integers(0, NP, B)


def _np(terms):
    return {k: float(v) for k, v in terms.items()}


def test_cvpr_discriminator_terms_and_total():
    cfg = _cfg("paper")
    cfg.loss = dataclasses.replace(cfg.loss, identity_weight=0.5, pose_weight=2.0,
                                   adversarial_weight=3.0)
    real, fake = _d_out("cvpr", seed=1), _d_out("cvpr", seed=2)
    total, terms = losses.discriminator_loss(real, fake, IDS, POSE, cfg.model, cfg.loss)
    ref = {"identity": np_ce(real["identity"], IDS).mean(),
           "pose": np_ce(real["pose"], POSE).mean(),
           # the fake class is the LAST of the N^d + 1 outputs
           "fake_class": np_ce(fake["identity"], np.full(B, ND)).mean()}
    assert set(terms) == set(ref)
    for k, v in ref.items():
        np.testing.assert_allclose(float(terms[k]), v, rtol=1e-5, err_msg=k)
    np.testing.assert_allclose(float(total), 0.5 * ref["identity"] + 2 * ref["pose"]
                               + 3 * ref["fake_class"], rtol=1e-5)
    # No pose term on fakes for D: changing the fakes' pose logits changes nothing.
    fake2 = {**fake, "pose": fake["pose"] + 5.0}
    total2, _ = losses.discriminator_loss(real, fake2, IDS, POSE, cfg.model, cfg.loss)
    assert float(total2) == float(total)


def test_cvpr_generator_uses_the_input_identity_and_the_target_pose():
    cfg = _cfg("paper")
    fake = _d_out("cvpr", seed=3)
    total, terms = losses.generator_loss(fake, IDS, TARGET, cfg.model, cfg.loss)
    ref_id = np_ce(fake["identity"], IDS).mean()  # over N^d + 1 classes
    ref_pose = np_ce(fake["pose"], TARGET).mean()  # the TARGET pose, not the input's
    assert set(terms) == {"identity", "pose"}
    np.testing.assert_allclose(float(terms["identity"]), ref_id, rtol=1e-5)
    np.testing.assert_allclose(float(terms["pose"]), ref_pose, rtol=1e-5)
    np.testing.assert_allclose(float(total), ref_id + ref_pose, rtol=1e-5)
    assert abs(ref_pose - np_ce(fake["pose"], POSE).mean()) > 1e-3  # the test can tell


def test_tpami_discriminator_and_generator():
    cfg = _cfg("tpami")
    real, fake = _d_out("tpami", seed=4), _d_out("tpami", seed=5)
    total, terms = losses.discriminator_loss(real, fake, IDS, POSE, cfg.model, cfg.loss)
    ref = {"adv_real": np_bce(real["real_fake"][:, 0], 1.0).mean(),
           "adv_fake": np_bce(fake["real_fake"][:, 0], 0.0).mean(),
           "identity": np_ce(real["identity"], IDS).mean(),
           "pose": np_ce(real["pose"], POSE).mean()}
    assert _np(terms).keys() == ref.keys()
    for k, v in ref.items():
        np.testing.assert_allclose(float(terms[k]), v, rtol=1e-5, err_msg=k)
    np.testing.assert_allclose(float(total), sum(ref.values()), rtol=1e-5)
    g_total, g_terms = losses.generator_loss(fake, IDS, TARGET, cfg.model, cfg.loss)
    g_ref = {"adversarial": np_bce(fake["real_fake"][:, 0], 1.0).mean(),
             "identity": np_ce(fake["identity"], IDS).mean(),
             "pose": np_ce(fake["pose"], TARGET).mean()}
    for k, v in g_ref.items():
        np.testing.assert_allclose(float(g_terms[k]), v, rtol=1e-5, err_msg=k)
    np.testing.assert_allclose(float(g_total), sum(g_ref.values()), rtol=1e-5)


def test_official_label_smoothing_am_softmax_and_yaw_regression():
    cfg = get_config("official", "drgan")
    cfg.model = dataclasses.replace(cfg.model, num_identities=ND)
    real, fake = _d_out("official", pose_dim=1, seed=6), _d_out("official", pose_dim=1, seed=7)
    real["identity"] = np.tanh(real["identity"])  # cosines
    fake["identity"] = np.tanh(fake["identity"])
    yaw = RNG.uniform(-1.5, 1.5, B).astype(np.float32)
    target_yaw = RNG.uniform(-1.5, 1.5, B).astype(np.float32)
    # Official batch: rows 0-1 AFLW (yaw only), rows 2-5 VGG2 (identity only).
    id_mask = np.array([0, 0, 1, 1, 1, 1], np.float32)
    yaw_mask = 1 - id_mask
    total, terms = losses.discriminator_loss(real, fake, IDS, yaw, cfg.model, cfg.loss,
                                             identity_mask=id_mask, pose_mask=yaw_mask)
    am = 30.0 * (real["identity"] - 0.35 * np.eye(ND)[IDS])
    ref = {"adv_real": np_bce(real["real_fake"][:, 0], 0.999).mean(),  # smoothed target
           "adv_fake": np_bce(fake["real_fake"][:, 0], 0.0).mean(),
           "identity": np_ce(am, IDS)[2:].mean(),  # mean over the 4 labelled rows
           "pose": (0.5 * (real["pose"][:, 0] - yaw) ** 2)[:2].sum() / 2}  # sum_AFLW / B_AFLW
    for k, v in ref.items():
        np.testing.assert_allclose(float(terms[k]), v, rtol=1e-5, err_msg=k)
    np.testing.assert_allclose(float(total), sum(ref.values()), rtol=1e-5)
    # Smoothing matters: target 1 gives a different real term.
    assert abs(np_bce(real["real_fake"][:, 0], 1.0).mean() - ref["adv_real"]) > 1e-5
    # G: identity over the first 5 of 6 fakes (official first-5B rule), yaw over all.
    mask = losses.first_rows_mask(B, 5)
    np.testing.assert_array_equal(mask.numpy(), [1, 1, 1, 1, 1, 0])
    g_total, g_terms = losses.generator_loss(fake, IDS, target_yaw, cfg.model, cfg.loss,
                                             identity_mask=mask)
    am_f = 30.0 * (fake["identity"] - 0.35 * np.eye(ND)[IDS])
    g_ref = {"adversarial": np_bce(fake["real_fake"][:, 0], 1.0).mean(),
             "identity": np_ce(am_f, IDS)[:5].mean(),
             "pose": (0.5 * (fake["pose"][:, 0] - target_yaw) ** 2).sum() / B}
    for k, v in g_ref.items():
        np.testing.assert_allclose(float(g_terms[k]), v, rtol=1e-5, err_msg=k)
    np.testing.assert_allclose(float(g_total), sum(g_ref.values()), rtol=1e-5)


def test_multi_generator_has_2_n_plus_1_terms():
    cfg = _cfg("multi")
    n = cfg.model.multi_images
    fakes = [_d_out("cvpr", seed=10 + i) for i in range(n + 1)]
    targets = [RNG.integers(0, NP, B) for _ in range(n + 1)]
    total, terms = losses.multi_generator_loss(fakes, IDS, targets, cfg.model, cfg.loss)
    assert len(terms) == 2 * (n + 1)
    assert {"fused/identity", "fused/pose", "single0/identity", f"single{n - 1}/pose"} <= set(terms)
    ref = sum(np_ce(f["identity"], IDS).mean() + np_ce(f["pose"], t).mean()
              for f, t in zip(fakes, targets))
    np.testing.assert_allclose(float(total), ref, rtol=1e-5)
    np.testing.assert_allclose(float(terms["fused/pose"]), np_ce(fakes[-1]["pose"],
                                                                targets[-1]).mean(), rtol=1e-5)
    cfg.loss = dataclasses.replace(cfg.loss, multi_reduction="mean")
    mean_total, _ = losses.multi_generator_loss(fakes, IDS, targets, cfg.model, cfg.loss)
    np.testing.assert_allclose(float(mean_total), ref / (n + 1), rtol=1e-5)
    with pytest.raises(ValueError, match="n \\+ 1 >= 2"):
        losses.multi_generator_loss(fakes[:1], IDS, targets[:1], cfg.model, cfg.loss)


def test_masked_mean_and_float32_from_bfloat16():
    v = tf.constant([1.0, 2.0, 3.0, 4.0])
    assert float(losses.masked_mean(v, [1, 0, 1, 0])) == 2.0
    assert float(losses.masked_mean(v, [0, 0, 0, 0])) == 0.0
    logits = tf.constant(RNG.normal(0, 2, (B, NP)), tf.bfloat16)
    ce = losses.softmax_ce(logits, POSE)
    assert ce.dtype == tf.float32
    np.testing.assert_allclose(float(ce), np_ce(logits.numpy().astype(np.float32), POSE).mean(),
                               rtol=1e-5)
    with pytest.raises(ValueError, match="got 7, 6"):
        losses.first_rows_mask(6, 7)


def test_discriminator_accuracies():
    cfg = _cfg("paper")
    real, fake = _d_out("cvpr", seed=20), _d_out("cvpr", seed=21)
    real["identity"][np.arange(B), IDS] = 50.0  # all correct
    real["pose"][:3, :] = 0.0
    real["pose"][np.arange(3), POSE[:3]] = 50.0  # half correct (rows 3-5 random)
    fake["identity"][:, ND] = -50.0  # never the fake class
    fake["pose"][np.arange(B), TARGET] = 50.0
    acc = {k: float(v) for k, v in losses.discriminator_accuracies(
        real, fake, IDS, POSE, TARGET, cfg.model).items()}
    pose_real = np.mean(np.argmax(real["pose"], 1) == POSE)
    assert acc["identity_real"] == 1.0 and acc["fake_class"] == 0.0 and acc["pose_fake"] == 1.0
    np.testing.assert_allclose(acc["pose_real"], pose_real)
    np.testing.assert_allclose(acc["mean"], (1.0 + pose_real + 0.0) / 3, rtol=1e-6)
    tp = _cfg("tpami")
    real, fake = _d_out("tpami", seed=22), _d_out("tpami", seed=23)
    acc = losses.discriminator_accuracies(real, fake, IDS, POSE, TARGET, tp.model)
    np.testing.assert_allclose(float(acc["real"]), np.mean(real["real_fake"] > 0))
    np.testing.assert_allclose(float(acc["fake"]), np.mean(fake["real_fake"] < 0))
