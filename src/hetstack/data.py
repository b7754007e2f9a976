"""Reading and validating user bars: every problem is reported as one line naming file, column and row."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from hetstack.errors import DataError
from hetstack.io import write_parquet

log = logging.getLogger("hetstack")

REQUIRED_COLUMNS = ("timestamp", "open", "high", "low", "close", "volume")
PRICE_COLUMNS = ("open", "high", "low", "close")
NUMERIC_COLUMNS = PRICE_COLUMNS + ("volume",)

# An explicit zone after a clock time: Z, UTC/GMT, or a numeric offset like +01:00 / -0500 / +02.
_ZONE_SUFFIX = re.compile(
    r"\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[Zz]|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$"
)
_TIMESTAMP_FIX = "write timestamps with an explicit zone, e.g. 2024-01-08T14:30:00Z or 2024-01-08 09:30:00-05:00"

# This many consecutive equal spacings make an interval: isolated breaks and missing bars never do.
INTERVAL_RUN_BARS = 20
_DAY_NS = 86_400 * 10**9


def read_bars(path: str | os.PathLike) -> pd.DataFrame:
    """Read a .parquet or .csv file of 1-minute bars and return the validated, normalized table."""
    path = Path(path)
    source = str(path)
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise DataError(source, f"unknown file extension {suffix or '(none)'!r}", "provide bars as .parquet or .csv")
    if not path.is_file():
        raise DataError(source, "file does not exist", "check the path in the config")
    if path.stat().st_size == 0:
        raise DataError(source, "file is empty", f"write a header and bars with columns {', '.join(REQUIRED_COLUMNS)}")
    if suffix == ".csv":
        delimiter = _other_delimiter(path)
        if delimiter:
            raise DataError(source, f"columns are separated by {delimiter}, not commas",
                            "write comma-separated values with a point as decimal mark (pandas: to_csv with its defaults)")
        try:
            df = pd.read_csv(path)
        except pd.errors.EmptyDataError:
            raise DataError(source, "file has no header or rows", f"write a header with columns {', '.join(REQUIRED_COLUMNS)}") from None
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise DataError(source, f"cannot parse CSV ({_short(exc)})", "fix the file so every line has the same comma-separated columns") from None
    else:
        try:
            df = pd.read_parquet(path, engine="pyarrow")
        except Exception as exc:  # pyarrow raises several types (ArrowInvalid, OSError) for corrupt files
            raise DataError(source, f"unreadable or corrupt parquet ({_short(exc)})", "re-export the file as parquet, or supply it as CSV") from None
    return validate_bars(df, source=source)


def validate_bars(df: pd.DataFrame, source: str, *, warn_gaps: bool = True) -> pd.DataFrame:
    """Return a normalized copy: REQUIRED_COLUMNS in order, UTC ns timestamps, float64 values, RangeIndex.

    Raises DataError (one line: file, column, first offending row, fix) for any violation, a change of
    bar interval included. Holes the calendar does not explain (unexpected_gaps) are logged as warnings.
    """
    source = _one_line(str(source))
    if not isinstance(df, pd.DataFrame):
        raise DataError(source, f"expected a table of bars, got {type(df).__name__}", "pass a pandas DataFrame")
    columns = _match_columns(df, source)
    if len(df) == 0:
        raise DataError(source, "table has no rows", "supply at least one bar")

    timestamps = _parse_timestamps(df[columns["timestamp"]], source)
    out = {"timestamp": timestamps}
    for name in NUMERIC_COLUMNS:
        out[name] = _to_float(df[columns[name]], name, source, timestamps)
    bars = pd.DataFrame(out, columns=list(REQUIRED_COLUMNS))

    for name in NUMERIC_COLUMNS:
        values = bars[name].to_numpy()
        bad = ~np.isfinite(values)
        if bad.any():
            i = _first(bad)
            raise DataError(
                _where(source, name), f"{_describe_nonfinite(values[i])} {_at(i, timestamps)}",
                "remove or fill the bar; prices and volume must be finite numbers",
            )
    for name in PRICE_COLUMNS:
        values = bars[name].to_numpy()
        bad = values <= 0
        if bad.any():
            i = _first(bad)
            raise DataError(_where(source, name), f"non-positive price {_num(values[i])} {_at(i, timestamps)}", "prices must be > 0; remove bad ticks")
    _check_ohlc(bars, source, timestamps)
    volume = bars["volume"].to_numpy()
    if (volume < 0).any():
        i = _first(volume < 0)
        raise DataError(_where(source, "volume"), f"negative volume {_num(volume[i])} {_at(i, timestamps)}", "volume must be >= 0")
    _check_order(timestamps, source)
    _check_interval(timestamps, source)
    if warn_gaps:
        _warn_gaps(unexpected_gaps(timestamps), source)
    return bars


def write_bars(path: str | os.PathLike, df: pd.DataFrame) -> None:
    """Validate, then write bars atomically as parquet so readers never see a partial file."""
    write_parquet(path, validate_bars(df, source=str(path), warn_gaps=False))  # read_bars warned already


def unexpected_gaps(timestamps) -> list[dict]:
    """Holes between consecutive bars that the calendar does not explain: more than one weekday
    (Mon-Fri, UTC dates) without a bar. Weekends, daily session breaks and single-weekday holidays
    are expected; so is any spacing up to 1.5 bar intervals (weekly bars).

    One dict per hole: from (last bar before), to (first bar after), hours, missing_weekdays.
    """
    index = pd.DatetimeIndex(timestamps)
    index = index.tz_convert("UTC") if index.tz is not None else index.tz_localize("UTC")
    if len(index) < 2:
        return []
    ns = index.as_unit("ns").asi8
    spacing = np.diff(ns)
    # two whole weekdays strictly between the bars' dates take more than two days
    candidates = np.flatnonzero(spacing > max(2 * _DAY_NS, 1.5 * float(np.median(spacing))))
    if not len(candidates):
        return []
    before, after = (index[i].tz_localize(None).values.astype("datetime64[D]") for i in (candidates, candidates + 1))
    missing = np.busday_count(before + 1, after)  # weekdays strictly between the two dates
    keep = missing > 1
    return [{"from": iso_utc(index[i]), "to": iso_utc(index[i + 1]), "hours": round(float(spacing[i]) / 3.6e12, 2),
             "missing_weekdays": int(m)} for i, m in zip(candidates[keep], missing[keep])]


def iso_utc(timestamp) -> str:
    """ISO 8601 in UTC with a Z, e.g. 2024-01-08T14:30:00Z."""
    return pd.Timestamp(timestamp).tz_convert("UTC").isoformat().replace("+00:00", "Z")


def _match_columns(df: pd.DataFrame, source: str) -> dict[str, str]:
    """Map each required name to the user's column, ignoring case and surrounding spaces."""
    by_lower: dict[str, list] = {}
    for col in df.columns:
        by_lower.setdefault(str(col).strip().lower(), []).append(col)
    missing = [name for name in REQUIRED_COLUMNS if name not in by_lower]
    if missing:
        present = ", ".join(repr(str(c)) for c in df.columns[:12]) or "none"
        raise DataError(
            f"{source} [column {', '.join(missing)}]",
            f"missing required column(s) {', '.join(missing)} (found {present})",
            f"provide columns {', '.join(REQUIRED_COLUMNS)} (case-insensitive)",
        )
    for name in REQUIRED_COLUMNS:
        if len(by_lower[name]) > 1:
            raise DataError(
                _where(source, name), f"several columns match {name!r}: {by_lower[name]!r}",
                "keep exactly one column per name (names are compared case-insensitively)",
            )
    return {name: by_lower[name][0] for name in REQUIRED_COLUMNS}


