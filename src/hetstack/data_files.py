"""Which data file holds a symbol's bars. Light (no pandas): rules/common.smk looks every configured
symbol up while the workflow is parsed."""

from __future__ import annotations

import logging
import os

from hetstack.errors import DataError

log = logging.getLogger("hetstack")

DATA_EXTENSIONS = ("parquet", "csv")
# Name parts of tabular (or compressed) files: data/MES.txt or data/MES.csv.gz is refused, not skipped
# for the synthetic market; data/BRK.B.csv is no file of symbol BRK ('b' is no such part).
_TABULAR_PARTS = frozenset(DATA_EXTENSIONS + (
    "txt", "tsv", "tab", "dat", "xlsx", "xlsm", "xls", "ods", "json", "jsonl", "ndjson", "feather", "arrow",
    "ipc", "pq", "parq", "orc", "avro", "h5", "hdf", "hdf5", "pkl", "pickle", "gz", "bz2", "xz", "zst", "zip"))

def find_data_file(data_dir: str | os.PathLike, symbol: str) -> str | None:
    """The bars file of `symbol`: {data_dir}/{symbol}.parquet or .csv, the name compared ignoring case.

    None when there is none: the synthetic market stands in. Refuses (DataError) several such files,
    and a file named for the symbol with another extension (MES.txt, MES.csv.gz), rather than falling
    back to the synthetic market without a word.
    """
    data_dir = str(data_dir)
    try:
        names = sorted(os.listdir(data_dir))
    except (FileNotFoundError, NotADirectoryError):
        return None
    stem = symbol.lower()
    usable = [n for n in names if n.lower() in {f"{stem}.{ext}" for ext in DATA_EXTENSIONS}]
    other = [n for n in names if n not in usable and _is_other_tabular(n.lower(), stem)
             and os.path.isfile(os.path.join(data_dir, n))]
    found = [os.path.join(data_dir, n) for n in usable]
    others = [os.path.join(data_dir, n) for n in other]
    base = os.path.join(data_dir, symbol)
    wanted = f"{base}.parquet or {base}.csv"
    if len(found) > 1:
        raise DataError(", ".join(found), f"{len(found)} files hold bars for symbol {symbol}",
                        f"keep one of them, named {wanted}")
    if not found:
        if others:
            raise DataError(", ".join(others), f"named for symbol {symbol} but not a .parquet or .csv file",
                            f"provide the bars as {wanted} (comma-separated), or move the file away "
                            "to use the synthetic market")
        return None
    if usable[0] not in {f"{symbol}.{ext}" for ext in DATA_EXTENSIONS}:
        log.warning("hetstack: bars of symbol %s come from %s (its name differs from %s in case)",
                    symbol, found[0], wanted)
    if others:
        log.warning("hetstack: symbol %s reads %s and ignores %s (only .parquet and .csv are read)",
                    symbol, found[0], ", ".join(others))
    return found[0]


def _is_other_tabular(name: str, stem: str) -> bool:
    """`name` (lower case) is stem.{tabular extension parts}, or the bare stem."""
    if name == stem:
        return True
    return name.startswith(stem + ".") and set(name[len(stem) + 1:].split(".")) <= _TABULAR_PARTS
