"""The FSRNet generator: coarse SR -> (fine encoder, prior estimation) -> fine decoder
(fsrnet spec 2), one keras.Model; networks.build_generator builds it from a config.

Input:  x [B, H, W, 3] float, the bicubic-upsampled LR face in [0, 1] (spec 1; 128 x 128 in
        the paper). H and W must be divisible by 2 * 2^depth (32 for depth 4).
Output: a dict
    coarse   [B, H, W, 3]            y_c, the coarse SR image (loss MSE(y_c, y))
    priors   [B, H/2, W/2, K]        p, the estimated prior maps: landmark heatmaps first, then
                                     parsing maps (loss MSE(p, p_gt))
    sr       [B, H, W, 3]            y_hat, the fine SR image (the official 4th output)
    features [B, H/2, W/2, 128*w]    h, the last hourglass's features
Image heads are linear by default (spec 1 recommendation: [0, 1] in and out, clip only
for display and metrics); tanh behind `image_activation`.

`input_residual` (default off; NOT in the paper or any source, spec 4.1 "no global skip"): both
image heads predict a correction of the input, y_c = x + CoarseSR(x) and y_hat = x + decoder.
Both heads' last convs then start at zero, so the network starts as bicubic (y = x) instead
of having to learn the identity first: a switch for short CPU runs (the `demo` preset).
"""
from __future__ import annotations

import keras

from tpgan_tf.models.fsrnet.blocks import INIT_STDDEV, check_choice
from tpgan_tf.models.fsrnet.networks import CoarseSR, FineDecoder, FineEncoder, PriorEstimation

DECODER_PRIOR_INPUTS = ("maps", "features")
OUTPUT_NAMES = ("coarse", "priors", "sr", "features")


@keras.saving.register_keras_serializable(package="tpgan_tf.fsrnet")
class FsrnetGenerator(keras.Model):
    """FSRNet (spec 2-4). See the module docstring for the input and outputs.

    decoder_prior_input: "maps" (default; the estimated priors p, Fig. 2 as users read it,
    [LI]) or "features" (the hourglass features h, [CS]/[CY]), spec 4.4.
    """

    def __init__(self, num_priors: int, width: float = 1.0, hourglass_depth: int = 4,
                 num_stacks: int = 2, pooling: str = "max", upsampling: str = "nearest",
                 decoder_prior_input: str = "maps", image_activation: str = "none",
                 encoder_activation: str = "relu", padding: str = "zero",
                 norm: dict | None = None, init_stddev: float = INIT_STDDEV,
                 input_residual: bool = False, **kwargs):
        kwargs.setdefault("name", "fsrnet_generator")
        super().__init__(**kwargs)
        self.num_priors, self.width = int(num_priors), float(width)
        self.hourglass_depth, self.num_stacks = int(hourglass_depth), int(num_stacks)
        self.pooling, self.upsampling = pooling, upsampling
        self.decoder_prior_input = check_choice("decoder_prior_input", decoder_prior_input,
                                                DECODER_PRIOR_INPUTS)
        self.image_activation, self.encoder_activation = image_activation, encoder_activation
        self.padding, self.norm, self.init_stddev = padding, dict(norm or {}), float(init_stddev)
        self.input_residual = bool(input_residual)
        common = dict(width=width, padding=padding, norm=self.norm, init_stddev=init_stddev)
        # With the input skip the image heads start at zero: y_c = y_hat = x at step 0.
        head = dict(output_init_stddev=0.0) if self.input_residual else {}
        self.coarse = CoarseSR(output_activation=image_activation, name="coarse", **common,
                               **head)
        self.encoder = FineEncoder(output_activation=encoder_activation, name="encoder", **common)
        self.prior = PriorEstimation(num_priors, hourglass_depth, num_stacks, pooling, upsampling,
                                     name="prior", **common)
        self.decoder = FineDecoder(output_activation=image_activation, name="decoder", **common,
                                   **head)
        self.built = True  # a container: its sub-networks build on the first call

    @property
    def size_multiple(self) -> int:
        """H and W of the input must be multiples of this (2 * 2^depth)."""
        return 2 ** (self.hourglass_depth + 1)

    def check_input_shape(self, shape) -> None:
        """ValueError unless shape is [B, H, W, 3] with H, W multiples of size_multiple."""
        if len(shape) != 4 or (shape[-1] is not None and int(shape[-1]) != 3):
            raise ValueError(f"FSRNet input must be [B, H, W, 3], got shape {tuple(shape)}")
        m = self.size_multiple
        for dim in shape[1:3]:
            if dim is not None and int(dim) % m:
                raise ValueError(
                    f"FSRNet input H and W must be multiples of 2 * 2^hourglass_depth = {m}, "
                    f"got shape {tuple(shape)}")

    def build_for_size(self, height: int = 128, width: int | None = None,
                       batch: int = 1) -> "FsrnetGenerator":
        """Builds every weight by one call on zeros [batch, height, width, 3]; returns self."""
        self(keras.ops.zeros((batch, height, width or height, 3)), training=False)
        return self

    def call(self, x, training=None):
        self.check_input_shape(tuple(x.shape))
        coarse = self.coarse(x, training=training)
        if self.input_residual:
            coarse = keras.ops.cast(x, coarse.dtype) + coarse
        features = self.encoder(coarse, training=training)
        priors, hourglass = self.prior(coarse, training=training)
        prior_input = priors if self.decoder_prior_input == "maps" else hourglass
        sr = self.decoder(features, prior_input, training=training)
        if self.input_residual:
            sr = keras.ops.cast(x, sr.dtype) + sr
        return {"coarse": coarse, "priors": priors, "sr": sr, "features": hourglass}

    def get_config(self):
        return {**super().get_config(), "num_priors": self.num_priors, "width": self.width,
                "hourglass_depth": self.hourglass_depth, "num_stacks": self.num_stacks,
                "pooling": self.pooling, "upsampling": self.upsampling,
                "decoder_prior_input": self.decoder_prior_input,
                "image_activation": self.image_activation,
                "encoder_activation": self.encoder_activation, "padding": self.padding,
                "norm": self.norm, "init_stddev": self.init_stddev,
                "input_residual": self.input_residual}