def _parse_timestamps(column: pd.Series, source: str) -> pd.Series:
    where = _where(source, "timestamp")
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        parsed = column
    elif pd.api.types.is_datetime64_dtype(column.dtype):
        raise DataError(where, "timestamps have no time zone (naive)", _TIMESTAMP_FIX)
    elif pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype):
        raise DataError(where, f"timestamps are numbers ({column.dtype}), whose unit and zone are ambiguous", _TIMESTAMP_FIX)
    else:
        parsed = _parse_timestamp_objects(column, where)
    missing = parsed.isna().to_numpy()
    if missing.any():
        raise DataError(where, f"missing timestamp at row {_first(missing)}", "remove the bar or fill in its timestamp")
    try:
        parsed = parsed.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
    except (OverflowError, ValueError, pd.errors.OutOfBoundsDatetime) as exc:
        raise DataError(where, f"timestamps out of range ({_short(exc)})", "use timestamps between 1678 and 2261") from None
    return parsed.reset_index(drop=True).rename("timestamp")


def _parse_timestamp_objects(column: pd.Series, where: str) -> pd.Series:
    """Strings or datetime objects: each value must carry its own zone; then convert all to UTC."""
    values = column.to_numpy(dtype=object)
    missing = pd.isna(values)
    if missing.any():
        raise DataError(where, f"missing timestamp at row {_first(missing)}", "remove the bar or fill in its timestamp")
    is_text = np.fromiter((isinstance(v, str) for v in values), dtype=bool, count=len(values))
    has_zone = np.empty(len(values), dtype=bool)
    if is_text.any():
        text = pd.Series(values[is_text], dtype=object).str.strip()
        has_zone[is_text] = text.str.contains(_ZONE_SUFFIX).to_numpy(dtype=bool)
    for i in np.flatnonzero(~is_text):
        value = values[i]
        if not hasattr(value, "tzinfo"):
            raise DataError(where, f"value {_show(value)} at row {i} is not a timestamp", _TIMESTAMP_FIX)
        has_zone[i] = value.tzinfo is not None
    if not has_zone.any():
        raise DataError(where, f"timestamps have no time zone (naive), e.g. {_show(values[0])} at row 0", _TIMESTAMP_FIX)
    if not has_zone.all():
        i = _first(~has_zone)
        raise DataError(where, f"mixed zone-aware and naive timestamps; first naive is {_show(values[i])} at row {i}", _TIMESTAMP_FIX)

    parsed = pd.Series(pd.NaT, index=range(len(values)), dtype="datetime64[ns, UTC]")
    if is_text.any():
        text = pd.Series(values[is_text], dtype=object).str.strip()
        converted = None
        for fmt in ("ISO8601", "mixed"):
            try:
                converted = pd.to_datetime(text, utc=True, format=fmt)
                break
            except (ValueError, TypeError, OverflowError):
                continue
        if converted is None:
            coerced = pd.to_datetime(text, utc=True, format="mixed", errors="coerce")
            bad = coerced.isna().to_numpy()
            i = np.flatnonzero(is_text)[_first(bad)] if bad.any() else 0
            raise DataError(where, f"cannot parse timestamp {_show(values[i])} at row {i}", _TIMESTAMP_FIX)
        converted = converted.astype("datetime64[ns, UTC]")
        if is_text.all():
            return converted.reset_index(drop=True)
        parsed[is_text] = converted.to_numpy()
    for i in np.flatnonzero(~is_text):
        parsed.iloc[i] = pd.Timestamp(values[i]).tz_convert("UTC")
    return parsed


