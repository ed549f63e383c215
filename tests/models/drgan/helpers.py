"""Hand-written layer tables and parameter counts for the DR-GAN tests (drgan spec 2).

Written out again here from the spec's tables, NOT imported from the code under test, so a
wrong row in the code makes the tests fail.
"""

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
