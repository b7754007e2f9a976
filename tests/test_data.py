import numpy as np
import pandas as pd
import pytest

from hetstack.data import REQUIRED_COLUMNS, read_bars, unexpected_gaps, validate_bars, write_bars
from hetstack.data_files import find_data_file
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


# --- finding a symbol's data file ---

def _touch(folder, *names):
    folder.mkdir(exist_ok=True)
    for name in names:
        (folder / name).write_text("x")
    return folder


def test_find_data_file_exact_missing_and_no_folder(tmp_path):
    assert find_data_file(tmp_path / "nope", "MES") is None
    data = _touch(tmp_path / "data", "MGC.csv", "README.md")
    assert find_data_file(data, "MES") is None
    _touch(data, "MES.parquet")
    assert find_data_file(data, "MES") == str(data / "MES.parquet")


@pytest.mark.parametrize("symbol, name", [("MYSYM2", "mysym2.csv"), ("MES", "MES.CSV"), ("MES", "mes.Parquet")])
def test_find_data_file_uses_a_name_that_differs_in_case_and_says_so(tmp_path, caplog, symbol, name):
    data = _touch(tmp_path / "data", name)
    with caplog.at_level("WARNING", logger="hetstack"):
        assert find_data_file(data, symbol) == str(data / name)
    assert str(data / name) in caplog.text and "case" in caplog.text


@pytest.mark.parametrize("names", [("mes.csv", "MES.parquet"), ("MES.csv", "MES.parquet"), ("MES.csv", "mes.CSV")])
def test_find_data_file_refuses_several_candidates(tmp_path, names):
    data = _touch(tmp_path / "data", *names)
    if len(list(data.iterdir())) < len(names):
        pytest.skip("case-insensitive file system")
    with pytest.raises(DataError) as info:
        find_data_file(data, "MES")
    assert_one_line_error(info.value, *(str(data / n) for n in names), "symbol MES", "keep one")


@pytest.mark.parametrize("name", ["MES.txt", "MES.tsv", "MES.xlsx", "MES.json", "MES.feather", "MES.csv.gz", "MES.pq",
                                  "mes.TXT", "MES"])
def test_find_data_file_refuses_another_extension(tmp_path, name):
    data = _touch(tmp_path / "data", name)
    with pytest.raises(DataError) as info:
        find_data_file(data, "MES")
    assert_one_line_error(info.value, str(data / name), ".parquet or", f"{data / 'MES'}.csv")


def test_find_data_file_keeps_symbols_with_dots_apart(tmp_path, caplog):
    data = _touch(tmp_path / "data", "BRK.B.csv", "BRK.A.parquet", "MES.backup", "MES.csv.bak")
    assert find_data_file(data, "BRK") is None  # BRK.B.csv is symbol BRK.B's, not a bad extension of BRK
    assert find_data_file(data, "MES") is None
    assert find_data_file(data, "BRK.B") == str(data / "BRK.B.csv")
    _touch(data, "BRK.B.txt")
    with caplog.at_level("WARNING", logger="hetstack"):
        assert find_data_file(data, "BRK.B") == str(data / "BRK.B.csv")  # a usable file wins; the other is named
    assert str(data / "BRK.B.txt") in caplog.text


# --- delimiters, bar interval and gaps ---


@pytest.mark.parametrize("sep, named", [(";", "';'"), ("\t", "tabs")])
def test_csv_with_another_delimiter_is_named(tmp_path, sep, named):
    path = tmp_path / "USR.csv"
    good_bars().to_csv(path, index=False, sep=sep, decimal="," if sep == ";" else ".")
    with pytest.raises(DataError) as info:
        read_bars(path)
    message = assert_one_line_error(info.value, f"{path}: columns are separated by {named}, not commas",
                                    "fix: write comma-separated values")
    assert "missing" not in message


def minute_bars(timestamps) -> pd.DataFrame:
    n = len(timestamps)
    close = 100.0 + np.sin(np.arange(n))
    return pd.DataFrame({"timestamp": timestamps, "open": close, "high": close + 1, "low": close - 1, "close": close,
                         "volume": np.ones(n)})


def _switch(first_minutes, first_n, then_minutes, then_n):
    start = pd.Timestamp("2024-01-08 00:00", tz="UTC")
    head = start + pd.to_timedelta(np.arange(first_n) * first_minutes, unit="min")
    tail = head[-1] + pd.to_timedelta(np.arange(1, then_n + 1) * then_minutes, unit="min")
    return pd.Series(head.append(tail))


@pytest.mark.parametrize("first, then, row", [((1, 300), (5, 200), 300), ((1, 50), (5, 800), 50), ((5, 400), (1, 100), 400)])
def test_a_change_of_bar_interval_is_refused_where_it_starts(first, then, row):
    timestamps = _switch(*first, *then)
    with pytest.raises(DataError) as info:
        validate_bars(minute_bars(timestamps), source="mixed.csv")
    assert_one_line_error(info.value, "mixed.csv [column timestamp]",
                          f"{first[0]} min bars, then {then[0]} min bars from row {row} (timestamp {timestamps[row]})",
                          "resample")


