"""The command line's text helpers: strict JSON, capped percentages."""

import json
import math

import pytest

from gradparity.core.text import dumps, percent, strict


def test_strict_json_names_what_a_nonfinite_number_was():
    value = {"a": math.nan, "b": [1.0, math.inf], "c": {"d": -math.inf}, "e": 2.5}
    text = dumps(value)
    assert json.loads(text, parse_constant=lambda name: pytest.fail(f"non-strict {name}")) == {
        "a": None,
        "a_nonfinite": "nan",
        "b": [1.0, None],
        "c": {"d": None, "d_nonfinite": "-inf"},
        "e": 2.5,
    }


def test_strict_leaves_finite_values_alone():
    value = {"x": [1, 2.0, "s", None, True], "y": {"z": 0.1}}
    assert strict(value) == value


@pytest.mark.parametrize(
    ("fraction", "text"),
    [
        (0.0, "0%"),
        (0.5, "50%"),
        (1.0, "100%"),
        (9.99, "999%"),
        (10.5, ">1000%"),
        (1e15, ">1000%"),
        (math.inf, ">1000%"),
        (math.nan, ">1000%"),
    ],
)
def test_percent_is_capped(fraction, text):
    assert percent(fraction) == text
