"""VGG-16 perceptual features (fsrnet spec 6.2) with random weights from a temp file."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from tpgan_tf.core.task import MissingResourceError
from tpgan_tf.models.fsrnet.losses import perceptual_loss
from tpgan_tf.models.fsrnet.perceptual import (
    VGG_MEAN_BGR, load_vgg16_features, perceptual_features, vgg_preprocess)


@pytest.fixture(scope="module")
def random_vgg(tmp_path_factory):
    """A randomly initialised VGG16(include_top=False) saved as the user would save theirs."""
    source = keras.applications.VGG16(weights=None, include_top=False, input_shape=(None, None, 3))
    path = str(tmp_path_factory.mktemp("vgg") / "vgg16.weights.h5")
    source.save_weights(path)
    return source, path


def test_caffe_preprocessing():
    rgb = np.array([[[[1.0, 0.5, 0.0]]]], np.float32)
    out = vgg_preprocess(rgb).numpy()[0, 0, 0]
    np.testing.assert_allclose(out, [0.0 - VGG_MEAN_BGR[0], 127.5 - VGG_MEAN_BGR[1],
                                     255.0 - VGG_MEAN_BGR[2]], rtol=1e-6)
    ref = keras.applications.vgg16.preprocess_input(rgb * 255.0)
    np.testing.assert_allclose(out, ref[0, 0, 0], rtol=1e-5)


def test_loaded_features_equal_the_saved_network(random_vgg):
    source, path = random_vgg
    vgg = load_vgg16_features(path)
    assert not vgg.trainable_weights
    images = tf.random.uniform((2, 32, 32, 3), seed=3)
    feats = perceptual_features(vgg, images)
    assert feats.shape == (2, 2, 2, 512)
    # relu5_3 (spec 6.2): block5_conv3's output is after its ReLU; a third or more are 0.
    assert feats.numpy().min() == 0.0 and (feats.numpy() == 0).mean() > 0.3
    ref = keras.Model(source.input, source.get_layer("block5_conv3").output)(vgg_preprocess(images))
    np.testing.assert_allclose(feats.numpy(), ref.numpy(), rtol=1e-4, atol=1e-4)
    other = perceptual_features(vgg, tf.random.uniform((2, 32, 32, 3), seed=4))
    expected = np.mean((feats.numpy() - other.numpy()) ** 2)
    np.testing.assert_allclose(perceptual_loss(feats, other).numpy(), expected, rtol=1e-5)
    assert float(perceptual_loss(feats, feats)) == 0.0


def test_missing_or_bad_file_says_how_to_make_it(tmp_path):
    for path in (None, str(tmp_path / "absent.weights.h5")):
        with pytest.raises(MissingResourceError, match=r'VGG16\(weights=.imagenet., include_top=False\)'):
            load_vgg16_features(path)
    bad = tmp_path / "broken.weights.h5"
    bad.write_bytes(b"not an h5 file")
    with pytest.raises(MissingResourceError, match="save_weights"):
        load_vgg16_features(str(bad))
