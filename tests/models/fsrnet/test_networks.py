"""The four FSRNet sub-networks (fsrnet spec 4.1-4.4): shapes and parameter counts."""
import numpy as np
import pytest
import tensorflow as tf

from tests.models.fsrnet import param_tables as T
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
