"""Prior sets and label remaps (fsrnet spec 5)."""
import pytest

from tpgan_tf.models.fsrnet.prior_sets import HELEN11, PARSING_SETS, PRIOR_SETS, REMAPS, label_remap


def test_channel_counts_of_the_named_sets():
    assert PRIOR_SETS["helen"].num_priors == 197  # the official 128 -> 197 head (tyshiwo #6)
    assert PRIOR_SETS["helen_local"].num_priors == 205
    assert PRIOR_SETS["celeba68"].num_priors == 79  # [LI]'s 68 + 11
    assert PRIOR_SETS["celeba5"].num_priors == 16


def test_remap_tables_cover_their_source_labels():
    for (source, target), table in REMAPS.items():
        assert len(table) == len(PARSING_SETS[source])
        assert set(table) == set(range(len(PARSING_SETS[target])))  # every target class used
    assert label_remap("helen11", "global3")[HELEN11.index("hair")] == 2
    assert label_remap("helen11", "global3")[HELEN11.index("left_eye")] == 1
    assert label_remap("helen11", "helen11") is None
    with pytest.raises(ValueError, match="no label remap"):
        label_remap("global3", "helen11")
    with pytest.raises(ValueError, match="unknown parsing label set"):
        label_remap("helen11", "lapa")
