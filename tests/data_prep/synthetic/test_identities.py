"""Tests of data_prep/synthetic/identities.py: an identity is recognisable across poses and
sessions keep the shape while changing the appearance slightly."""
from __future__ import annotations

import numpy as np

from data_prep import synthetic as S

SMALL = (160, 120)  # (width, height)


# ----------------------------------------------------------------------------- identity
def _descriptor(img, parts):
    """Chromaticity of the median skin, hair and clothes colours (9 numbers)."""
    out = []
    for name in ("skin", "hair", "clothes"):
        px = img[parts == S.PART_ID[name]].astype(float)
        med = (np.median(px, axis=0) if len(px) else np.zeros(3)) + 1.0
        out.append(med / med.sum())
    return np.concatenate(out)


def test_identity_is_stable_across_poses():
    gallery, probes = {}, []
    for sid in range(1, 6):
        p = S.identity_for(0, sid)
        for yaw in (-90, -45, 0, 45, 90):
            img, _, parts = S.render_view(p, yaw, 7, SMALL, return_parts=True)
            (gallery.__setitem__(sid, _descriptor(img, parts)) if yaw == 0
             else probes.append((sid, _descriptor(img, parts))))
    for sid, d in probes:
        dist = {g: np.linalg.norm(d - gd) for g, gd in gallery.items()}
        others = min(v for g, v in dist.items() if g != sid)
        assert dist[sid] < 0.7 * others, (sid, dist)


def test_sessions_keep_shape_and_change_appearance_slightly():
    s1, s2 = S.identity_for(0, 7, 1), S.identity_for(0, 7, 2)
    assert s1 == S.identity_for(0, 7, 1)
    shape = ("head_half_width", "face_front", "nose_length", "nose_height", "eye_half_distance",
             "mouth_y", "chin_y", "ear_protrusion")
    assert all(getattr(s1, f) == getattr(s2, f) for f in shape)
    skin1, skin2 = np.asarray(s1.skin_rgb), np.asarray(s2.skin_rgb)
    assert 0 < np.abs(skin1 - skin2).max() < 0.06 * skin1.max()
    # the same camera pose renders the same landmarks in both sessions
    np.testing.assert_allclose(S.render_view(s1, 30, 7, SMALL)[1],
                               S.render_view(s2, 30, 7, SMALL)[1], atol=1e-6)
