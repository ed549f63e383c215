"""The identity network shared by the models: Light-CNN-29 (v1), its weight loaders and converter,
and its pretraining on our records."""
