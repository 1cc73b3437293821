from include.common.tabular import rows_to_csv


def test_rows_to_csv_writes_header_and_rows() -> None:
    assert rows_to_csv([{"a": 1, "b": "x"}, {"a": 2, "b": None}]) == b"a,b\n1,x\n2,\n"


def test_rows_to_csv_of_nothing_is_empty() -> None:
    assert rows_to_csv([]) == b""
