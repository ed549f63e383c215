"""DR-GAN presets (issue 11 part 2): the faithful numbers of each, validation errors that name
the value, JSON and override round trips, and the [unverified] marks in the comments."""
import inspect

import pytest

from tpgan_tf.core.config import apply_overrides, config_from_dict, get_config, presets
from tpgan_tf.models.drgan import config as drgan_config
from tpgan_tf.models.drgan import presets as drgan_presets


def test_presets_are_registered():
    assert presets("drgan") == ["demo", "multi", "official", "paper", "tiny", "tpami"]


def test_paper_is_the_cvpr_multipie_configuration():
    cfg = get_config("paper", "drgan")
    m, t, d, loss = cfg.model, cfg.train, cfg.data, cfg.loss
    assert (m.width, m.num_identities, m.num_poses, m.pose_code) == (1.0, 200, 9, "onehot")
    assert (m.z_dim, m.z_distribution, m.z_scale) == (50, "uniform", 1.0)
    assert (m.discriminator, m.identity_head, m.decoder) == ("cvpr", "softmax", "paper")
    assert (m.bn_mode, m.bn_momentum, m.bn_epsilon) == ("inference", 0.9, 1e-5)
    assert (m.confidence, m.multi_images, m.last_activation) == ("none", 1, "elu")
    assert (t.learning_rate, t.beta1, t.batch_size) == (2e-4, 0.5, 64)
    assert (loss.identity_weight, loss.pose_weight, loss.adversarial_weight) == (1, 1, 1)
    assert (d.image_size, d.load_size, d.max_yaw, d.num_views, d.flip) == (96, 110, 60, 9, True)
    assert d.same_batch_for_d_and_g is False  # a fresh augmentation per step (spec 4.3)
    assert t.pretrain_d is False and m.pose_dim == 9
    assert loss.reconstruction_weight == 0  # the pixel loss is an extension (spec 3.3)


def test_tpami_and_multi_change_only_their_rules():
    paper = get_config("paper", "drgan").to_dict()
    tpami = get_config("tpami", "drgan").to_dict()
    multi = get_config("multi", "drgan").to_dict()
    diff = lambda a, b: {(s, k) for s in a if isinstance(a[s], dict)  # noqa: E731
                         for k in a[s] if a[s][k] != b[s][k]}
    assert diff(paper, tpami) == {("model", "discriminator")}
    assert diff(paper, multi) == {("model", "multi_images"), ("model", "confidence"),
                                  ("model", "omega_dropout")}
    assert multi["model"]["multi_images"] == 4 and multi["model"]["confidence"] == "channel"
    # The paper's "drop-out on the coefficient omega" (spec 2.5), rate [unverified].
    assert multi["model"]["omega_dropout"] == 0.2 and paper["model"]["omega_dropout"] == 0.0


def test_official_preset():
    cfg = get_config("official", "drgan")
    m, loss, t = cfg.model, cfg.loss, cfg.train
    assert (m.identity_head, loss.am_margin, loss.am_scale) == ("am_softmax", 0.35, 30.0)
    assert (m.pose_code, m.pose_dim, m.pose_embedding_dim, m.z_dim) == ("yaw", 1, 20, 20)
    assert loss.real_label == 0.999 and m.separate_bn_real_fake
    assert (m.feature_dropout, m.decoder_dropout, m.head_dropout) == (0.4, 0.4, 0.4)
    assert (m.decoder, m.discriminator, m.last_activation) == ("official", "official", "none")
    assert (m.confidence, m.multi_images) == ("branch", 4)
    assert (t.schedule, t.pretrain_d, t.target_pose, t.batch_size) == ("official", True,
                                                                       "official", 24)


def test_small_presets():
    demo, tiny = get_config("demo", "drgan"), get_config("tiny", "drgan")
    assert demo.model.width < 1 and demo.train.batch_size <= 16
    # The demo's one extension (README "Demo results"); every other preset has none.
    assert demo.loss.reconstruction_weight == 10 and tiny.loss.reconstruction_weight == 0
    assert tiny.model.width == 0.0625 and tiny.train.batch_size == 2
    assert tiny.train.num_iterations <= 10 and tiny.data.image_size == 32


def test_eval_section_defaults_and_overrides():
    """The evaluate options of DR-GAN's protocols are the eval section ("" = not given)."""
    cfg = get_config("paper", "drgan")
    assert (cfg.eval.pairs_dir, cfg.eval.lightcnn_weights, cfg.eval.lightcnn_width) == ("", "",
                                                                                      0.0)
    cfg = apply_overrides(cfg, ["eval.pairs_dir=/data/pairs", "eval.lightcnn_width=0.125"])
    assert (cfg.eval.pairs_dir, cfg.eval.lightcnn_width) == ("/data/pairs", 0.125)
    assert config_from_dict(cfg.to_dict()).eval == cfg.eval


def test_json_round_trip_and_overrides():
    cfg = get_config("official", "drgan")
    again = config_from_dict(cfg.to_dict())
    assert again.to_dict() == cfg.to_dict() and type(again) is type(cfg)
    cfg = apply_overrides(get_config("paper", "drgan"),
                          ["model.multi_images=6", "model.confidence=channel",
                           "data.max_yaw=90", "model.num_poses=13"])
    assert cfg.model.multi_images == 6 and cfg.data.num_views == 13


@pytest.mark.parametrize("override, message", [
    ("model.discriminator=gan", "'gan'"),
    ("model.num_poses=13", "num_poses=13 does not match data.max_yaw=60"),
    ("data.image_size=100", "multiple of 16, got 100"),
    ("model.identity_head=am_softmax", "separate real/fake"),
    ("model.feature_dropout=1.0", "feature_dropout must be in \\[0, 1\\), got 1.0"),
    ("train.target_pose=official", "pose_code='yaw'"),
    ("model.decoder_dropout=0.4", "only the official decoder"),
    ("train.schedule=wgan", "'wgan'"),
    ("loss.reconstruction_weight=-1", "reconstruction_weight must be >= 0"),
])
def test_bad_values_name_the_problem(override, message):
    with pytest.raises(ValueError, match=message):
        apply_overrides(get_config("paper", "drgan"), [override])


def test_official_decoder_needs_a_multiple_of_32():
    with pytest.raises(ValueError, match="multiple of 32"):
        apply_overrides(get_config("official", "drgan"), ["data.image_size=48"])


def test_unverified_numbers_are_marked():
    source = inspect.getsource(drgan_config) + inspect.getsource(drgan_presets)
    assert source.count("[unverified") >= 10
    for phrase in ("N^z = 50, U(-1, 1) [unverified", "batch_size: int = 64  # [unverified]",
                   "lr 2e-4, beta1 0.5\n    # (paper [unverified",
                   "coefficient omega\" (spec 2.5); the rate is\n    # [unverified]"):
        assert phrase in source, phrase


def test_reconstruction_extension_is_single_image_only():
    with pytest.raises(ValueError, match="single-image DR-GAN"):
        apply_overrides(get_config("multi", "drgan"), ["loss.reconstruction_weight=1"])
