"""Synthetic faces: multi-view heads in the raw Multi-PIE layout, and face crops for FSRNet.

Multi-PIE is licensed, so the demo and the tests use faces rendered here, which then go
through the same code path as the real data (alignment, tpgan spec 1.2; patches, spec 1.4).

Model. Each identity is one closed 3-D surface (head, ears, hair volume, neck, shoulders)
that is star-shaped about the vertical axis: in cylindrical coordinates it is a radius
table R(theta, y). theta = 0 is the nose direction, y is the height in mm with 0 on the eye
line. The head frame has x toward image-right and z toward the camera at yaw 0. Appearance
(skin, eyes, brows, lips, hair, beard, moles, clothes) lives in the same (theta, y) texture
coordinates, so shape and appearance are fixed per identity and only the view changes.

Rendering. The cameras are orthographic and, like the 13 Multi-PIE cameras used here
(spec 6.2), differ only in yaw, so each image row sees one horizontal slice of the surface.
A slice is a closed curve; its front-facing segments are rasterised column by column and
z-buffered (the nose hides the far cheek, the far eye vanishes at 90 degrees). Lambertian
shading with ambient light is baked into the texture once per (identity, illumination),
because a Lambertian surface looks the same from every camera. Camera roll is an image
rotation, applied afterwards with the landmarks moved by the same matrix.

Sign convention (spec 1.1): a positive-yaw camera sees the nose pointing to image-right.

Layout written by `generate` (spec 6.1):
    <out>/data/session0S/multiview/SSS/RR/CC_C/SSS_SS_RR_CCC_II.png
    <out>/landmarks.csv   header `path,x0,y0,...,x4,y4`, points in spec 1.2 order

Face records for FSRNet (`faces`): 128x128 crops of frontal and near-frontal views with 68
iBUG landmarks projected from the model (`landmarks68`) and a Helen 11-label parsing map
(`regions`: the texture's fine labels and their remaps).

Modules, in dependency order: constants, identities, geometry, regions, appearance,
head_model, rendering, landmarks68, faces, layout (the Multi-PIE writer), cli
(`python -m data_prep.synthetic`).
"""
from data_prep.synthetic.constants import (DEFAULT_ILLUMINATIONS, DEFAULT_IMAGE_SIZE,
                                           EYE_ROW_FRACTION, JITTER_ROLL_DEG, JITTER_SCALE,
                                           JITTER_SHIFT, JITTER_YAW_DEG, LANDMARKS_FILE,
                                           NO_FLASH, NOISE_SIGMA, PART_ID, PARTS,
                                           PIXELS_PER_MM_AT_480, RECORDING)
from data_prep.synthetic.faces import (FACE_SIZE, FaceRecord, FaceView, face_identity,
                                       face_record, face_records, face_view, render_face)
from data_prep.synthetic.head_model import HeadModel, head_model, pixels_per_mm_for
from data_prep.synthetic.identities import (IdentityParams, identity_for, sample_identity,
                                            session_variant)
from data_prep.synthetic.landmarks68 import (MIRROR_68, NUM_LANDMARKS, landmarks5_from_68,
                                             landmarks_68_3d)
from data_prep.synthetic.layout import camera_jitter, generate, image_relpath
from data_prep.synthetic.regions import (GLOBAL_LABELS, HELEN_LABELS, REGIONS, helen_to_global,
                                         to_helen)
from data_prep.synthetic.rendering import render_view
from data_prep.synthetic.cli import main

__all__ = [
    "DEFAULT_ILLUMINATIONS", "DEFAULT_IMAGE_SIZE", "EYE_ROW_FRACTION", "JITTER_ROLL_DEG",
    "JITTER_SCALE", "JITTER_SHIFT", "JITTER_YAW_DEG", "LANDMARKS_FILE", "NO_FLASH", "NOISE_SIGMA",
    "PART_ID", "PARTS", "PIXELS_PER_MM_AT_480", "RECORDING", "HeadModel", "head_model",
    "pixels_per_mm_for", "IdentityParams", "identity_for", "sample_identity", "session_variant",
    "camera_jitter", "generate", "image_relpath", "render_view", "main",
    "FACE_SIZE", "FaceRecord", "FaceView", "face_identity", "face_record", "face_records",
    "face_view", "render_face", "MIRROR_68", "NUM_LANDMARKS", "landmarks5_from_68",
    "landmarks_68_3d", "GLOBAL_LABELS", "HELEN_LABELS", "REGIONS", "helen_to_global", "to_helen",
]
