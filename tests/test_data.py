import numpy as np
import pandas as pd
import pytest

from hetstack.data import REQUIRED_COLUMNS, read_bars, validate_bars, write_bars
from hetstack.errors import DataError


def good_bars(n: int = 6) -> pd.DataFrame:
    close = 100.0 + np.arange(n, dtype=float)
    return pd.DataFrame(
        {
            "timestamp": [f"{t:%Y-%m-%dT%H:%M:%S}Z" for t in pd.date_range("2024-01-08 14:30", periods=n, freq="min")],
            "open": close - 0.5,
            "high": close + 1.0,
            "low": close - 1.0,
            "close": close,
            "volume": np.arange(n, dtype=float) * 10 + 5,
        }
    )


def assert_one_line_error(exc: DataError, *fragments: str) -> str:
    message = str(exc)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert "fix:" in message
    return message


def raise_from_csv(tmp_path, df: pd.DataFrame, name: str = "bars_bad.csv") -> DataError:
    path = tmp_path / name
    df.to_csv(path, index=False)
    with pytest.raises(DataError) as info:
        read_bars(path)
    return info.value


def _set(column, row, value):
    def mutate(df):
        df[column] = df[column].astype(object)
        df.loc[row, column] = value
        return df

    return mutate


def _swap_high_low(df):
    df.loc[3, ["high", "low"]] = [df.loc[3, "low"], df.loc[3, "high"]]
    return df


def _naive(df):
    df["timestamp"] = [t.rstrip("Z") for t in df["timestamp"]]
    return df


def _mixed(df):
    df.loc[2, "timestamp"] = df.loc[2, "timestamp"].rstrip("Z")
    return df


def _duplicate(df):
    df.loc[3, "timestamp"] = df.loc[2, "timestamp"]
    return df


def _unsorted(df):
    df.loc[[2, 3], "timestamp"] = [df.loc[3, "timestamp"], df.loc[2, "timestamp"]]
    return df


VIOLATIONS = {
    "non_numeric_string": (_set("close", 2, "12,5"), "close", "non-numeric value"),
    "nan_price": (_set("open", 3, np.nan), "open", "NaN"),
    "inf_price": (_set("high", 1, np.inf), "high", "infinite"),
    "zero_price": (_set("low", 2, 0.0), "low", "non-positive"),
    "negative_price": (lambda df: df.assign(close=-df["close"], open=-df["open"], high=-df["low"], low=-df["high"]), "open", "non-positive"),
    "high_below_low": (_swap_high_low, "high", "high"),
    "open_above_high": (_set("open", 4, 1000.0), "open", "outside"),
    "close_below_low": (_set("close", 1, 1.0), "close", "outside"),
    "nan_volume": (_set("volume", 5, np.nan), "volume", "NaN"),
    "negative_volume": (_set("volume", 2, -3.0), "volume", "negative volume"),
    "naive_timestamps": (_naive, "timestamp", "naive"),
    "mixed_naive_aware": (_mixed, "timestamp", "mixed"),
    "unparseable_timestamp": (_set("timestamp", 1, "2024-13-45 25:61:00Z"), "timestamp", "cannot parse"),
    "duplicate_timestamps": (_duplicate, "timestamp", "duplicate"),
    "unsorted_timestamps": (_unsorted, "timestamp", "not increasing"),
}


@pytest.mark.parametrize("case", sorted(VIOLATIONS))
def test_violation_raises_one_line_error_naming_file_and_column(tmp_path, case):
    mutate, column, problem = VIOLATIONS[case]
    error = raise_from_csv(tmp_path, mutate(good_bars()), name=f"bars_{case}.csv")
    assert_one_line_error(error, f"bars_{case}.csv", f"column {column}", problem)


@pytest.mark.parametrize("case", ["nan_price", "zero_price", "negative_volume", "duplicate_timestamps", "open_above_high"])
def test_violation_names_first_offending_row(case):
    mutate, column, _ = VIOLATIONS[case]
    df = mutate(good_bars())
    with pytest.raises(DataError) as info:
        validate_bars(df, source="mem.parquet")
    bad_rows = {"nan_price": 3, "zero_price": 2, "negative_volume": 2, "duplicate_timestamps": 3, "open_above_high": 4}
    assert f"row {bad_rows[case]}" in str(info.value)


