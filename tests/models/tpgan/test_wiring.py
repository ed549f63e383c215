"""TP-GAN's networks assembled by hand from the spec tables (tpgan spec 2.2-2.6, 3) with their
sub-layers as black boxes, against the networks' own outputs: concatenation order, skips,
which tensor feeds which layer, the mirror pairs, the right-eye quirk, the container-level
activations (initial8's ReLU, the maxout); and every ConvBlock / ResBlock met in one forward
pass against its spec 2.1 formula (test_layers.network_block_error).

TP-GAN's BN always normalises with the batch statistics (spec 2.1), so activations are of
order 1 here and a dropped activation or a swapped input is an O(1) relative error
(tests/structural.py); tests/test_structural_checks_fail.py shows these checks reject a
generator without its leaky ReLU.
"""
import numpy as np
import pytest

from tests import structural as S
from tests.models.tpgan.test_blocks import network_block_error
from tpgan_tf.core.config import get_config
from tpgan_tf.faces.image_ops import legacy_resize
from tpgan_tf.faces.parts import PART_BY_NAME, PART_NAMES
from tpgan_tf.models.tpgan.discriminator import Discriminator
from tpgan_tf.models.tpgan.generator import input_shapes
from tpgan_tf.models.tpgan.networks import build_discriminator, build_generator

TOL = 1e-4  # float32 network against the float64 / hand-assembled reference


def tiny_generator_and_inputs(seed=5):
    """A tiny (width 1/16) generator and a batch of 2 inputs of order 1 (z too)."""
    g = build_generator(get_config("tiny", "tpgan"))
    rng = np.random.default_rng(seed)
    inputs = {k: (rng.normal(size=v) if k == "z" else rng.uniform(0, 1, v)).astype(np.float32)
              for k, v in input_shapes(2).items()}
    return g, inputs


@pytest.fixture(scope="module")
def tiny():
    g, inputs = tiny_generator_and_inputs()
    out = {k: v.numpy() for k, v in g(inputs, training=False).items()}
    return g, inputs, out


def _np(x):
    return np.asarray(x)


def cat(*xs):
    return np.concatenate([_np(x) for x in xs], axis=-1)


def mirror(x):
    """spec 1.1: the image then its left-right flip, on the channel axis."""
    x = _np(x)
    return cat(x, x[:, :, ::-1])


def chain(x, *layers):
    for layer in layers:
        x = _np(layer(x))
    return x


def fuse_by_hand(parts):
    """spec 2.3: each part on a zero 128 x 128 canvas at its template window, then the max."""
    canvases = []
    for name in PART_NAMES:
        p, patch = PART_BY_NAME[name], _np(parts[name])
        canvas = np.zeros((patch.shape[0], 128, 128, patch.shape[-1]), np.float32)
        canvas[:, p.top:p.top + p.height, p.left:p.left + p.width] = patch
        canvases.append(canvas)
    return np.max(canvases, axis=0)


def part_rotator_by_hand(n, x):
    """spec 2.2 rows 1-18: (local feature, local image)."""
    c0 = chain(x, n.conv0, n.conv0_res)
    c1 = chain(c0, n.conv1, n.conv1_res)
    c2 = chain(c1, n.conv2, n.conv2_res)
    c3 = chain(c2, n.conv3, n.conv3_res, n.conv3_res2)
    d1 = chain(cat(n.deconv1(c3), c2), n.deconv1_s, n.deconv1_res)  # rows 9-11
    d2 = chain(cat(n.deconv2(d1), c1), n.deconv2_s, n.deconv2_res)  # rows 12-14
    feature = chain(cat(n.deconv3(d2), c0), n.deconv3_s, n.deconv3_res)  # rows 15-17
    return feature, _np(n.check(feature))


