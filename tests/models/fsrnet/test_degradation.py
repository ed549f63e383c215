"""The LR degradation (fsrnet spec 1): antialiased bicubic down x8, bicubic up, JPEG q75."""
import numpy as np
import pytest
import tensorflow as tf

from tpgan_tf.models.fsrnet.degradation import (
    bicubic_downsample, bicubic_upsample, degrade, jpeg_roundtrip)


def _keys(t, a=-0.5):
    t = np.abs(t)
    return np.where(t <= 1, (a + 2) * t ** 3 - (a + 3) * t ** 2 + 1,
                    np.where(t < 2, a * t ** 3 - 5 * a * t ** 2 + 8 * a * t - 4 * a, 0.0))


def _resample_matrix(n_in, n_out):
    """[n_out, n_in] antialiased Keys-cubic weights: support widened by the downscale factor,
    half-pixel centres, weights renormalised over the in-range taps (Pillow's scheme)."""
    scale = n_in / n_out
    stretch = max(scale, 1.0)
    m = np.zeros((n_out, n_in))
    for i in range(n_out):
        centre = (i + 0.5) * scale - 0.5
        w = _keys((np.arange(n_in) - centre) / stretch)
        m[i] = w / w.sum()
    return m


def _reference(image, size):
    """Separable numpy resize of [H, W, C] to size x size."""
    rows = _resample_matrix(image.shape[0], size)
    cols = _resample_matrix(image.shape[1], size)
    return np.einsum("ih,hwc,jw->ijc", rows, image, cols)


def test_constant_image_stays_constant():
    hr = np.full((2, 128, 128, 3), 0.37, np.float32)
    np.testing.assert_allclose(bicubic_downsample(hr).numpy(), 0.37, atol=1e-6)
    np.testing.assert_allclose(degrade(hr).numpy(), 0.37, atol=1e-6)
    assert degrade(hr).shape == (2, 128, 128, 3)


def test_downsample_of_a_ramp_gives_its_block_means():
    # Keys' cubic reproduces linear functions, so away from the border the antialiased x8
    # downsample of a ramp is the mean of each 8 x 8 block (= the ramp at the block centre).
    x = np.arange(128, dtype=np.float32) / 127.0
    hr = np.broadcast_to(x[None, None, :, None], (1, 128, 128, 3))
    small = bicubic_downsample(hr).numpy()[0, :, :, 0]
    block_means = hr[0, :, :, 0].reshape(16, 8, 16, 8).mean(axis=(1, 3))
    np.testing.assert_allclose(small[2:-2, 2:-2], block_means[2:-2, 2:-2], atol=1e-5)


def test_down_and_up_match_the_hand_written_filter_everywhere():
    rng = np.random.default_rng(0)
    hr = rng.uniform(size=(128, 128, 3)).astype(np.float32)
    small = bicubic_downsample(hr[None]).numpy()[0]
    np.testing.assert_allclose(small, _reference(hr.astype(np.float64), 16), atol=2e-5)
    up = bicubic_upsample(small[None], (128, 128)).numpy()[0]
    np.testing.assert_allclose(up, _reference(small.astype(np.float64), 128), atol=2e-5)
    lr = degrade(hr[None]).numpy()[0]
    np.testing.assert_allclose(lr, np.clip(up, 0, 1), atol=1e-6)
    assert lr.min() >= 0 and lr.max() <= 1


def test_clip_applies_to_the_small_image_and_the_result():
    hr = np.zeros((1, 128, 128, 3), np.float32)
    hr[:, :, 64:] = 1.0  # a step: bicubic over- and undershoots next to it
    small = bicubic_downsample(hr)
    assert small.numpy().min() < -0.01 and small.numpy().max() > 1.01
    want = np.clip(bicubic_upsample(np.clip(small, 0, 1), (128, 128)).numpy(), 0, 1)
    np.testing.assert_allclose(degrade(hr).numpy(), want, atol=1e-6)
    unclipped = degrade(hr, clip=False).numpy()
    np.testing.assert_allclose(unclipped, bicubic_upsample(small, (128, 128)).numpy(), atol=1e-6)
    assert unclipped.min() < -0.01


def test_matches_pillow_bicubic():
    Image = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(1)
    # A smooth random face-like image (Pillow rounds to bytes after each pass).
    small = rng.uniform(size=(16, 16, 3))
    hr = np.clip(_reference(small, 128), 0, 1)
    pixels = np.round(hr * 255).astype(np.uint8)
    pil = Image.fromarray(pixels).resize((16, 16), Image.BICUBIC).resize((128, 128), Image.BICUBIC)
    ours = degrade(pixels[None].astype(np.float32) / 255.0).numpy()[0]
    diff = np.abs(ours - np.asarray(pil, np.float32) / 255.0)
    assert diff.max() <= 3 / 255 and diff.mean() < 0.6 / 255


def test_bad_sizes_raise():
    with pytest.raises(ValueError, match="multiples of 8"):
        degrade(np.zeros((1, 100, 100, 3), np.float32))
    with pytest.raises(ValueError, match="NHWC"):
        degrade(np.zeros((100, 100, 3), np.float32))


def test_jpeg_roundtrip_batch_equals_per_image_and_stays_on_the_byte_grid():
    rng = np.random.default_rng(2)
    images = np.clip(_reference(rng.uniform(size=(8, 8, 3)), 32), 0, 1)[None].repeat(2, 0)
    images[1] = 1 - images[1]
    out = jpeg_roundtrip(images.astype(np.float32)).numpy()
    assert out.shape == images.shape
    np.testing.assert_allclose(out * 255, np.round(out * 255), atol=1e-4)
    np.testing.assert_allclose(out[1], jpeg_roundtrip(images[1].astype(np.float32)).numpy())
    assert 0 < np.abs(out - images).mean() < 0.08  # lossy (4:2:0 chroma on random colours)
    flat = jpeg_roundtrip(np.full((1, 16, 16, 3), 128 / 255, np.float32)).numpy()
    np.testing.assert_allclose(flat, 128 / 255, atol=1 / 255)
    graph = tf.function(lambda x: jpeg_roundtrip(x, 75))(tf.constant(images, tf.float32))
    np.testing.assert_allclose(graph.numpy(), out)
    with pytest.raises(ValueError, match="quality"):
        jpeg_roundtrip(images, 0)


def test_jpeg_roundtrip_equals_pillow_quality_75():
    Image = pytest.importorskip("PIL.Image")
    import io

    rng = np.random.default_rng(3)
    pixels = np.round(np.clip(_reference(rng.uniform(size=(16, 16, 3)), 64), 0, 1) * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=75)
    pil = np.asarray(Image.open(buffer).convert("RGB"), np.float32)
    ours = jpeg_roundtrip(pixels.astype(np.float32) / 255.0).numpy() * 255.0
    assert np.abs(ours - pil).max() <= 1.0  # same libjpeg tables; the IDCTs may differ by 1
