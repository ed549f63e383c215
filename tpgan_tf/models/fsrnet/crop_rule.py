"""FSRNet's face crop on a user photo: the crop rule of its training crops, from five points.

FSRNet is crop-specific (fsrnet spec 12: the released models fail on faces cropped another
way), so a face in a photo must be cropped as the model's training crops were. Those crops
come from a box rule on dense landmarks (data_prep/face_crops.py for Helen / CelebA; the
synthetic faces of data_prep/synthetic/faces.py: a square of 1.05-2.2 x the 68 points'
extent, moved off-centre), but a user photo has only MTCNN's five points. So the crop is
defined by the five points: the similarity transform (rotation, uniform scale, shift; no
shear, no mirror) that maps the face's five points onto the TEMPLATE, the mean five-point
positions of the model's training crops, in the least-squares sense (`similarity_matrix`).

The template is a config field (`priors.crop_template`, ten numbers x0, y0, ..., x4, y4 in
0-based pixel centres of the image_size crop, tpgan spec 1.2 point order) and goes into the
export's export_info, so the photo tool reads it from the model. Default: TEMPLATE, measured
on the training records of the demo (`make demo`: data_prep.build_face_records
--source=synthetic, 64 identities x 4 views, seed 1000, 256 faces) by `measure_template`:
the mean of five points made from the records' 68 landmarks (eye centres = means of points
36-41 and 42-47, nose tip 30, mouth corners 48 and 54: faces/landmarks.five_from_68),
made left-right symmetric (averaged with its mirror image: the synthetic yaws and crop
offsets are symmetric by design, the 0.4 px asymmetry of the raw mean is sampling noise).
The spread of the training crops around it is large (standard deviation 11-20 px per
coordinate: the crops vary in tightness and offset), so the model has seen faces well
around the template. MTCNN's own points on the same crops (240 of 256 found) sit on average
1.6 px higher at the eyes and 1.5 px further out at the mouth corners than the landmark-made
ones (1 % of the crop; the nose agrees within 0.2 px).

Models trained on other records (Helen's tight crops, CelebA's centre crops) have other
templates: measure one with `python -m tpgan_tf.models.fsrnet.crop_rule --records=DIR`
(records with 68 iBUG or 5 CelebA points; Helen's 194-point order is not defined in this
project, tpgan_tf/models/fsrnet/prior_sets.py) and train or export with
--override=priors.crop_template=x0,y0,...,x4,y4.

The crop itself (`crop_face`; it and `similarity_matrix` live in tpgan_tf/faces/similarity.py,
which the records jobs' TensorFlow-free workers import too): one bicubic warp of the photo
when the face is enlarged into the crop; when it is shrunk, first MATLAB's antialiased bicubic
shrink by the exact scale (faces/alignment.imresize_antialiased), then the remaining rotation
and shift, as the tpgan spec 1.2 alignment does (faces/alignment.py). Outside the photo the crop
repeats the photo's edge pixels (the records jobs pad with black, which would darken a face
pasted back near the photo's edge).
"""
from __future__ import annotations

import numpy as np

# Re-exported: the photo tool and the tests import them from here.
from tpgan_tf.faces.similarity import (crop_face, matrix_scale,  # noqa: F401
                                       similarity_matrix)

# The demo records' mean five points (module doc), 0-based pixels of the 128 x 128 crop.
TEMPLATE = ((46.71, 34.77), (80.29, 34.77), (63.50, 54.41), (51.13, 72.41), (75.87, 72.41))
SCHEMES = ("ibug68", "celeba5")


def template_points(flat) -> np.ndarray:
    """[5, 2] float64 of a template given as ten numbers (x0, y0, ..., x4, y4) or [5, 2];
    ValueError when it is not five finite points."""
    points = np.asarray(flat, np.float64)
    if points.size != 10 or not np.all(np.isfinite(points)):
        raise ValueError(f"a crop template is ten finite numbers x0, y0, ..., x4, y4, got "
                         f"{np.asarray(flat).tolist()}")
    return points.reshape(5, 2)


def five_points(landmarks, scheme: str) -> np.ndarray:
    """[5, 2] tpgan spec 1.2 points of a record's landmarks in `scheme` (SCHEMES)."""
    from tpgan_tf.faces.detection import spec_order
    from tpgan_tf.faces.landmarks import five_from_68

    if scheme == "ibug68":
        return five_from_68(landmarks)
    if scheme == "celeba5":
        return spec_order(np.asarray(landmarks, np.float64).reshape(5, 2))
    raise ValueError(f"five points are defined for the landmark schemes {SCHEMES}, not "
                     f"{scheme!r}; give priors.crop_template by hand")


def symmetric(points, size: int) -> np.ndarray:
    """[5, 2] points averaged with their left-right mirror image in a size-wide crop."""
    from tpgan_tf.faces.landmarks import mirror_landmarks

    p = np.asarray(points, np.float64)
    return (p + mirror_landmarks(p, size)) / 2.0


def measure_template(records_dir: str, split: str = "train") -> dict:
    """The mean five points of a face-records folder's `split` (module doc): {"template":
    [5, 2] symmetric mean, "raw_mean", "std": [5, 2], "faces": count, "size": crop side}."""
    import glob
    import os

    import tensorflow as tf

    from tpgan_tf.data.face_records import FACE_SIZE, read_metadata

    files = sorted(glob.glob(os.path.join(records_dir, f"{split}-*.tfrecord")))
    if not files:
        raise FileNotFoundError(f"{records_dir}: no {split}-*.tfrecord face records")
    points = [five_points(meta["landmarks"], meta_scheme(meta))
              for meta in (read_metadata(r.numpy()) for r in tf.data.TFRecordDataset(files))]
    points = np.asarray(points)
    mean = points.mean(axis=0)
    return {"template": symmetric(mean, FACE_SIZE), "raw_mean": mean,
            "std": points.std(axis=0), "faces": len(points), "size": FACE_SIZE}


def meta_scheme(meta: dict) -> str:
    """A record's landmark scheme (its field, or by count for records without one)."""
    return meta.get("landmark_scheme") or {68: "ibug68", 5: "celeba5"}.get(
        len(meta["landmarks"]), "")


def main(argv=None) -> int:
    """`python -m tpgan_tf.models.fsrnet.crop_rule --records=DIR [--split=train]`: prints
    the measured template and the override that sets it."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", required=True, help="face records folder")
    parser.add_argument("--split", default="train")
    args = parser.parse_args(argv)
    try:
        found = measure_template(args.records, args.split)
    except (OSError, ValueError) as err:
        print(f"error: {err}")
        return 2
    flat = ",".join(f"{v:.2f}" for v in found["template"].reshape(-1))
    print(f"{found['faces']} faces of {args.records} ({args.split}); mean five points "
          f"(symmetric) in the {found['size']} crop:")
    for name, (x, y), (sx, sy) in zip(("left eye", "right eye", "nose", "left mouth",
                                       "right mouth"), found["template"], found["std"]):
        print(f"  {name:12s} x {x:7.2f}  y {y:7.2f}   (std {sx:.1f}, {sy:.1f})")
    print(f"--override=priors.crop_template={flat}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
