"""Any folder of face photos without labels -> FaceItems for the FSRNet face records (the
"folder" source of data_prep/build_face_records.py):

    python -m data_prep.build_face_records --source=folder --folder=DIR --output_dir=OUT

Every image under DIR (sub-folders too; .jpg .jpeg .png .bmp .webp .tif .tiff, in sorted
path order) is searched for faces with MTCNN (tpgan_tf/faces/detection.detect_any_size: the
photo as it is, then enlarged 2x and 4x when nothing is found, so the 128 x 128 crops of a
face data set are found too). The largest face whose confidence is at least
`min_confidence` (detection.MIN_CONFIDENCE, 0.9) is kept, one face per image; its five
points become the record's landmarks (scheme "celeba5": left eye, right eye, nose tip,
left mouth corner, right mouth corner, image-left first). An image that cannot be read, in
which MTCNN finds no face, or only faces below the confidence, or whose face is too small
for its crop (below), is skipped and listed with its reason.

Detection runs here, in the parent process (MTCNN needs TensorFlow, which the job's workers
never import); the workers (data_prep/face_records_job.py) read the image again, crop it and
draw the parsing map from the five points (data_prep/drawn_parsing.py). A rerun detects
again (~75 ms per 128 x 128 image on 2 cores) and keeps the finished shards.

The crop (`crop`):
  * "template" (default): FSRNet's crop rule for photos (tpgan_tf/models/fsrnet/
    crop_rule.py): the similarity that maps the five points onto `template` (the model's
    priors.crop_template; default crop_rule.TEMPLATE, the demo's), 128 x 128, edge pixels
    repeated outside the photo. A face is then where the photo tool puts it.
  * "center": the image's largest centred square resized to 128 x 128 (face_crops'
    "center" box, padded with black where it leaves the image): for folders that already
    hold face crops (e.g. the FSRNet release's 128 x 128 test faces), kept as they are
    instead of being resampled onto the template.
A face whose crop would be enlarged more than `max_enlarge` times (1.25: 27 px between the
eyes of a photo for the template's 33.6) is skipped: enlarged, it is no HR face.

Splits (`test_count`): every face is "train" unless test_count > 0: then the last
test_count faces in path order (of the images with a usable face) are "test".
"""
from __future__ import annotations

import os
import sys

from data_prep.face_records_job import FaceItem

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
CROPS = ("template", "center")
MAX_ENLARGE = 1.25  # module doc
LANDMARK_SCHEME = "celeba5"  # MTCNN's five points are in CelebA's order


def list_images(folder: str) -> list[str]:
    """The image files under folder (module doc), as paths relative to it, sorted."""
    if not folder or not os.path.isdir(folder):
        raise FileNotFoundError(f"--folder={folder!r}: not a folder")
    found = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in files:
            if os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS:
                found.append(os.path.relpath(os.path.join(root, name), folder))
    if not found:
        raise FileNotFoundError(f"{folder}: no images ({' '.join(IMAGE_EXTENSIONS)}) in it "
                                "or its sub-folders")
    return sorted(found)


def resolve_template(template=None):
    """[5, 2] float64: the template given (ten numbers or [5, 2]; ValueError if it is not
    five finite points) or crop_rule.TEMPLATE."""
    from tpgan_tf.models.fsrnet.crop_rule import TEMPLATE, template_points

    return template_points(TEMPLATE if template is None else template)


def enlargement(points, width: int, height: int, crop: str, template) -> float:
    """How many times a face's crop (`crop`, module doc) enlarges the photo: the scale of the
    similarity of points [5, 2] onto template [5, 2], or 128 / the centre box's side."""
    from data_prep.face_crops import FACE_SIZE, center_box
    from tpgan_tf.faces.similarity import matrix_scale, similarity_matrix

    if crop == "template":
        return matrix_scale(similarity_matrix(points, template))
    return FACE_SIZE / center_box(width, height).side


def largest_face(image, min_confidence: float):
    """(five points [5, 2] of the largest face at least min_confidence sure, None) or
    (None, the reason no face is usable). image: RGB uint8 [H, W, 3]."""
    from tpgan_tf.faces import detection

    faces = detection.detect_any_size(image)
    if not faces:
        return None, "no face found (MTCNN)"
    for face in faces:  # largest box first
        if detection.rejection(face, min_confidence, min_eye_distance=0.0) is None:
            return face.landmarks, None
    best = max(f.confidence for f in faces)
    return None, (f"no face sure enough: {len(faces)} found, the best confidence "
                  f"{best:.3f} < {min_confidence:g}")


def collect(folder: str, *, crop: str = "template", template=None, test_count: int = 0,
            min_confidence: float | None = None, max_enlarge: float = MAX_ENLARGE,
            show_progress: bool = True) -> tuple[dict[str, list[FaceItem]], list[dict]]:
    """({"train": items[, "test": items]}, skipped inputs) of a folder of photos (module doc).
    template: [5, 2] or ten numbers (crop "template"; default crop_rule.TEMPLATE)."""
    from tqdm import tqdm

    from data_prep.face_crops import FACE_SIZE
    from data_prep.images import read_image
    from tpgan_tf.faces import detection

    if crop not in CROPS:
        raise ValueError(f"--folder_crop must be one of {CROPS}, got {crop!r}")
    if test_count < 0:
        raise ValueError(f"--folder_test must be >= 0, got {test_count}")
    if not max_enlarge > 0:
        raise ValueError(f"--folder_max_enlarge must be > 0, got {max_enlarge}")
    min_confidence = detection.MIN_CONFIDENCE if min_confidence is None else min_confidence
    resolved = resolve_template(template)
    template_tuple = tuple(map(tuple, resolved.tolist())) if crop == "template" else ()
    paths = list_images(folder)
    items, skipped = [], []
    for rel in tqdm(paths, desc="detecting faces", unit="image", disable=not show_progress,
                    file=sys.stderr):
        path = os.path.join(folder, rel)
        image, reason = read_image(path)
        points = None
        if image is not None:
            points, reason = largest_face(image, min_confidence)
        if points is not None:
            try:
                scale = enlargement(points, image.shape[1], image.shape[0], crop, resolved)
            except ValueError as err:  # the points coincide
                scale, reason = None, str(err)
            if scale is not None and scale > max_enlarge:
                reason = (f"face too small: its {FACE_SIZE}x{FACE_SIZE} crop would enlarge it "
                          f"{scale:.2f}x (more than {max_enlarge:g}x)")
        if reason:
            skipped.append({"path": path, "reason": reason})
            continue
        items.append(FaceItem(
            source="folder", name=os.path.splitext(rel)[0].replace(os.sep, "/"),
            image_path=path, landmarks=tuple(map(tuple, points.tolist())), label_kind="drawn",
            crop=crop, template=template_tuple,
            landmark_scheme=LANDMARK_SCHEME, num_landmarks=5))
    if not items:
        first = f"{skipped[0]['path']}: {skipped[0]['reason']}" if skipped else "-"
        raise ValueError(f"{folder}: no usable face in {len(paths)} images (first: {first})")
    if test_count and test_count >= len(items):
        raise ValueError(f"--folder_test={test_count} leaves no training face: {folder} has "
                         f"{len(items)} usable faces ({len(skipped)} images skipped)")
    cut = len(items) - test_count
    by_split = {"train": items[:cut]}
    if test_count:
        by_split["test"] = items[cut:]
    return by_split, skipped
