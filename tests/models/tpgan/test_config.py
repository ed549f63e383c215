"""TP-GAN's config (tpgan_tf/models/tpgan/config.py, presets.py): the faithful `paper` numbers
of the spec, the small presets, field validation and the norm dict of the layers."""
import pytest

from tpgan_tf.core.config import apply_overrides, get_config
from tpgan_tf.models.tpgan.config import TpganConfig, norm_kwargs


def test_paper_is_the_spec():
    cfg = get_config("paper", "tpgan")
    assert isinstance(cfg, TpganConfig)
    m, loss, train = cfg.model, cfg.loss, cfg.train
    assert (m.width, m.z_dim, m.z_stddev, m.num_identities) == (1.0, 100, 0.02, 340)  # 2.5
    assert (m.identity_dropout, m.bn_mode, m.bn_momentum, m.bn_epsilon) == (
        0.7, "batch_stats", 0.9, 1e-5)  # spec 2.1, 2.5
    assert (loss.l1_128, loss.l1_64, loss.l1_32, loss.symmetry) == (1.0, 1.0, 1.5, 0.3)
    assert (loss.adversarial, loss.identity, loss.cross_entropy) == (20.0, 40.0, 10.0)
    assert (loss.total_variation, loss.part, loss.real_label) == (1e-3, 3.0, 0.9)
    assert (train.batch_size, train.learning_rate, train.beta1, train.beta2) == (
        10, 1e-4, 0.9, 0.999)  # spec 5
    assert train.generator_steps_per_iteration == 2 and (train.yaw_low, train.yaw_high) == (0, 60)
    assert train.lr_decay_start == 1.0  # spec 5: constant learning rate
    assert cfg.runtime.mixed_precision == "float32" and not cfg.runtime.jit_compile


def test_small_presets_change_sizes_only():
    paper, demo, tiny = (get_config(n, "tpgan") for n in ("paper", "demo", "tiny"))
    assert tiny.model.width == 0.0625 and tiny.model.lightcnn_width == 0.125
    assert demo.model.width == 0.125 and demo.train.learning_rate == 1e-3  # documented
    for small in (demo, tiny):
        assert small.loss == paper.loss
        assert small.model.bn_mode == paper.model.bn_mode
        assert small.train.generator_steps_per_iteration == 2


@pytest.mark.parametrize("override, message", [
    ("model.bn_mode=train", "model.bn_mode must be one of"),
    ("model.width=0", r"model.width must be in \(0, 4\]"),
    ("model.lightcnn_width=5", r"model.lightcnn_width must be in \(0, 4\]"),
    ("model.identity_dropout=1", r"model.identity_dropout must be in \[0, 1\)"),
    ("train.yaw_high=100", "need 0 <= train.yaw_low <= train.yaw_high <= 90"),
    ("train.lr_decay_start=1.5", r"train.lr_decay_start must be in \[0, 1\]"),
])
def test_bad_values_name_the_field(override, message):
    with pytest.raises(ValueError, match=message):
        apply_overrides(get_config("tiny", "tpgan"), [override])


def test_norm_kwargs():
    cfg = apply_overrides(get_config("tiny", "tpgan"), ["model.bn_mode=inference",
                                               "runtime.sync_batch_norm=true"])
    assert norm_kwargs(cfg) == {"bn_mode": "inference", "momentum": 0.9, "epsilon": 1e-5,
                                "synchronized": True}
    assert norm_kwargs(get_config("tiny", "tpgan"))["synchronized"] is False  # None: not decided yet


def test_learning_rate_decays_over_each_optimisers_own_steps():
    """train.lr_decay_start=0.5 over 4 iterations: D steps once per iteration (lr 0 after its
    4th step), G and the local pathways twice (0 after their 8th), each half-way at 3/4."""
    import types

    from tpgan_tf.models.tpgan.task import TpganTask

    cfg = apply_overrides(get_config("tiny", "tpgan"), [
        "train.num_iterations=4", "train.lr_decay_start=0.5", "train.learning_rate=1e-3"])
    nets = types.SimpleNamespace(trainable_variables=[], local=types.SimpleNamespace(
        trainable_variables=[]))
    stub = types.SimpleNamespace(config=cfg, networks={"generator": nets, "discriminator": nets})
    optims = {k: opt for k, (opt, _) in TpganTask.build_optimizers(stub).items()}
    for name, steps_done, want in (("d_optim", 3, 5e-4), ("d_optim", 2, 1e-3),
                                   ("g_optim", 6, 5e-4), ("rot_optim", 6, 5e-4),
                                   ("g_optim", 8, 0.0)):
        optims[name].iterations.assign(steps_done)
        assert float(optims[name].learning_rate) == pytest.approx(want, abs=1e-10), name
    faithful = TpganTask.build_optimizers(types.SimpleNamespace(
        config=get_config("tiny", "tpgan"), networks=stub.networks))
    faithful["g_optim"][0].iterations.assign(7)
    assert float(faithful["g_optim"][0].learning_rate) == pytest.approx(1e-4)  # constant
