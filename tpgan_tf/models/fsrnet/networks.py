"""FSRNet's networks: the four sub-networks of the generator (fsrnet spec 4.1-4.4), each a
container of blocks.py layers, and the builders of a config's networks with their parameter
counts (spec 4.5).

    nets = build_networks(cfg)           # {"generator"} (+ "discriminator" with train.gan), built
    parameter_counts(nets, cfg)          # per part; expected_parameter_counts(cfg): spec 4.5

Shapes are for an input of H x W (128 x 128 in the paper); every network is fully
convolutional. `width` scales every channel count (core.config.scaled), except the 3 image
channels and the K prior channels. Each container owns no weights itself and marks itself
built (see "Building" in tpgan_tf/models/tpgan/blocks.py); its layers build on the first call.
The generator (generator.py) and the discriminator (discriminator.py) import these classes, so
the builders below import them where they run.
"""
from __future__ import annotations

import keras

from tpgan_tf.core.config import scaled
from tpgan_tf.core.task import count_params
from tpgan_tf.models.fsrnet.blocks import (
    ACTIVATIONS, INIT_STDDEV, BottleneckResidual, Conv, ConvUnit, Hourglass, ResidualBlock,
    activate, check_choice)

# Block counts of the layer tables (spec 4.1, 4.2, 4.4: all sources agree).
COARSE_BLOCKS = 3
ENCODER_BLOCKS = 12
DECODER_BLOCKS = 3
PRIOR_STEM_BLOCKS = 2  # spec 4.3 rows 3-4
IMAGE_CHANNELS = 3


def _output_stddev(value: float | None, default: float) -> float:
    """The image head's init stddev: `default` (the spec 7 N(0, 0.02)) unless given; 0 gives a
    zero head (generator `input_residual`: the network starts as the identity on x)."""
    if value is None:
        return float(default)
    if value < 0:
        raise ValueError(f"output_init_stddev must be >= 0, got {value}")
    return float(value)


class _Container(keras.layers.Layer):
    """Common arguments of the sub-networks: width, padding, norm dict, init stddev."""

    def __init__(self, width: float = 1.0, padding: str = "zero", norm: dict | None = None,
                 init_stddev: float = INIT_STDDEV, **kwargs):
        super().__init__(**kwargs)
        if not 0 < width <= 4:
            raise ValueError(f"width must be in (0, 4], got {width}")
        self.width, self.padding = float(width), padding
        self.norm, self.init_stddev = dict(norm or {}), float(init_stddev)

    def _unit(self):
        return dict(padding=self.padding, norm=self.norm, init_stddev=self.init_stddev)

    def _add_blocks(self, count: int) -> None:
        """Creates `count` residual blocks as attributes block0, block1, ...: a fresh block
        per position, so separate weights (spec 4.5). One attribute each, not a list:
        tf.train.Checkpoint does not follow a list of Keras 3 layers."""
        for i in range(count):
            setattr(self, f"block{i}", ResidualBlock(name=f"block{i}", **self._unit()))
        self._num_blocks = count

    @property
    def blocks(self) -> list:
        """The residual blocks in order."""
        return [getattr(self, f"block{i}") for i in range(self._num_blocks)]

    def get_config(self):
        return {**super().get_config(), "width": self.width, "padding": self.padding,
                "norm": self.norm, "init_stddev": self.init_stddev}


@keras.saving.register_keras_serializable(package="tpgan_tf.fsrnet")
class CoarseSR(_Container):
    """Coarse SR net (spec 4.1): conv3x3 64 + BN + ReLU, 3 x RB(64), conv3x3 -> 3.
    [B, H, W, 3] -> [B, H, W, 3]; no global skip from the input (no source has one).
    output_activation "none" (spec 1 recommendation) or "tanh" ([CS]/[CY])."""

    def __init__(self, output_activation: str = "none", output_init_stddev: float | None = None,
                 **kwargs):
        super().__init__(**kwargs)
        self.output_activation = check_choice("output_activation", output_activation, ACTIVATIONS)
        self.output_init_stddev = _output_stddev(output_init_stddev, self.init_stddev)
        c = scaled(64, self.width)
        self.stem = ConvUnit(c, 3, 1, name="stem", **self._unit())
        self._add_blocks(COARSE_BLOCKS)
        self.out = Conv(IMAGE_CHANNELS, 3, 1, self.padding, init_stddev=self.output_init_stddev,
                        name="out")
        self.built = True

    def call(self, x, training=None):
        x = self.stem(x, training=training)
        for block in self.blocks:
            x = block(x, training=training)
        return activate(self.out(x), self.output_activation)

    def get_config(self):
        return {**super().get_config(), "output_activation": self.output_activation,
                "output_init_stddev": self.output_init_stddev}


