"""Hand-written layer tables, parameter counts and by-hand layer checks for the DR-GAN tests
(drgan spec 2).

Written out again here from the spec's tables, NOT imported from the code under test, so a
wrong row in the code makes the tests fail.
"""
import numpy as np

# drgan spec 2.1: (stride, channels) of Conv11 .. Conv53.
ENCODER_TABLE = [(1, 32), (1, 64), (2, 64), (1, 64), (1, 128), (2, 128), (1, 96), (1, 192),
                 (2, 192), (1, 128), (1, 256), (2, 256), (1, 160), (1, 320)]
# drgan spec 2.3: FConv52 .. FConv11 (paper); the official table differs in the first stride.
DECODER_TABLE = [(1, 160), (1, 256), (2, 256), (1, 128), (1, 192), (2, 192), (1, 96), (1, 128),
                 (2, 128), (1, 64), (1, 64), (2, 64), (1, 32), (1, 3)]

# drgan spec 2.1, "Output (96 input)" column, per row.
SHAPES_96 = {
    "conv11": (96, 96, 32), "conv12": (96, 96, 64), "conv21": (48, 48, 64),
    "conv22": (48, 48, 64), "conv23": (48, 48, 128), "conv31": (24, 24, 128),
    "conv32": (24, 24, 96), "conv33": (24, 24, 192), "conv41": (12, 12, 192),
    "conv42": (12, 12, 128), "conv43": (12, 12, 256), "conv51": (6, 6, 256),
    "conv52": (6, 6, 160), "conv53": (6, 6, 320),
}


def sc(n, w):
    """Channels at width w: even, >= 2 (the project's rounding rule)."""
    return n if w == 1 else max(2, 2 * int(round(n * w / 2)))


def conv(cin, cout, bn=True):
    """3x3 conv with bias, + BN gamma/beta."""
    return 9 * cin * cout + cout + (2 * cout if bn else 0)


def dense(cin, cout, bias=True):
    return cin * cout + (cout if bias else 0)


def encoder_params(w, confidence="none"):
    chans = [sc(c, w) for _, c in ENCODER_TABLE]
    if confidence == "channel":
        chans[-1] += 1
    total, cin = 0, 3
    for c in chans:
        total += conv(cin, c)
        cin = c
    if confidence == "branch":
        total += conv(sc(160, w), 1)
    return total


def decoder_params(w, image_size, pose_dim, z_dim, official=False, pose_embedding=0):
    f = sc(320, w)
    start = image_size // (32 if official else 16)
    total = 0
    pose_in = pose_dim
    if pose_embedding:
        total += dense(pose_dim, pose_embedding)
        pose_in = pose_embedding
    total += dense(f + pose_in + z_dim, start * start * f)
    if official:
        total += 2 * f  # BN on the FC output
    cin = f
    for i, (_, c) in enumerate(DECODER_TABLE):
        last = i == len(DECODER_TABLE) - 1
        cout = 3 if last else sc(c, w)
        total += conv(cin, cout, bn=not last)
        cin = cout
    return total


def discriminator_params(w, variant, num_identities, pose_dim):
    f = sc(320, w)
    chans = [sc(c, w) for _, c in ENCODER_TABLE]
    if variant in ("cvpr", "tpami"):
        total, cin = 0, 3
        for c in chans:
            total += conv(cin, c)
            cin = c
        return total + dense(f, num_identities + 1 + pose_dim)
    total, cin = 0, 3
    for c in chans[:12]:
        total += conv(cin, c)
        cin = c
    branch = conv(chans[11], chans[12]) + conv(chans[12], f)
    return (total + 3 * branch + dense(f, num_identities, bias=False)  # AM-softmax W
            + dense(f, pose_dim) + dense(f, 1))


# ---------------------------------------------------------------------- layer checks by hand
# With N(0, 0.02) initialisers and inference-mode BN at init every activation is ~1e-4 or
# smaller, where ELU, tanh and the identity agree. These checks run the networks in TRAINING
# mode: BN then normalises with the batch moments (unit scale), so a missing ELU (or BN) is
# off by ~0.4 where a tolerance of 1e-4 is used.
def elu(v):
    return np.where(v > 0, v, np.expm1(np.minimum(v, 0)))


ACTIVATION_BY_HAND = {"elu": elu, "tanh": np.tanh, None: lambda v: v}


def bn_training_by_hand(h, bn):
    """Training-mode batch norm of h [B, H, W, C]: moments over B, H, W (biased variance),
    then gamma and beta of the Keras layer `bn` (gamma 1, beta 0 when bn is None)."""
    h = np.asarray(h, np.float64)
    mean, var = h.mean(axis=(0, 1, 2)), h.var(axis=(0, 1, 2))
    gamma = 1.0 if bn is None else bn.gamma.numpy()
    beta = 0.0 if bn is None else bn.beta.numpy()
    eps = 1e-5 if bn is None else bn.epsilon
    return (h - mean) / np.sqrt(var + eps) * gamma + beta


def check_rows(outputs, first_input, rows, atol=1e-4):
    """Checks a chain of rows run in training mode against the by-hand computation.

    outputs: {key: tensor} of the network's layer_outputs(..., training=True);
    first_input: the first row's input; rows: [(output key, ConvUnit, with_bn, activation)]
    in the order they must be applied (each row reads the previous row's output), with
    with_bn / activation ("elu" | "tanh" | None) written by hand from the spec's tables.
    Each row's output must equal activation(BN_batch(conv(previous output))). Where an
    activation is expected the pre-activation must reach below -1, so that ELU / tanh and
    the identity differ by > 0.3 there (the check can tell them apart).
    """
    prev = first_input
    for key, unit, with_bn, activation in rows:
        pre = np.asarray(unit.conv(prev).numpy(), np.float64)
        if with_bn:
            pre = bn_training_by_hand(pre, unit.bn)
        if activation is not None:
            assert pre.min() < -1.0, f"{key}: pre-activation too small to tell ELU from identity"
        got = outputs[key].numpy()
        np.testing.assert_allclose(got, ACTIVATION_BY_HAND[activation](pre), rtol=1e-4,
                                   atol=atol, err_msg=key)
        prev = outputs[key]


def calibrate_batch_norm(model, *inputs):
    """Sets the moving mean / variance of every BN layer of `model` to the batch moments of
    one training-mode call on `inputs` (momentum 0 for that call), so that inference-mode BN
    is at unit scale on such inputs (at init the moving statistics are 0 / 1, and inference
    activations ~1e-4 barely depend on the input)."""
    import keras
    layers = [layer for layer in model._flatten_layers()
              if isinstance(layer, keras.layers.BatchNormalization)]
    momenta = [layer.momentum for layer in layers]
    for layer in layers:
        layer.momentum = 0.0
    try:
        model(*inputs, training=True)
    finally:
        for layer, momentum in zip(layers, momenta):
            layer.momentum = momentum
    return len(layers)
