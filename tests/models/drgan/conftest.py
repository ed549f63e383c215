"""Session fixtures of the DR-GAN task, export and evaluation tests: a small clean synthetic
Multi-PIE tree, its DR-GAN image records and its TP-GAN pair records (built once)."""
from __future__ import annotations

import pytest

# 4 subjects x 2 sessions x 5 cameras (yaw -60, -15, 0, +15, +60) x illuminations 4 and 7;
# subjects 3 and 4 are the test split.
SUBJECTS, SESSIONS, TEST_FROM = 4, 2, 3
CAMERAS = ("09_0", "14_0", "05_1", "05_0", "20_0")
ILLUMINATIONS = (4, 7)


@pytest.fixture(scope="session")
def drgan_tree(tmp_path_factory) -> str:
    from data_prep import synthetic

    root = str(tmp_path_factory.mktemp("drgan_multipie"))
    synthetic.generate(root, SUBJECTS, illuminations=ILLUMINATIONS, sessions=SESSIONS,
                       image_size=(240, 180), seed=3, workers=1, cameras=CAMERAS,
                       progress=False)
    return root


@pytest.fixture(scope="session")
def drgan_records(drgan_tree, tmp_path_factory) -> tuple[str, dict]:
    """(output dir, manifest) of data_prep.build_image_records on the tree."""
    from data_prep import build_image_records

    out = str(tmp_path_factory.mktemp("drgan_records"))
    manifest = build_image_records.build(out, multipie_root=drgan_tree,
                                         test_subjects_from=TEST_FROM, workers=1,
                                         show_progress=False)
    return out, manifest


@pytest.fixture(scope="session")
def drgan_pairs(drgan_tree, tmp_path_factory) -> str:
    """The pair records (data_prep.build_tfrecords) of the same tree."""
    from data_prep import build_tfrecords

    out = str(tmp_path_factory.mktemp("drgan_pairs"))
    build_tfrecords.build(out, multipie_root=drgan_tree, test_subjects_from=TEST_FROM,
                          workers=1, show_progress=False)
    return out