@keras.saving.register_keras_serializable(package="tpgan_tf.fsrnet")
class FineEncoder(_Container):
    """Fine SR encoder (spec 4.2): conv3x3 stride 2 -> 64 + BN + ReLU, 12 x RB(64), conv3x3 64.
    [B, H, W, 3] -> [B, H/2, W/2, 64]. output_activation: "relu" (default, [LI]), "none" or
    "tanh" ([CS]/[CY]); the official one is unknown."""

    def __init__(self, output_activation: str = "relu", **kwargs):
        super().__init__(**kwargs)
        self.output_activation = check_choice("output_activation", output_activation, ACTIVATIONS)
        c = scaled(64, self.width)
        self.stem = ConvUnit(c, 3, 2, name="stem", **self._unit())
        self._add_blocks(ENCODER_BLOCKS)
        self.out = Conv(c, 3, 1, self.padding, init_stddev=self.init_stddev, name="out")
        self.built = True

    def call(self, x, training=None):
        x = self.stem(x, training=training)
        for block in self.blocks:
            x = block(x, training=training)
        return activate(self.out(x), self.output_activation)

    def get_config(self):
        return {**super().get_config(), "output_activation": self.output_activation}


@keras.saving.register_keras_serializable(package="tpgan_tf.fsrnet")
class PriorEstimation(_Container):
    """Prior estimation net (spec 4.3): conv7x7 stride 2 -> 64 + BN + ReLU, BR(64 -> 128),
    2 x RB(128), `num_stacks` x HG(128, depth), linear conv1x1 (with bias) -> K.

    [B, H, W, 3] (the coarse SR image) -> (maps [B, H/2, W/2, K], features [B, H/2, W/2, 128]).
    H/2 and W/2 must be divisible by 2^depth."""

    def __init__(self, num_priors: int, depth: int = 4, num_stacks: int = 2,
                 pooling: str = "max", upsampling: str = "nearest", **kwargs):
        super().__init__(**kwargs)
        if num_priors < 1:
            raise ValueError(f"num_priors must be >= 1, got {num_priors}")
        if num_stacks < 1:
            raise ValueError(f"num_stacks must be >= 1, got {num_stacks}")
        self.num_priors, self.depth, self.num_stacks = int(num_priors), int(depth), int(num_stacks)
        self.pooling, self.upsampling = pooling, upsampling
        c64, c128 = scaled(64, self.width), scaled(128, self.width)
        self.stem = ConvUnit(c64, 7, 2, name="stem", **self._unit())
        self.expand = BottleneckResidual(c128, name="expand", **self._unit())
        self._add_blocks(PRIOR_STEM_BLOCKS)
        for i in range(num_stacks):  # attributes, not a list (see _add_blocks)
            setattr(self, f"hourglass{i}", Hourglass(c128, depth, pooling, upsampling,
                                                     name=f"hourglass{i}", **self._unit()))
        # The official Helen model's single SpatialConvolution(128 -> 197, 1x1) (tyshiwo #6).
        self.head = Conv(self.num_priors, 1, use_bias=True, init_stddev=self.init_stddev,
                         name="head")
        self.built = True

    @property
    def hourglasses(self) -> list:
        return [getattr(self, f"hourglass{i}") for i in range(self.num_stacks)]

    def trunk_layers(self) -> list:
        """Every layer but the head (for parameter counts)."""
        return [self.stem, self.expand, *self.blocks, *self.hourglasses]

    def call(self, x, training=None):
        x = self.stem(x, training=training)
        x = self.expand(x, training=training)
        for block in self.blocks:
            x = block(x, training=training)
        for hourglass in self.hourglasses:
            x = hourglass(x, training=training)
        return self.head(x), x

    def get_config(self):
        return {**super().get_config(), "num_priors": self.num_priors, "depth": self.depth,
                "num_stacks": self.num_stacks, "pooling": self.pooling,
                "upsampling": self.upsampling}