def _to_float(column: pd.Series, name: str, source: str, timestamps: pd.Series) -> pd.Series:
    where = _where(source, name)
    if pd.api.types.is_bool_dtype(column.dtype):
        raise DataError(where, "column holds booleans, not numbers", f"write {name} as numbers")
    if pd.api.types.is_numeric_dtype(column.dtype):
        return pd.Series(column.to_numpy(dtype=np.float64, na_value=np.nan), name=name)
    values = column.to_numpy(dtype=object)
    numbers = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
    bad = numbers.isna().to_numpy() & ~pd.isna(values)
    if bad.any():
        i = _first(bad)
        raise DataError(where, f"non-numeric value {_show(values[i])} {_at(i, timestamps)}", f"write {name} as plain numbers (no text, units or thousands separators)")
    return pd.Series(numbers.to_numpy(dtype=np.float64), name=name)


def _check_ohlc(bars: pd.DataFrame, source: str, timestamps: pd.Series) -> None:
    high, low = bars["high"].to_numpy(), bars["low"].to_numpy()
    inverted = high < low
    if inverted.any():
        i = _first(inverted)
        raise DataError(_where(source, "high"), f"high {_num(high[i])} < low {_num(low[i])} {_at(i, timestamps)}", "check for swapped high/low columns or bad ticks")
    for name in ("open", "close"):
        values = bars[name].to_numpy()
        outside = (values > high) | (values < low)
        if outside.any():
            i = _first(outside)
            raise DataError(
                _where(source, name), f"{name} {_num(values[i])} outside [low {_num(low[i])}, high {_num(high[i])}] {_at(i, timestamps)}",
                "each bar needs low <= open, close <= high; fix or drop the bar",
            )