def test_missing_columns_are_listed(tmp_path):
    error = raise_from_csv(tmp_path, good_bars().drop(columns=["low", "volume"]), name="no_cols.csv")
    assert_one_line_error(error, "no_cols.csv", "low", "volume", "missing")


def test_empty_table(tmp_path):
    error = raise_from_csv(tmp_path, good_bars().iloc[:0], name="empty_rows.csv")
    assert_one_line_error(error, "empty_rows.csv", "no rows")


def test_empty_file(tmp_path):
    path = tmp_path / "zero.csv"
    path.write_bytes(b"")
    with pytest.raises(DataError) as info:
        read_bars(path)
    assert_one_line_error(info.value, "zero.csv", "empty")


def test_unknown_extension(tmp_path):
    path = tmp_path / "bars.xlsx"
    path.write_text("x")
    with pytest.raises(DataError) as info:
        read_bars(path)
    assert_one_line_error(info.value, "bars.xlsx", ".xlsx")


def test_corrupt_parquet(tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 this is not really parquet PAR1")
    with pytest.raises(DataError) as info:
        read_bars(path)
    assert_one_line_error(info.value, "broken.parquet", "parquet")


def test_naive_datetime64_column_is_rejected():
    df = good_bars()
    df["timestamp"] = pd.to_datetime(df["timestamp"]).dt.tz_localize(None)
    with pytest.raises(DataError) as info:
        validate_bars(df, source="naive.parquet")
    assert_one_line_error(info.value, "naive.parquet", "column timestamp", "naive")


def test_numeric_timestamps_are_rejected():
    df = good_bars().assign(timestamp=np.arange(6) * 60)
    with pytest.raises(DataError) as info:
        validate_bars(df, source="epoch.csv")
    assert_one_line_error(info.value, "epoch.csv", "column timestamp")


def test_normalized_output_and_case_insensitive_columns():
    df = good_bars().rename(columns={"close": "Close", "volume": " VOLUME"})
    df["extra"] = "dropped"
    df.index = range(10, 16)
    bars = validate_bars(df, source="mem")
    assert tuple(bars.columns) == REQUIRED_COLUMNS
    assert str(bars["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert all(bars[c].dtype == np.float64 for c in REQUIRED_COLUMNS[1:])
    assert isinstance(bars.index, pd.RangeIndex) and bars.index[0] == 0
    assert bars["close"].tolist() == good_bars()["close"].tolist()


def test_other_time_zones_are_converted_to_utc():
    df = good_bars(3)
    df["timestamp"] = ["2024-07-08 09:30:00-04:00", "2024-07-08T15:31:00+02:00", "2024-07-08 13:32:00Z"]
    bars = validate_bars(df, source="mem")
    expected = pd.to_datetime(["2024-07-08 13:30", "2024-07-08 13:31", "2024-07-08 13:32"]).tz_localize("UTC")
    assert list(bars["timestamp"]) == list(expected)

    aware = good_bars(3)
    aware["timestamp"] = pd.date_range("2024-03-10 01:00", periods=3, freq="min", tz="America/Chicago")
    bars = validate_bars(aware, source="mem")
    assert str(bars["timestamp"].dt.tz) == "UTC"
    assert bars["timestamp"].iloc[0] == pd.Timestamp("2024-03-10 07:00", tz="UTC")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_round_trip(tmp_path, suffix):
    rng = np.random.default_rng(3)
    bars = validate_bars(good_bars(50).assign(close=lambda d: d["close"] + rng.uniform(-0.9, 0.9, 50)), source="mem")
    bars["open"] = bars["close"].clip(bars["low"], bars["high"])
    path = tmp_path / f"bars{suffix}"
    if suffix == ".csv":
        bars.to_csv(path, index=False)
    else:
        write_bars(path, bars)
    back = read_bars(path)
    pd.testing.assert_frame_equal(back, bars, check_exact=True)


def test_write_bars_is_deterministic(tmp_path):
    bars = validate_bars(good_bars(), source="mem")
    write_bars(tmp_path / "a.parquet", bars)
    write_bars(tmp_path / "b.parquet", bars)
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
