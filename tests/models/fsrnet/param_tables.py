"""Parameter counts of the FSRNet layer tables (fsrnet spec 3-4, 6.2), by hand, for the tests.

Conventions (blocks.py): plain convs without bias, BR convs and the prior head with bias,
every BN has gamma and beta (2 per channel)."""


def rb(c):  # spec 3.1: two bias-free 3x3 convs c -> c, two BN
    return 2 * 9 * c * c + 2 * 2 * c


def br(i, o):  # spec 3.2: BN, 1x1 i -> o/2, BN, 3x3, BN, 1x1 -> o (+ 1x1 skip if i != o)
    m = o // 2
    skip = i * o + o if i != o else 0
    return 2 * i + (i * m + m) + 2 * m + (9 * m * m + m) + 2 * m + (m * o + o) + skip


def coarse(c):  # spec 4.1
    return 9 * 3 * c + 2 * c + 3 * rb(c) + 9 * c * 3


def encoder(c):  # spec 4.2
    return 9 * 3 * c + 2 * c + 12 * rb(c) + 9 * c * c


def prior_trunk(c64, c128, depth, stacks=2):  # spec 4.3 rows 1-6
    return 49 * 3 * c64 + 2 * c64 + br(c64, c128) + 2 * rb(c128) + stacks * (3 * depth + 1) * br(c128, c128)


def prior_head(c128, k):  # spec 4.3 row 7: linear 1x1 with bias
    return c128 * k + k


def decoder(c, prior_channels):  # spec 4.4
    return 9 * (c + prior_channels) * c + 2 * c + 16 * c * c + 2 * c + 3 * rb(c) + 9 * c * 3


def generator(c64, c128, k, depth, maps=True):
    return (coarse(c64) + encoder(c64) + prior_trunk(c64, c128, depth) + prior_head(c128, k)
            + decoder(c64, k if maps else c128))


def patch_discriminator(c):  # pix2pix n_layers 3: C64 (bias) C128 C256 C512 (BN), 1 (bias)
    return ((6 * 16 * c + c) + (16 * c * 2 * c + 4 * c) + (16 * 2 * c * 4 * c + 8 * c)
            + (16 * 4 * c * 8 * c + 16 * c) + (16 * 8 * c + 1))