def test_breaks_and_missing_bars_are_no_change_of_interval():
    from hetstack.synthetic import generate_market

    bars = generate_market("MES", 16000, seed=2)  # two weekends, daily breaks
    assert unexpected_gaps(bars["timestamp"]) == []
    rng = np.random.default_rng(0)
    holes = bars.drop(index=rng.choice(len(bars), 800, replace=False)).reset_index(drop=True)  # scattered missing bars
    pd.testing.assert_frame_equal(validate_bars(holes, source="mem"), holes)
    hours = pd.Series(pd.date_range("2024-01-01", periods=3000, freq="h", tz="UTC"))
    validate_bars(minute_bars(hours[hours.dt.hour.between(13, 20)].reset_index(drop=True)), source="mem")


def test_unexpected_gaps_are_holes_the_calendar_does_not_explain():
    minutes = pd.Series(pd.date_range("2024-01-01", "2024-03-01", freq="min", tz="UTC"))
    weekdays = minutes[minutes.dt.day_of_week < 5]  # weekends off
    assert unexpected_gaps(weekdays) == []
    holiday = weekdays[minutes.dt.date != pd.Timestamp("2024-01-17").date()]  # one Wednesday off
    assert unexpected_gaps(holiday) == []
    monday = weekdays[minutes.dt.date != pd.Timestamp("2024-01-15").date()]  # a long weekend
    assert unexpected_gaps(monday) == []
    hole = weekdays[(weekdays < "2024-01-09 12:00") | (weekdays >= "2024-01-15 12:00")].reset_index(drop=True)
    assert unexpected_gaps(hole) == [{"from": "2024-01-09T11:59:00Z", "to": "2024-01-15T12:00:00Z", "hours": 144.02,
                                      "missing_weekdays": 3}]
    days = pd.Series(pd.bdate_range("2024-01-01", periods=300, tz="UTC"))
    assert unexpected_gaps(days) == [] and unexpected_gaps(days.iloc[::5]) == []  # daily and weekly bars


def test_validate_bars_warns_of_unexpected_gaps(caplog):
    timestamps = pd.Series(pd.date_range("2024-01-08 14:00", periods=100, freq="min", tz="UTC"))
    timestamps = pd.concat([timestamps, timestamps + pd.Timedelta(days=7)], ignore_index=True)
    with caplog.at_level("WARNING", logger="hetstack"):
        validate_bars(minute_bars(timestamps), source="holes.csv")
    assert "holes.csv: 1 gap(s)" in caplog.text and "2024-01-08T15:39:00Z -> 2024-01-15T14:00:00Z" in caplog.text


# --- rule bars: the bars and where they came from ---


def _prepare(tmp_path, data_file, **synthetic):
    from hetstack.stages.data import SyntheticSettings, prepare_bars

    settings = SyntheticSettings(**{"n_bars": 3000, "seed": 7, **synthetic})
    out, source = tmp_path / "out/bars.parquet", tmp_path / "out/bars_source.json"
    bars = prepare_bars("MES", data_file, str(out), settings, source_path=str(source))
    return bars, out, source


def test_bars_source_records_the_data_file(tmp_path):
    import hashlib
    import json

    path = tmp_path / "MES.csv"
    timestamps = pd.Series(pd.date_range("2024-01-08 14:00", periods=100, freq="min", tz="UTC"))
    minute_bars(pd.concat([timestamps, timestamps + pd.Timedelta(days=7)], ignore_index=True)).to_csv(path, index=False)
    bars, out, source = _prepare(tmp_path, str(path))
    record = json.loads(source.read_text())
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert record == {"kind": "file", "path": str(path), "sha256": digest, "bytes": path.stat().st_size,
                      "description": f"file {path} (sha256 {digest[:12]})", "n_bars": 200,
                      "first": "2024-01-08T14:00:00Z", "last": "2024-01-15T15:39:00Z", "bar_interval_seconds": 60.0,
                      "gaps": [{"from": "2024-01-08T15:39:00Z", "to": "2024-01-15T14:00:00Z", "hours": 166.35,
                                "missing_weekdays": 4}]}
    assert pd.read_parquet(out).equals(bars)


def test_bars_source_records_the_synthetic_market(tmp_path):
    import json

    bars, out, source = _prepare(tmp_path, None, market="classic", effect_strength=0.5, effects={"motif": 0.0})
    record = json.loads(source.read_text())
    assert record == {"kind": "synthetic", "seed": 7, "symbol": "MES", "market": "classic", "effect_strength": 0.5,
                      "effects": {"interaction": 1.0, "motif": 0.0, "trend": 1.0, "regime": 0.0, "absorption": 0.0,
                                  "echo": 0.0},
                      "description": "synthetic classic market, seed 7 (symbol MES): not market data", "n_bars": 3000,
                      "first": "2024-01-07T23:00:00Z", "last": "2024-01-10T02:59:00Z", "bar_interval_seconds": 60.0,
                      "gaps": []}


def test_a_failed_bars_job_leaves_neither_file(tmp_path, monkeypatch):
    bad = tmp_path / "MES.csv"
    good_bars().to_csv(bad, index=False, sep=";")
    with pytest.raises(DataError):
        _prepare(tmp_path, str(bad))
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())

    import hetstack.stages.data as stage

    def broken(path, obj):
        raise OSError("disk full")

    monkeypatch.setattr(stage, "write_json", broken)
    with pytest.raises(OSError):
        _prepare(tmp_path, None)
    assert not list((tmp_path / "out").iterdir())