@keras.saving.register_keras_serializable(package="tpgan_tf.fsrnet")
class FineDecoder(_Container):
    """Fine SR decoder (spec 4.4): concat(f, prior) -> conv3x3 64 + BN + ReLU -> 4x4 stride-2
    transposed conv 64 + BN + ReLU -> 3 x RB(64) -> conv3x3 -> 3.

    (f [B, h, w, 64], prior [B, h, w, C_p]) -> [B, 2h, 2w, 3]. C_p is K ("maps") or 128
    ("features"); the decoder does not care which. output_activation "none" | "tanh"."""

    def __init__(self, output_activation: str = "none", output_init_stddev: float | None = None,
                 **kwargs):
        super().__init__(**kwargs)
        self.output_activation = check_choice("output_activation", output_activation, ACTIVATIONS)
        self.output_init_stddev = _output_stddev(output_init_stddev, self.init_stddev)
        c = scaled(64, self.width)
        self.reduce = ConvUnit(c, 3, 1, name="reduce", **self._unit())
        self.upsample = ConvUnit(c, 4, 2, transpose=True, name="upsample", **self._unit())
        self._add_blocks(DECODER_BLOCKS)
        self.out = Conv(IMAGE_CHANNELS, 3, 1, self.padding, init_stddev=self.output_init_stddev,
                        name="out")
        self.built = True

    def call(self, features, prior, training=None):
        x = keras.ops.concatenate([features, keras.ops.cast(prior, features.dtype)], axis=-1)
        x = self.reduce(x, training=training)
        x = self.upsample(x, training=training)
        for block in self.blocks:
            x = block(x, training=training)
        return activate(self.out(x), self.output_activation)

    def get_config(self):
        return {**super().get_config(), "output_activation": self.output_activation,
                "output_init_stddev": self.output_init_stddev}


# ---------------------------------------------------------------------- built from a config
# Spec 4.5 [COMP]: trainable parameters (BN gamma / beta counted) at width 1, hourglass depth
# 4, 2 stacks, the decoder on the maps and K = 197 (the paper preset).
EXPECTED_COUNTS = {"coarse": 225_536, "encoder": 926_528, "prior_head": 25_413,
                   "decoder": 439_808}


def build_size(cfg) -> int:
    """The side of the zeros the networks are built on: the smallest valid input >= 32 (the
    networks are fully convolutional, so their weights do not depend on it)."""
    return max(32, 2 ** (cfg.model.hourglass_depth + 1))


def build_generator(cfg):
    """The FSRNet generator of spec 2-4 (generator.FsrnetGenerator) of a config's `model`
    section with K = cfg.num_priors, its weights created."""
    from tpgan_tf.models.fsrnet.config import norm_kwargs
    from tpgan_tf.models.fsrnet.generator import FsrnetGenerator

    m = cfg.model
    generator = FsrnetGenerator(
        cfg.num_priors, width=m.width, hourglass_depth=m.hourglass_depth,
        num_stacks=m.num_stacks, pooling=m.pooling, upsampling=m.upsampling,
        decoder_prior_input=m.decoder_prior_input, image_activation=m.image_activation,
        encoder_activation=m.encoder_activation, padding=m.padding, norm=norm_kwargs(cfg),
        init_stddev=m.init_stddev, input_residual=m.input_residual)
    return generator.build_for_size(build_size(cfg))


def build_discriminator(cfg):
    """FSRGAN's conditional PatchGAN D (spec 6.2, discriminator.py), its weights created."""
    from tpgan_tf.models.fsrnet.config import norm_kwargs
    from tpgan_tf.models.fsrnet.discriminator import ConditionalPatchDiscriminator

    m = cfg.model
    return ConditionalPatchDiscriminator(m.width, m.d_num_layers, norm_kwargs(cfg),
                                         m.init_stddev).build_for_size(build_size(cfg))


def build_networks(cfg, for_inference: bool = False) -> dict:
    """{"generator"} and, with train.gan, {"discriminator"} (for inference too: a checkpoint
    restores by path, and D is cheap), in that order (the generator's initial weights are
    drawn first)."""
    networks = {"generator": build_generator(cfg)}
    if cfg.train.gan:
        networks["discriminator"] = build_discriminator(cfg)
    return networks


def parameter_counts(networks: dict, cfg) -> dict[str, int]:
    """Trainable parameters (BN gamma / beta counted, moving statistics not) per part of
    spec 4.5: {"coarse", "encoder", "prior" (without the head), "prior_head", "decoder",
    "generator", and with a discriminator "discriminator"}."""
    g = networks["generator"]
    counts = {"coarse": count_params(g.coarse.trainable_weights),
              "encoder": count_params(g.encoder.trainable_weights),
              "prior": sum(count_params(layer.trainable_weights)
                           for layer in g.prior.trunk_layers()),
              "prior_head": count_params(g.prior.head.trainable_weights),
              "decoder": count_params(g.decoder.trainable_weights),
              "generator": count_params(g.trainable_weights)}
    if "discriminator" in networks:
        counts["discriminator"] = count_params(networks["discriminator"].trainable_weights)
    return counts


def expected_parameter_counts(cfg) -> dict[str, int]:
    """Spec 4.5's counts when the config has the sizes they are for, else {}."""
    m = cfg.model
    faithful = (m.width == 1.0 and m.hourglass_depth == 4 and m.num_stacks == 2
                and m.decoder_prior_input == "maps" and cfg.num_priors == 197)
    return dict(EXPECTED_COUNTS) if faithful else {}
