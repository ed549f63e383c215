"""tpgan-tf: TP-GAN (Huang et al., ICCV 2017) in TensorFlow 2 / Keras 3, faithful to the original code.

Data flows one way: data_prep -> TFRecords -> input pipeline -> models/losses -> train step
-> checkpoint -> export. See README.md.
"""
__version__ = "0.1.0"
