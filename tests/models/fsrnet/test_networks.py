"""The four FSRNet sub-networks (fsrnet spec 4.1-4.4): shapes, parameter counts, and their
layer tables assembled by hand (sub-layers as black boxes, training mode: see test_blocks.py
for why) against the networks, plus every block of each network against its formula."""
import numpy as np
import pytest
import tensorflow as tf

from tests import structural as S
from tests.models.fsrnet import param_tables as T
from tests.models.fsrnet.test_blocks import network_block_error
from tpgan_tf.models.fsrnet.networks import CoarseSR, FineDecoder, FineEncoder, PriorEstimation


def _count(layers):
    return sum(int(np.prod(w.shape)) for layer in layers for w in layer.trainable_weights)


@pytest.fixture(scope="module")
def tiny_nets():
    """Width 1/16 (64 -> 4, 128 -> 8 channels), K = 16, depth 4, on a 32 x 32 input."""
    x = tf.constant(np.random.default_rng(0).uniform(size=(2, 32, 32, 3)), tf.float32)
    nets = {"coarse": CoarseSR(width=0.0625), "encoder": FineEncoder(width=0.0625),
            "prior": PriorEstimation(16, depth=4, width=0.0625),
            "decoder": FineDecoder(width=0.0625)}
    out = {"coarse": nets["coarse"](x), "encoder": nets["encoder"](x)}
    out["maps"], out["features"] = nets["prior"](x)
    out["sr"] = nets["decoder"](out["encoder"], out["maps"])
    return nets, out


def test_sub_network_shapes(tiny_nets):
    _, out = tiny_nets
    assert out["coarse"].shape == (2, 32, 32, 3)
    assert out["encoder"].shape == (2, 16, 16, 4)
    assert out["maps"].shape == (2, 16, 16, 16)
    assert out["features"].shape == (2, 16, 16, 8)
    assert out["sr"].shape == (2, 32, 32, 3)


def test_sub_network_parameter_counts_match_the_layer_tables(tiny_nets):
    nets, _ = tiny_nets
    assert _count([nets["coarse"]]) == T.coarse(4) == 1136
    assert _count([nets["encoder"]]) == T.encoder(4)
    assert _count(nets["prior"].trunk_layers()) == T.prior_trunk(4, 8, 4)
    assert _count([nets["prior"].head]) == T.prior_head(8, 16)
    assert _count([nets["decoder"]]) == T.decoder(4, 16)
    assert len(nets["coarse"].blocks) == 3 and len(nets["encoder"].blocks) == 12
    assert len(nets["decoder"].blocks) == 3 and len(nets["prior"].blocks) == 2
    assert len(nets["prior"].hourglasses) == 2
    assert nets["prior"].head.conv.bias is not None  # the linear head has a bias
    assert nets["encoder"].out.conv.bias is None


def test_decoder_on_hourglass_features_and_64px_reflect_variant():
    x = tf.zeros((1, 64, 64, 3))
    enc = FineEncoder(width=0.125, padding="reflect", output_activation="tanh")
    prior = PriorEstimation(5, depth=3, width=0.125, padding="reflect", pooling="avg",
                            upsampling="bilinear")
    dec = FineDecoder(width=0.125, padding="reflect", output_activation="tanh")
    f = enc(x)
    maps, feats = prior(x)
    assert f.shape == (1, 32, 32, 8) and maps.shape == (1, 32, 32, 5)
    assert feats.shape == (1, 32, 32, 16)
    sr = dec(f, feats)
    assert sr.shape == (1, 64, 64, 3)
    assert _count([dec]) == T.decoder(8, 16)
    assert np.all(np.abs(sr.numpy()) <= 1.0)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="num_priors"):
        PriorEstimation(0)
    with pytest.raises(ValueError, match="width"):
        CoarseSR(width=0)
    with pytest.raises(ValueError, match="output_activation"):
        CoarseSR(output_activation="sigmoid")


def _chain(x, layers):
    for layer in layers:
        x = layer(x, training=True).numpy()
    return x


_ACT = {"relu": S.relu, "tanh": np.tanh, "none": np.asarray}


def network_by_hand(net, *inputs):
    """spec 4.1-4.4 with the layers as black boxes (training mode): CoarseSR / FineEncoder:
    stem -> RBs -> out conv -> output activation; PriorEstimation: stem -> BR -> RBs -> HGs,
    then the linear 1x1 head (maps, features); FineDecoder: concat(f, prior) -> conv unit ->
    transposed conv unit -> RBs -> out conv -> output activation."""
    if isinstance(net, PriorEstimation):
        x = _chain(inputs[0], [net.stem, net.expand, *net.blocks, *net.hourglasses])
        return net.head(x).numpy(), x
    if isinstance(net, FineDecoder):
        x = _chain(np.concatenate(inputs, axis=-1), [net.reduce, net.upsample, *net.blocks])
    else:
        x = _chain(inputs[0], [net.stem, *net.blocks])
    return _ACT[net.output_activation](net.out(x).numpy())


def wiring_error(net, *inputs) -> float:
    """Worst relative error of net(*inputs, training=True) against network_by_hand."""
    got, want = net(*inputs, training=True), network_by_hand(net, *inputs)
    got, want = (got, want) if isinstance(got, tuple) else ((got,), (want,))
    return max(S.relative_error(a, b) for a, b in zip(got, want))


@pytest.mark.parametrize("name", ["coarse", "encoder", "prior", "decoder"])
def test_sub_networks_follow_their_layer_tables_and_block_formulas(tiny_nets, name):
    nets, out = tiny_nets
    x = np.random.default_rng(4).uniform(size=(2, 32, 32, 3)).astype(np.float32)
    inputs = (out["encoder"].numpy(), out["maps"].numpy()) if name == "decoder" else (x,)
    assert wiring_error(nets[name], *inputs) < 1e-5
    assert network_block_error(nets[name], *inputs) < 1e-5


def test_encoder_output_relu_bites_and_coarse_head_is_linear(tiny_nets):
    nets, _ = tiny_nets
    x = np.random.default_rng(5).uniform(size=(2, 32, 32, 3)).astype(np.float32)
    # [LI]'s final ReLU (spec 4.2): about half of the encoder's outputs are exactly 0.
    assert 0.2 < (nets["encoder"](x, training=True).numpy() == 0).mean() < 0.8
    # spec 4.1 recommendation: a linear image head, negative values kept.
    assert nets["coarse"](x, training=True).numpy().min() < 0