def _check_order(timestamps: pd.Series, source: str) -> None:
    where = _where(source, "timestamp")
    duplicated = timestamps.duplicated().to_numpy()
    if duplicated.any():
        i = _first(duplicated)
        raise DataError(where, f"duplicate timestamp {timestamps.iloc[i]} at row {i}", "keep one bar per timestamp (drop or aggregate duplicates)")
    ns = pd.DatetimeIndex(timestamps).asi8
    backwards = np.diff(ns) <= 0
    if backwards.any():
        i = _first(backwards) + 1
        raise DataError(
            where, f"timestamps not increasing: {timestamps.iloc[i]} at row {i} follows {timestamps.iloc[i - 1]}",
            "sort the bars by timestamp",
        )


def _check_interval(timestamps: pd.Series, source: str) -> None:
    """Refuse a file whose bar interval changes (1-minute bars, then 5-minute bars): windows count bars.

    An interval is a run of INTERVAL_RUN_BARS equal spacings, or the spacing most bars have; a run of
    another spacing than the first interval means a switch. Isolated larger spacings (session breaks,
    missing bars) are no run.
    """
    spacing = np.diff(pd.DatetimeIndex(timestamps).as_unit("ns").asi8)
    if len(spacing) < INTERVAL_RUN_BARS:
        return
    starts = np.flatnonzero(np.r_[True, spacing[1:] != spacing[:-1]])
    lengths = np.diff(np.r_[starts, len(spacing)])
    values = spacing[starts]
    kinds, which = np.unique(values, return_inverse=True)
    modal = kinds[np.argmax(np.bincount(which, weights=lengths))]
    long = lengths >= INTERVAL_RUN_BARS
    if not (long & (values != modal)).any():
        return
    established = np.flatnonzero(long | (values == modal))
    first = values[established[0]]
    later = established[values[established] != first]
    switch = later[long[later]] if long[later].any() else later  # a run of the new interval, not a lone gap
    row = int(starts[switch[0]]) + 1  # the first bar at the new spacing from its predecessor
    raise DataError(
        _where(source, "timestamp"),
        f"bar interval changes: {_interval_text(first)} bars, then {_interval_text(values[switch[0]])} bars "
        f"from row {row} (timestamp {timestamps.iloc[row]})",
        "resample the bars to one interval (e.g. pandas DataFrame.resample)",
    )


def _interval_text(ns: int) -> str:
    seconds = int(ns) / 1e9
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} s"


def _warn_gaps(gaps: list[dict], source: str) -> None:
    if gaps:
        shown = "; ".join(f"{g['from']} -> {g['to']} ({g['hours']:g} h, {g['missing_weekdays']} weekdays without bars)"
                          for g in gaps[:5])
        log.warning("%s: %d gap(s) longer than weekends and single-weekday holidays: %s%s", source, len(gaps),
                    shown, "; ..." if len(gaps) > 5 else "")


def _other_delimiter(path: Path) -> str | None:
    """';' or tabs in a header line without commas: the usual export of spreadsheets in many locales."""
    with open(path, encoding="utf-8", errors="replace") as stream:
        header = stream.readline()
    if "," in header:
        return None
    for sep, name in ((";", "';'"), ("\t", "tabs"), ("|", "'|'")):
        if sep in header:
            return name
    return None


def _where(source: str, column: str) -> str:
    return f"{source} [column {column}]"


def _at(i: int, timestamps: pd.Series) -> str:
    return f"at row {i} (timestamp {timestamps.iloc[i]})"


def _first(mask: np.ndarray) -> int:
    return int(np.argmax(mask))


def _describe_nonfinite(value: float) -> str:
    return "missing value (NaN)" if np.isnan(value) else f"infinite value {_num(value)}"


def _num(value) -> str:
    return repr(float(value))


def _show(value) -> str:
    text = repr(value)
    return _one_line(text if len(text) <= 60 else text[:57] + "...")


def _short(exc: BaseException) -> str:
    text = _one_line(str(exc)) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."


def _one_line(text: str) -> str:
    return " ".join(text.split())
