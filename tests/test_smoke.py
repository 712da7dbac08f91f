import numpy as np
import pytest

from emlab import categorical


def test_normalize_keeps_previous_row_when_counts_are_all_zero():
    probs = categorical.normalize([[2.0, 6.0], [0.0, 0.0]], previous=[[0.5, 0.5], [0.9, 0.1]])
    np.testing.assert_allclose(probs, [[0.25, 0.75], [0.9, 0.1]])


def test_normalize_rejects_negative_counts_naming_the_entry():
    with pytest.raises(ValueError, match=r"counts has a negative entry .* index \(1,\)"):
        categorical.normalize([1.0, -1.0])