def decoder_by_hand(d, featvec, z, feats, pairs, fused_features, fused_images):
    """spec 2.6, table row by table row: (img128, img64, img32)."""
    initial8 = np.maximum(_np(d.initial8(cat(featvec, z))).reshape(-1, 8, 8, d.initial_channels), 0)
    initial32 = _np(d.initial32(initial8))
    initial64 = _np(d.initial64(initial32))
    initial128 = _np(d.initial128(initial64))
    x8 = chain(cat(initial8, feats["feat8"]), d.select8, d.dec8_res1, d.dec8_res2)
    x16 = chain(cat(d.deconv16(x8), d.select16(feats["feat16"])), d.dec16_res1, d.dec16_res2)
    s32 = d.select32(cat(feats["feat32"], pairs[32], initial32))
    x32 = chain(cat(d.deconv32(x16), s32), d.dec32_res1, d.dec32_res2)
    img32 = _np(d.check32(x32))
    s64 = d.select64(cat(feats["feat64"], pairs[64], initial64))
    x64 = chain(cat(d.deconv64(x32), s64, legacy_resize(img32, 64)), d.dec64_res1, d.dec64_res2)
    img64 = _np(d.check64(x64))
    s128 = d.select128(cat(feats["feat128"], initial128, pairs[128]))
    x128 = chain(cat(d.deconv128(x64), s128, fused_features, fused_images,
                     legacy_resize(img64, 128)),
                 d.dec128_res1, d.recon128_conv, d.dec128_res2, d.recon128_conv2)
    return _np(d.check128(x128)), img64, img32


def encoder_stage_errors(enc, x) -> dict:
    """Relative error of each encoder output against spec 2.4 applied to the previous one
    (x = image ⊕ flip [B, 128, 128, 6]); featvec = maxout of `feature` on the NHWC flatten."""
    f = {k: _np(v) for k, v in enc(x).items()}
    stages = {"feat128": (x, enc.conv0, enc.conv0_res),
              "feat64": (f["feat128"], enc.conv1, enc.conv1_res),
              "feat32": (f["feat64"], enc.conv2, enc.conv2_res),
              "feat16": (f["feat32"], enc.conv3, enc.conv3_res),
              "feat8": (f["feat16"], enc.conv4, *enc.conv4_res)}
    errors = {k: S.relative_error(f[k], chain(*v)) for k, v in stages.items()}
    feature = _np(enc.feature(f["feat8"].reshape(len(x), -1)))
    half = feature.shape[1] // 2
    errors["featvec"] = S.relative_error(f["featvec"],
                                         np.maximum(feature[:, :half], feature[:, half:]))
    return errors


def generator_by_hand(g, inputs) -> dict:
    """spec 2: the generator's outputs from its sub-networks (black boxes), the mirror pairs
    (spec 1.1: at 64 and 32 the legacy resize is decimation), the right-eye quirk (spec 2.2)
    and the fusion (spec 2.3) done here."""
    image = inputs["image"]
    feats = {k: _np(v) for k, v in g.encoder(mirror(image)).items()}
    features, images = {}, {}
    for name in PART_NAMES:
        x = inputs[name] if name != "eye_right" else cat(inputs["eye_right"], inputs["eye_left"])
        features[name], images[name] = (_np(v) for v in g.local.nets[name](x))
    pairs = {128: mirror(image), 64: mirror(image[:, ::2, ::2]), 32: mirror(image[:, ::4, ::4])}
    fused_features, fused_images = fuse_by_hand(features), fuse_by_hand(images)
    img128, img64, img32 = (_np(v) for v in g.decoder(
        feats["featvec"], inputs["z"], feats, pairs, fused_features, fused_images))
    return {"img128": img128, "img64": img64, "img32": img32, **images,
            "fused_image": fused_images, "featvec": feats["featvec"],
            "identity_logits": _np(g.identity_head(feats["featvec"]))}


def generator_wiring_error(g, inputs) -> float:
    """Worst relative error of the generator's outputs against generator_by_hand."""
    out = g(inputs, training=False)
    want = generator_by_hand(g, inputs)
    assert set(out) == set(want)
    return max(S.relative_error(out[k], want[k]) for k in want)


# ---------------------------------------------------------------- tests

