"""Input arrays for `matgrad eval` (the `-i` options) and the `-o` output archive.

`-i` takes `NAME=FILE`, `NAME=NUMBER` or a bare `FILE.npz`:

* a number literal (`2`, `-0.5`, `.5`, `1e-3`, and `inf`, `-inf` as in CSV) is a scalar
  (0-d array); an infinite one gets the NaN/Inf warning. There is no NaN literal. A value that
  looks like a number is always a number, never a file name.
* `.npy` is one array, loaded with pickles refused.
* `.npz` without a name binds every array in it by its key (a key that is not a valid
  name cannot be used in an expression, so it is skipped with a warning). With
  `NAME=FILE.npz`, NAME gets the archive's array called NAME, or its only array when it
  holds just one; anything else is an error, since the user asked for one array by name.
* `.csv` is comma-separated numbers. A first line none of whose cells is a number is a
  header and is skipped; blank lines are ignored. One row or one column gives a vector,
  a single value a scalar, anything else a matrix.

Arrays come back as float64 (bools and integers converted; complex, text and object
data refused). Values are scalars, vectors, matrices and, with 3 or more axes, tensors
(SPEC §2b). Nothing is ever passed to eval or unpickled.
"""
from __future__ import annotations

import csv
import os
import re

import numpy as np

from ..errors import InputError
from ..language.names import is_name

SUPPORTED = ".npy, .npz, .csv"

_NUMBER = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity)",
                     re.IGNORECASE)
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK"


def as_matrix(a) -> np.ndarray:
    """A value as a 2-d array in matgrad's reading: a scalar is 1×1, a vector a column."""
    a = np.asarray(a)
    if a.ndim == 0:
        return a.reshape(1, 1)
    if a.ndim == 1:
        return a[:, None]
    return a


def _is_npz(path: str) -> bool:
    return path.lower().endswith(".npz")


def parse_input_option(text: str) -> tuple[str | None, str]:
    """Split a `-i` value into (name, source); name is None for a bare .npz path."""
    if "=" in text:
        name, source = (part.strip() for part in text.split("=", 1))
        if is_name(name):
            if not source:
                raise InputError(f"input '{text}' has no file or number after '='")
            return name, source
        # `-i ./run=3/data.npz`: the '=' belongs to the path, not to a name
        if _is_npz(text):
            return None, text
        if not name:
            raise InputError(f"input '{text}' needs a name before '='")
        raise InputError(
            f"input '{text}': '{name}' is not a valid name "
            "(a letter, then letters, digits or '_')"
        )
    if _is_npz(text):
        return None, text
    message = f"input '{text}' must be NAME=FILE or NAME=NUMBER"
    if text.lower().endswith((".npy", ".csv")):
        message += " (only a .npz archive may be given without NAME=)"
    raise InputError(message)


def load_inputs(options: list[str]) -> tuple[dict[str, np.ndarray], list[str]]:
    """Load every `-i` value; return the arrays by name and warning messages."""
    arrays: dict[str, np.ndarray] = {}
    origin: dict[str, str] = {}
    warnings: list[str] = []
    for option in options:
        name, source = parse_input_option(option)
        for key, array in _load_source(name, source, warnings):
            if key in arrays:
                raise InputError(
                    f"input {key} is given twice ({origin[key]} and {source})"
                )
            arrays[key] = array
            origin[key] = source
            if not np.all(np.isfinite(array)):
                warnings.append(f"input {key} contains NaN/Inf values")
    return arrays, warnings


def save_outputs(path: str, arrays: dict[str, np.ndarray], inputs: list[str] = ()) -> None:
    """Write the arrays to an .npz archive at path, by their keys, atomically: to a
    temporary file in the same folder, then renamed over path. A failed write leaves no
    partial file and an existing file untouched. ``inputs`` are the `-i` values; path
    naming one of their files (by any spelling) is an error."""
    if not _is_npz(path):
        raise InputError(f"output file '{path}' must end in .npz")
    for option in inputs:
        try:
            source = parse_input_option(option)[1]
        except InputError:
            continue
        if _same_file(path, source):
            raise InputError(f"output file '{path}' is the input file '{source}': "
                             "choose another output file")
    import tempfile

    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, temp = tempfile.mkstemp(prefix=".matgrad-", suffix=".npz.tmp", dir=folder)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)  # as open() would have made it, not mkstemp's 0600
        # Through a file object, so numpy does not append '.npz' to a '.NPZ' path.
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **{key: np.asarray(a) for key, a in arrays.items()})
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException as exc:
        try:
            os.unlink(temp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise


def _same_file(a: str, b: str) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _load_source(name: str | None, source: str, warnings: list[str]):
    """Yield (name, float64 array) pairs for one `-i` value."""
    if name is not None and _NUMBER.fullmatch(source):
        yield name, np.array(float(source), dtype=np.float64)
        return
    extension = os.path.splitext(source)[1].lower()
    if extension == ".npy":
        yield name, _checked(_read_npy(source), source)
    elif extension == ".npz":
        yield from _read_npz(name, source, warnings)
    elif extension == ".csv":
        yield name, _read_csv(source)
    else:
        kind = f"unknown file type '{extension}'" if extension else "not a number"
        raise InputError(
            f"cannot load '{source}': {kind} "
            f"(supported: {SUPPORTED} files, or a number)"
        )


def _pickled(path: str) -> InputError:
    return InputError(
        f"{path}: contains pickled Python objects; "
        "matgrad loads plain numeric arrays only"
    )


def _open_numpy(path: str, magic: bytes, kind: str):
    """np.load, after checking the file really is the kind its extension says.

    Without the check numpy takes any other file for a pickle, and the message would
    blame pickles for what is a text file with the wrong name.
    """
    try:
        with open(path, "rb") as handle:
            start = handle.read(len(magic))
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    if start != magic:
        raise InputError(f"{path}: not a NumPy {kind} file")
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc):
            raise _pickled(path) from None
        raise InputError(f"cannot read {path}: {exc}") from None
    except Exception as exc:  # a truncated or corrupt file: numpy raises many kinds
        raise InputError(f"cannot read {path}: {exc}") from None


