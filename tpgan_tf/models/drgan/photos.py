"""DR-GAN on photos (the photo tool, tpgan_tf/photos): frontal, every pose, the identity
feature, and pose-invariant comparison of the faces found.

Per face: the 128 x 128 crop of the tpgan spec 1.2 rule at its five points (the numpy
alignment the records jobs made DR-GAN's training crops with, faces/alignment.align_face;
`--aligned`: the input is such a crop, used as it is), then the export's signatures (BN in
inference mode, z = 0, so a face's outputs do not depend on the others). Written:
  frontal    the synthesis at the frontal pose code (s x s, s = the model's image size);
  poses      one sheet: the model's view of the input (bilinear to load_size, centre
             s x s: drgan spec 4.3) | the face at every pose code of the model, yaw
             -max_yaw .. +max_yaw in 15-degree steps (`rotate`);
  features   f(x), the identity representation (float32 [N^f], `encode`) as .npy.
After the run:
  --compare  the cosine similarity of f(x) between every two faces found (DR-GAN identifies
             and verifies with f(x) and the cosine, drgan spec 5.1), printed and written to
             compare.csv and results.json; --threshold=t adds same (>= t) / different person.
  --fuse     the faces of each folder of the input are one person: their crops go through
             `fuse_and_frontalize` together (drgan spec 2.5: f = sum(omega_i f_i) /
             (sum(omega_i) + eps) with each face's confidence omega from a multi-image model's
             confidence head; a single-image model's omegas are all 1, a plain mean, and the
             tool says so). Written per folder: fused_frontal.png, fused_sheet.png (the
             inputs | the fused frontal), fused_features.npy; the omegas in results.json.
"""
from __future__ import annotations

import csv
import io
import os

import numpy as np

from tpgan_tf.photos.applier import PhotoApplier, check_crop_size
from tpgan_tf.photos.files import make_sheet

FUSED_SHEET_FACES = 8  # input columns of fused_sheet.png


def cosine_matrix(features: np.ndarray) -> np.ndarray:
    """[n, n] cosine similarities of the rows of features [n, F] (a zero row: 0)."""
    f = np.asarray(features, np.float64)
    norms = np.linalg.norm(f, axis=1, keepdims=True)
    unit = f / np.where(norms > 0, norms, 1.0)
    return unit @ unit.T


