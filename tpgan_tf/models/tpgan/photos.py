"""TP-GAN on photos (the photo tool, tpgan_tf/photos): each face aligned in the graph by the
spec 1.2 rule of the training crops (the `frontalize_image` signature takes the photo's
bytes and its five points), frontalized; written: `frontal` and `sheet` (the aligned input
crop | the frontal). Each face runs as a batch of one, so its frontal does not depend on the
other faces (with the original's batch-statistics BN it would). `--aligned`: the input is a
ready 128 x 128 crop of the spec 1.2 rule, frontalized as it is (`serving_default`) with the
points of a landmark CSV or else the template's."""
from __future__ import annotations

import numpy as np

from tpgan_tf.photos.applier import PhotoApplier, check_crop_size
from tpgan_tf.photos.files import decode, make_sheet


class TpganPhotos(PhotoApplier):
    """The frontal of each face (module doc)."""

    def aligned_points(self) -> np.ndarray:
        return np.asarray(self.info["alignment"]["template_landmarks"], np.float64)

    def face_outputs(self, photo, photo_bytes, landmarks):
        points = np.asarray(landmarks, np.float32)[None]
        if self.aligned:
            size = self.info["alignment"]["crop_size"]
            check_crop_size(photo, size, "crops of the tpgan spec 1.2 rule")
            frontal = self.model("serving_default", image=photo[None], landmarks=points)
            return {"frontal": frontal["frontal"][0],
                    "sheet": make_sheet(photo, frontal["frontal"][0])}
        out = self.model("frontalize_image", image_bytes=np.array([photo_bytes], object),
                         landmarks=points)
        frontal_png, aligned_png = out["frontal_png_bytes"][0], out["aligned_png_bytes"][0]
        return {"frontal": frontal_png,
                "sheet": make_sheet(decode(aligned_png), decode(frontal_png))}
