"""tpgan-tf: a faithful TensorFlow 2 / Keras 3 reimplementation of TP-GAN (ICCV 2017)."""
import pathlib

from setuptools import find_packages, setup

HERE = pathlib.Path(__file__).parent


def _requirements(name):
    lines = (HERE / name).read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


setup(
    name="tpgan-tf",
    version="0.1.0",
    description="TP-GAN face frontalization in TensorFlow 2 / Keras 3, faithful to the original code",
    long_description=(HERE / "README.md").read_text(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["tpgan_tf*", "data_prep*", "experiments*"]),
    install_requires=_requirements("requirements.txt"),
    extras_require={
        # The Light-CNN PyTorch-checkpoint converter (experiments/convert_lightcnn.py).
        "convert": ["torch>=2.1"],
        # gRPC client of TF Serving (experiments/serving_client.py --api=grpc).
        "serving": ["tensorflow-serving-api>=2.18,<2.22"],
        "test": _requirements("requirements-test.txt"),
    },
)