class DrganPhotos(PhotoApplier):
    """The frontal, poses and identity feature of each face (module doc)."""

    OPTIONS = ("compare", "threshold", "fuse")

    def __init__(self, model, options=None):
        super().__init__(model, options)
        opts = self.options
        self.compare, self.fuse = bool(opts.get("compare")), bool(opts.get("fuse"))
        self.threshold = opts.get("threshold")
        if self.threshold is not None:
            if not self.compare:
                raise ValueError("--threshold needs --compare")
            if not -1.0 <= float(self.threshold) <= 1.0:
                raise ValueError(f"--threshold is a cosine similarity in [-1, 1], got "
                                 f"{self.threshold}")
        if self.fuse and "fuse_and_frontalize" not in model.signatures:
            raise ValueError(f"{model.source}: no fuse_and_frontalize signature (export the "
                             "model again) for --fuse")
        info = self.info
        self.views = list(info["pose_views_yaw_degrees"])
        self.frontal_view = int(info["frontal_view"])
        self.size = int(info["output_size"])
        self.load_size = int(info.get("load_size", self.size))
        self.crop_size = int((info.get("alignment") or {}).get("crop_size", 128))
        self._faces = []  # (crop, features, omega) of each face done, in order

    def aligned_points(self) -> np.ndarray:
        from tpgan_tf.faces.alignment import template_landmarks

        alignment = self.info.get("alignment") or {}
        return np.asarray(alignment.get("template_landmarks", template_landmarks()), np.float64)

    def crop(self, photo: np.ndarray, landmarks) -> np.ndarray:
        """The model's input: the tpgan spec 1.2 crop (or, with --aligned, the photo itself)."""
        from tpgan_tf.faces.alignment import align_face

        if self.aligned:
            size = self.crop_size
            check_crop_size(photo, size, "crops of the tpgan spec 1.2 rule")
            return photo
        return align_face(photo, landmarks, self.crop_size).image

    def model_view(self, crop: np.ndarray) -> np.ndarray:
        """What the encoder sees of a crop (for the sheets): bilinear to load_size, the
        centre s x s (inputs.eval_input's geometry, in OpenCV)."""
        import cv2

        big = cv2.resize(crop, (self.load_size, self.load_size), interpolation=cv2.INTER_LINEAR)
        top = (self.load_size - self.size) // 2
        return big[top:top + self.size, top:top + self.size]

    def face_outputs(self, photo, photo_bytes, landmarks):
        crop = self.crop(photo, landmarks)
        encoded = self.model("encode", image=crop[None])
        n = len(self.views)
        views = self.model("rotate", image=np.repeat(crop[None], n, axis=0),
                           pose=np.arange(n, dtype=np.int32))["image"]
        features = encoded["features"][0].astype(np.float32)
        # The crop is kept only for --fuse (finish): 48 kB a face.
        self._faces.append((crop if self.fuse else None, features,
                            float(encoded["omega"][0, 0])))
        return {"frontal": views[self.frontal_view],
                "poses": make_sheet(self.model_view(crop), np.concatenate(list(views), axis=1)),
                "features": features}

    # -- after the run
    def finish(self, records, output_dir, log):
        from tpgan_tf.photos.records import faces_done, run_faces

        done = faces_done(records)
        faces, self._faces = run_faces(self._faces, len(done)), []
        names = [name for name, _ in done]
        extra = {}
        if self.compare:
            extra["compare"] = self._compare(names, faces, output_dir, log)
        if self.fuse:
            extra["fused"] = self._fuse(done, faces, output_dir, log)
        return extra

    def _compare(self, names: list[str], faces: list, output_dir: str, log) -> dict:
        from tpgan_tf.core.files import write_text_atomic

        if len(names) < 2:
            log(f"--compare: {len(names)} face{'s' * (len(names) != 1)} found, nothing to "
                "compare")
            return {"faces": names, "similarity": [[1.0]] * len(names)}
        sim = cosine_matrix(np.stack([f for _, f, _ in faces]))
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(["face", *names])
        for name, row in zip(names, sim):
            writer.writerow([name, *[f"{v:.4f}" for v in row]])
        write_text_atomic(os.path.join(output_dir, "compare.csv"), text.getvalue())
        log(f"cosine similarity of the identity features f(x) of {len(names)} faces "
            "(compare.csv):")
        for k, name in enumerate(names, 1):
            log(f"  [{k}] {name}")
        log("      " + "".join(f"{f'[{k}]':>8s}" for k in range(1, len(names) + 1)))
        for k, row in enumerate(sim, 1):
            log(f"  {f'[{k}]':4s}" + "".join(f"{v:8.3f}" for v in row))
        out = {"faces": names, "similarity": np.round(sim, 4).tolist()}
        if self.threshold is not None:
            t = float(self.threshold)
            pairs = []
            for i in range(len(names)):
                for j in range(i + 1, len(names)):
                    same = bool(sim[i, j] >= t)
                    pairs.append({"a": names[i], "b": names[j],
                                  "similarity": round(float(sim[i, j]), 4), "same": same})
                    log(f"  {names[i]} ~ {names[j]}: {sim[i, j]:.3f} "
                        f"{'same person' if same else 'different people'} "
                        f"({'>=' if same else '<'} {t:g})")
            out.update(threshold=t, pairs=pairs)
        return out

    def _fuse(self, done: list, faces: list, output_dir: str, log) -> list[dict]:
        from tpgan_tf.photos.files import write_output

        groups = {}
        for (name, record), face in zip(done, faces):
            groups.setdefault(os.path.dirname(record["photo"]), []).append((name, face))
        if self.info.get("confidence", "none") == "none":
            log("--fuse: the model has no confidence head (a single-image DR-GAN): each "
                "person's faces are averaged with equal weights (omega = 1)")
        fused = []
        for folder, faces in sorted(groups.items()):
            crops = np.stack([crop for _, (crop, _, _) in faces])
            out = self.model("fuse_and_frontalize", images=crops[None])
            frontal, features = out["frontal"][0], out["features"][0].astype(np.float32)
            stem = os.path.join(output_dir, folder, "fused")
            shown = np.concatenate([self.model_view(c) for c in crops[:FUSED_SHEET_FACES]], 1)
            paths = [write_output(f"{stem}_frontal", frontal),
                     write_output(f"{stem}_sheet", make_sheet(shown, frontal)),
                     write_output(f"{stem}_features", features)]
            omegas = {name: round(omega, 4) for name, (_, _, omega) in faces}
            where = folder or "."
            log(f"fused {len(faces)} face{'s' * (len(faces) != 1)} of {where} (omega "
                + ", ".join(f"{v:.3f}" for v in omegas.values()) + ") -> "
                + ", ".join(os.path.relpath(p, output_dir) for p in paths))
            fused.append({"folder": where, "omega": omegas,
                          "outputs": [os.path.relpath(p, output_dir) for p in paths]})
        return fused
