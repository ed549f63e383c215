"""FSRNet config: presets, validation, the eval and weights sections, and the parameter counts
of each preset's networks (networks.py) against the spec's [COMP] numbers."""
import functools

import pytest

from tests.models.fsrnet import param_tables as T
from tpgan_tf.core.config import apply_overrides, copy_config, get_config, presets, scaled
from tpgan_tf.models.fsrnet import networks

PRESETS = ("paper", "celeba", "gan", "demo", "folder", "tiny")


@functools.cache
def _counts(name, *overrides):
    """parameter_counts of a preset's networks with overrides, built once per module (~2 s
    each)."""
    cfg = apply_overrides(get_config(name, task="fsrnet"), list(overrides))
    return networks.parameter_counts(networks.build_networks(cfg), cfg)


def test_presets_are_registered_and_round_trip():
    assert set(PRESETS) <= set(presets("fsrnet"))
    for name in PRESETS:
        cfg = get_config(name, task="fsrnet")
        assert cfg.task == "fsrnet" and cfg.name == name
        assert copy_config(cfg).to_dict() == cfg.to_dict()


def test_paper_preset_is_the_spec():
    cfg = get_config("paper", task="fsrnet")
    t = cfg.train
    assert (t.optimizer, t.learning_rate, t.rmsprop_rho, t.rmsprop_epsilon, t.batch_size) == (
        "rmsprop", 2.5e-4, 0.99, 1e-8, 14)  # spec 7
    assert (cfg.loss.alpha, cfg.loss.beta, cfg.loss.gamma_c, cfg.loss.gamma_p) == (1, 1, 1e-3, 1e-1)
    assert cfg.num_priors == 197 and cfg.model.num_stacks == 2 and not t.gan
    assert (cfg.model.bn_momentum, cfg.model.bn_epsilon, cfg.model.bn_mode) == (0.9, 1e-5, "inference")
    assert get_config("celeba", task="fsrnet").num_priors == 79
    assert get_config("gan", task="fsrnet").train.gan


@pytest.mark.parametrize("name", PRESETS)
def test_parameter_counts_of_every_preset_match_the_layer_tables(name):
    cfg = get_config(name, task="fsrnet")
    c64, c128 = scaled(64, cfg.model.width), scaled(128, cfg.model.width)
    k, depth = cfg.num_priors, cfg.model.hourglass_depth
    counts = _counts(name)
    assert counts["coarse"] == T.coarse(c64)
    assert counts["encoder"] == T.encoder(c64)
    assert counts["prior"] == T.prior_trunk(c64, c128, depth)
    assert counts["prior_head"] == T.prior_head(c128, k)
    assert counts["decoder"] == T.decoder(c64, k)
    assert counts["generator"] == T.generator(c64, c128, k, depth)
    assert ("discriminator" in counts) == cfg.train.gan
    if cfg.train.gan:
        assert counts["discriminator"] == T.patch_discriminator(c64)


def test_full_width_counts_equal_spec_4_5():
    paper = _counts("paper")  # depth 4, K = 197, decoder on the maps
    assert (paper["coarse"], paper["encoder"], paper["prior_head"], paper["decoder"]) == (
        225_536, 926_528, 25_413, 439_808)
    assert round(paper["prior"] / 1e6, 3) == 2.063 and round(paper["generator"] / 1e6, 2) == 3.68
    n3 = _counts("paper", "model.hourglass_depth=3")
    assert round(n3["prior"] / 1e6, 3) == 1.739 and round(n3["generator"] / 1e6, 2) == 3.36
    assert T.decoder(64, 128) == 400_064  # "features" (built at small width in test_generator)
    assert round(_counts("celeba")["generator"] / 1e6, 2) == 3.60
    celeba_n3 = n3["generator"] - T.prior_head(128, 197) - T.decoder(64, 197) + T.prior_head(
        128, 79) + T.decoder(64, 79)
    assert round(celeba_n3 / 1e6, 2) == 3.27
    assert _counts("gan")["discriminator"] == 2_768_705


def test_bad_values_raise_naming_the_field():
    cfg = get_config("paper", task="fsrnet")
    for override, match in [("model.decoder_prior_input=both", "decoder_prior_input"),
                            ("model.image_size=120", "image_size"),
                            ("priors.num_landmarks=68", "helen194"),
                            ("priors.parsing_set=lapa", "parsing_set"),
                            ("priors.heatmap_sigma=0", "heatmap_sigma"),
                            ("train.rmsprop_rho=1.0", "rmsprop_rho"),
                            ("eval.method=nearest", "eval.method must be one of"),
                            ("model.bn_mode=batch", "bn_mode")]:
        with pytest.raises(ValueError, match=match):
            apply_overrides(cfg, [override])
    ok = apply_overrides(cfg, ["priors.num_landmarks=5", "priors.landmark_scheme=celeba5",
                               "priors.parsing_set=helen11"])
    assert ok.num_priors == 16


def test_eval_and_weights_sections_hold_the_former_flags():
    """The evaluation options (formerly --hr_dir, --lr_dir, --method, --test_set) and the VGG-16
    file (formerly --vgg16_weights) are config fields with the flags' defaults, saved with a
    run and set by overrides."""
    cfg = get_config("gan", task="fsrnet")
    e = cfg.eval
    assert (e.hr_dir, e.lr_dir, e.method, e.test_set) == ("", "", "fsrnet", "")
    assert (e.split, e.batch_size, e.max_examples, e.sheet_rows) == ("test", 16, 0, 6)
    assert cfg.weights.vgg16 == ""
    cfg = apply_overrides(cfg, ["eval.method=bicubic", "eval.hr_dir=HR", "weights.vgg16=v.h5"])
    assert (cfg.eval.method, cfg.eval.hr_dir, cfg.weights.vgg16) == ("bicubic", "HR", "v.h5")
    assert copy_config(cfg).to_dict() == cfg.to_dict()
