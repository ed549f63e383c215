"""experiments/model_summary.py: the parameter counts of a preset against the spec."""
import pytest

from experiments.model_summary import parameter_counts


@pytest.mark.slow  # builds the full-size G and D (~20 s); test_generator checks the same counts
def test_paper_counts_equal_spec_2_7():
    counts, expected, cfg = parameter_counts("tpgan", "paper")
    assert cfg.name == "paper" and expected
    assert {k: counts[k] for k in expected} == expected  # what "matches_spec" reports
    assert counts["generator"] == 157_503_770 and counts["discriminator"] == 13_357_441
    assert counts["lightcnn_frozen"] == 12_573_280 and counts["lightcnn_trainable"] == 0


def test_tiny_has_no_spec_counts():
    counts, expected, cfg = parameter_counts("tpgan", "tiny", ["model.width=0.125"])
    assert expected == {} and cfg.model.width == 0.125
    assert 0 < counts["generator"] < 157_503_770 / 10
    assert counts["local_total"] == sum(counts[f"local_{p}"] for p in
                                        ("eye_left", "eye_right", "nose", "mouth"))
