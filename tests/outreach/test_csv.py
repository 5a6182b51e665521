import pytest

from outreach.csvutils import csv_rows, neutralize


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1 555", "'+1 555"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("Plain", "Plain"),
        ("a=b", "a=b"),
        (42, "42"),
        (None, ""),
    ],
)
def test_neutralize(value, expected):
    assert neutralize(value) == expected


def test_rows_are_escaped_and_start_with_a_bom():
    out = "".join(csv_rows(["name"], [["=1+1"], ["ok"]]))
    assert out == "\ufeffname\r\n'=1+1\r\nok\r\n"