def _read_npy(path: str) -> np.ndarray:
    return _open_numpy(path, _NPY_MAGIC, ".npy")


def _read_npz(name: str | None, path: str, warnings: list[str]):
    with _open_numpy(path, _ZIP_MAGIC, ".npz") as archive:
        keys = list(archive.files)
        if not keys:
            raise InputError(f"{path}: the archive holds no arrays")
        if name is not None:
            if name in keys:
                wanted = name
            elif len(keys) == 1:
                wanted = keys[0]
            else:
                raise InputError(
                    f"{path}: holds {len(keys)} arrays ({', '.join(keys)}) and none "
                    f"is named {name}; give the file without '{name}=' to load them all"
                )
            yield name, _checked(_member(archive, wanted, path), f"{path}[{wanted}]")
            return
        for key in keys:
            if not is_name(key):
                warnings.append(f"{path}: array '{key}' skipped: not a valid name")
                continue
            yield key, _checked(_member(archive, key, path), f"{path}[{key}]")


def _member(archive, key: str, path: str) -> np.ndarray:
    try:
        value = archive[key]
    except ValueError as exc:
        if "pickle" in str(exc):
            raise _pickled(path) from None
        raise InputError(f"cannot read {path}: {exc}") from None
    except Exception as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    if not isinstance(value, np.ndarray):  # numpy gives raw bytes for non-.npy members
        raise InputError(f"{path}: '{key}' is not a NumPy array")
    return value


def _checked(array: np.ndarray, where: str) -> np.ndarray:
    """The array as float64, if it holds real numbers (3+ axes: a tensor, SPEC §2b)."""
    if array.dtype.hasobject:
        raise _pickled(where)
    if array.dtype.kind not in "biuf":
        raise InputError(
            f"{where}: holds {array.dtype} data; matgrad loads real numeric arrays only"
        )
    return np.asarray(array, dtype=np.float64)


def _cell_number(cell: str) -> float | None:
    """The cell's value, or None; stricter than float(), which accepts '1_000'."""
    text = cell.strip()
    if "_" in text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _spaced_numbers(cell: str) -> bool:
    """A cell like '1 2 3': numbers separated by spaces instead of commas."""
    parts = cell.split()
    return len(parts) > 1 and all(_cell_number(part) is not None for part in parts)


def _read_csv(path: str) -> np.ndarray:
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = _csv_rows(path, handle)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise InputError(f"cannot read {path}: {reason}") from None
    if not rows:
        raise InputError(f"{path}: holds no numbers")
    matrix = np.array(rows, dtype=np.float64)
    if matrix.size == 1:
        return matrix.reshape(())
    if 1 in matrix.shape:
        return matrix.reshape(-1)
    return matrix


def _csv_rows(path: str, handle) -> list[list[float]]:
    reader = csv.reader(handle)
    rows: list[list[float]] = []
    first_line = 0
    seen_line = False
    for cells in reader:
        line = reader.line_num
        if all(not cell.strip() for cell in cells):
            continue
        values = [_cell_number(cell) for cell in cells]
        if not seen_line:
            seen_line = True
            # a header; but a space-separated data line must not pass for one
            if all(v is None for v in values) and not any(map(_spaced_numbers, cells)):
                continue
        for column, (cell, value) in enumerate(zip(cells, values), start=1):
            if value is None:
                hint = ""
                if _spaced_numbers(cell):
                    hint = " (values must be separated by commas)"
                shown = repr(cell.strip()) if cell.strip() else "an empty cell"
                raise InputError(
                    f"{path}, line {line}, column {column}: "
                    f"{shown} is not a number{hint}"
                )
        if rows and len(values) != len(rows[0]):
            raise InputError(
                f"{path}, line {line}: {len(values)} values, but line {first_line} "
                f"has {len(rows[0])}"
            )
        if not rows:
            first_line = line
        rows.append(values)
    return rows
