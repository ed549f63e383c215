"""Client for a model served by TF Serving, over REST (JSON) or gRPC: builds the request
instances from files and flags, for the signatures the model declares
(its serving module's SIGNATURE_INPUTS, --model), and writes what comes back.

    # a photo, landmarks in its pixel coordinates (x0,y0,...,x4,y4: left eye, right eye,
    # nose tip, left mouth corner, right mouth corner; or a landmark CSV of our format)
    python -m experiments.serving_client --server=localhost:8501 --api=rest \
        --signature=frontalize_image --image=photo.jpg --landmarks=281,201,330,199,318,236,290,262,327,261 \
        --output=out/
    # an aligned 128x128 face and its crop landmarks, gRPC (port 8500)
    python -m experiments.serving_client --server=localhost:8500 --api=grpc \
        --signature=serving_default --image=aligned.png --landmarks=aligned.csv --output=out/
    # a raw photo, its 5 points detected here (MTCNN, the largest usable face) and sent along
    python -m experiments.serving_client --server=localhost:8501 --api=rest \
        --signature=frontalize_image --image=photo.jpg --detect --output=out/

    # DR-GAN: one aligned face at pose code 4; FSRNet: a 16x16 face (README has all models)
    python -m experiments.serving_client --model=drgan --model_name=drgan \
        --signature=rotate --image=face.png --input=pose=4 --output=out/

How each input of the signature is filled (tpgan_tf/serving/requests.py): `image_bytes` =
the file's bytes; a uint8 image = the decoded --image; a uint8 stack = all --image files as ONE
instance; `landmarks` = --landmarks or --detect; any other input = --input=name=value. Writes `<output>/<image stem>_<output name>.png` for image outputs (`.npy`
for the others) and prints one line per instance.
"""
from __future__ import annotations

import sys

import numpy as np
from absl import app, flags

from experiments import common
from tpgan_tf.serving import requests

FLAGS = flags.FLAGS


def define_flags() -> None:
    """The command-line flags; defined only when this module runs as a script."""
    flags.DEFINE_string("server", "localhost:8501", "host:port of TF Serving (REST: 8501, "
                        "gRPC: 8500 by default).")
    flags.DEFINE_enum("api", "rest", ["rest", "grpc"], "Which TF Serving API to call.")
    flags.DEFINE_string("model", "tpgan", "Which model's signatures: tpgan, drgan or fsrnet.")
    flags.DEFINE_string("model_name", None, "Model name on the server (default: --model).")
    flags.DEFINE_integer("model_version", None, "Model version; default: the server's latest.")
    flags.DEFINE_string("signature", "frontalize_image", "Signature to call (the model's, "
                        "e.g. TP-GAN: serving_default, frontalize_image, frontal_float).")
    flags.DEFINE_multi_string("input", [], "name=value for a signature input that is not an "
                              "image or landmarks, e.g. pose=4 (repeatable).")
    flags.DEFINE_multi_string("image", None, "Image file(s); all are sent in one request.")
    flags.DEFINE_string("landmarks", None, "10 numbers x0,y0,...,x4,y4 (one image) or a "
                        "landmark CSV (path,x0,y0,...,x4,y4; paths relative to the CSV).")
    flags.DEFINE_bool("detect", False, "Detect each photo's face and 5 points here (MTCNN) "
                      "instead of --landmarks; frontalize_image only.")
    common.define_detection_flags()
    flags.adopt_module_key_flags(common)  # listed by --help, which shows the script's own
    flags.DEFINE_string("output", ".", "Directory for the results.")
    flags.DEFINE_float("timeout", 60.0, "Request timeout in seconds.")


def _print_detected(image_paths: list[str]):
    """on_request callback of --detect: one line per photo with the points sent."""
    def show(instances):
        for path, inst in zip(image_paths, instances):
            numbers = ",".join(f"{v:.2f}" for v in np.asarray(inst["landmarks"]).ravel())
            print(f"{path}: detected landmarks {numbers}")
    return show


def main(argv):
    del argv
    try:
        if not FLAGS.image:
            raise ValueError("--image is required")
        extra = {}
        for item in FLAGS.input:
            if "=" not in item:
                raise ValueError(f"--input={item}: expected name=value")
            key, value = item.split("=", 1)
            extra[key.strip()] = value
        written = requests.run(FLAGS.server, FLAGS.api, FLAGS.model_name or FLAGS.model,
                      FLAGS.signature, FLAGS.image, FLAGS.landmarks, FLAGS.output,
                      FLAGS.model_version, FLAGS.timeout, detect=FLAGS.detect,
                      min_confidence=FLAGS.min_confidence,
                      min_eye_distance=FLAGS.min_eye_distance,
                      on_request=_print_detected(FLAGS.image) if FLAGS.detect else None,
                      model=FLAGS.model, extra=extra)
    except (ValueError, FileNotFoundError, RuntimeError, ImportError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for image, paths in zip(FLAGS.image, written):
        print(f"{image} -> {', '.join(paths)}")
    return 0


if __name__ == "__main__":
    define_flags()
    app.run(main)