def test_every_block_of_the_generator_and_discriminator_follows_its_formula(tiny):
    g, inputs, _ = tiny
    assert network_block_error(g, inputs) < TOL
    d = build_discriminator(get_config("tiny", "tpgan"))
    assert network_block_error(d, inputs["image"]) < TOL


def test_activation_and_norm_of_every_row_follow_the_tables(tiny):
    g = tiny[0]
    kind = lambda b: (b.use_bn, b.activation)  # noqa: E731
    # spec 2.4 / 2.2 / 3: the first conv of each net has lrelu and no BN, the others BN + lrelu.
    assert kind(g.encoder.conv0) == (False, "lrelu")
    assert {kind(b) for b in (g.encoder.conv1, g.encoder.conv4)} == {(True, "lrelu")}
    n = g.local.nets["mouth"]
    assert kind(n.conv0) == (False, "lrelu") and kind(n.check) == (False, "tanh")
    # spec 2.2: the local deconvs use lrelu; spec 2.6: the global ones relu.
    assert {kind(b) for b in (n.deconv1, n.deconv2, n.deconv3, n.deconv1_s)} == {(True, "lrelu")}
    d = g.decoder
    assert {kind(b) for b in (d.initial32, d.initial64, d.initial128)} == {(False, "relu")}
    assert {kind(b) for b in (d.deconv16, d.deconv32, d.deconv64, d.deconv128)} == {(True, "relu")}
    assert {kind(b) for b in (d.recon128_conv, d.recon128_conv2)} == {(True, "lrelu")}
    assert {kind(b) for b in (d.check32, d.check64, d.check128)} == {(False, "tanh")}
    disc = build_discriminator(get_config("tiny", "tpgan"))
    assert kind(disc.h0) == (False, "lrelu")
    assert {kind(b) for b in (disc.h1, disc.h2, disc.h3, disc.h4)} == {(True, "lrelu")}


def test_encoder_stages_and_maxout_follow_spec_2_4(tiny):
    g, inputs, _ = tiny
    errors = encoder_stage_errors(g.encoder, mirror(inputs["image"]))
    assert max(errors.values()) < TOL, errors


def test_generator_equals_its_sub_networks_wired_by_hand(tiny):
    g, inputs, out = tiny
    assert generator_wiring_error(g, inputs) < TOL
    # The fused image is ReLU'd by the zero canvas (spec 2.3), the local images are not.
    assert out["fused_image"].min() == 0.0 and out["mouth"].min() < 0.0


def test_part_rotator_follows_spec_2_2(tiny):
    g, inputs, out = tiny
    net = g.local.nets["nose"]
    feature, image = net(inputs["nose"])
    want_feature, want_image = part_rotator_by_hand(net, inputs["nose"])
    assert S.relative_error(feature, want_feature) < TOL
    assert S.relative_error(image, want_image) < TOL


def test_decoder_follows_spec_2_6(tiny):
    g, inputs, out = tiny
    image = inputs["image"]
    feats = {k: _np(v) for k, v in g.encoder(mirror(image)).items()}
    pairs = {128: mirror(image), 64: mirror(image[:, ::2, ::2]), 32: mirror(image[:, ::4, ::4])}
    rng = np.random.default_rng(9)  # fused tensors of the right shapes; ReLU'd as after fusion
    fused_f = np.maximum(rng.normal(size=(2, 128, 128, 4)), 0).astype(np.float32)
    fused_i = np.maximum(rng.normal(size=(2, 128, 128, 3)), 0).astype(np.float32)
    args = (feats["featvec"], inputs["z"], feats, pairs, fused_f, fused_i)
    got = g.decoder(*args)
    want = decoder_by_hand(g.decoder, *args)
    for a, b in zip(got, want):
        assert S.relative_error(a, b) < TOL


def test_discriminator_follows_spec_3(tiny):
    _, inputs, out = tiny
    d = build_discriminator(get_config("tiny", "tpgan"))
    images = out["img128"]
    x = chain(images, d.h0, d.h1, d.h2, d.h3, d.h3_res, d.h4, d.h4_res, d.h5)
    assert S.relative_error(d(images), x.reshape(2, 16)) < TOL
