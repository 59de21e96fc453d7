import os
import sys

import numpy as np
import pytest

from matgrad_cli.numeric.arrays import load_inputs, parse_input_option, save_outputs
from matgrad_cli.errors import InputError


def load_one(option):
    arrays, warnings = load_inputs([option])
    assert len(arrays) == 1
    return next(iter(arrays.items())), warnings


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


def error_of(options):
    with pytest.raises(InputError) as info:
        load_inputs(options)
    return info.value.message


# --- parse_input_option -------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("x=a.npy", ("x", "a.npy")),
    ("W1=data/w.csv", ("W1", "data/w.csv")),
    ("x_1=0.5", ("x_1", "0.5")),
    ("λ=2", ("λ", "2")),
    ("lambda=-1e-3", ("lambda", "-1e-3")),
    ("x=a=b.npy", ("x", "a=b.npy")),
    ("data.npz", (None, "data.npz")),
    ("dir/DATA.NPZ", (None, "dir/DATA.NPZ")),
    ("./run=3/data.npz", (None, "./run=3/data.npz")),
])
def test_parse_input_option_accepts(text, expected):
    assert parse_input_option(text) == expected


def test_parse_bare_name_is_rejected_with_exact_message():
    with pytest.raises(InputError) as info:
        parse_input_option("x")
    assert info.value.message == "input 'x' must be NAME=FILE or NAME=NUMBER"


def test_parse_bare_npy_hints_that_only_npz_may_be_bare():
    with pytest.raises(InputError) as info:
        parse_input_option("a.npy")
    assert info.value.message == (
        "input 'a.npy' must be NAME=FILE or NAME=NUMBER "
        "(only a .npz archive may be given without NAME=)"
    )


@pytest.mark.parametrize("text, message", [
    ("1x=a.npy", "input '1x=a.npy': '1x' is not a valid name "
                 "(a letter, then letters, digits or '_')"),
    ("_x=2", "input '_x=2': '_x' is not a valid name "
             "(a letter, then letters, digits or '_')"),
    ("x-y=2", "input 'x-y=2': 'x-y' is not a valid name "
              "(a letter, then letters, digits or '_')"),
    ("=a.npy", "input '=a.npy' needs a name before '='"),
    ("x=", "input 'x=' has no file or number after '='"),
])
def test_parse_rejects_bad_names_and_empty_parts(text, message):
    with pytest.raises(InputError) as info:
        parse_input_option(text)
    assert info.value.message == message


# --- number literals ----------------------------------------------------------------

@pytest.mark.parametrize("literal, value", [
    ("0.5", 0.5), ("-1e-3", -1e-3), (".5", 0.5), ("2", 2.0), ("2.5E+4", 25000.0),
    ("+3.", 3.0),
])
def test_number_literal_is_a_0d_float64(literal, value):
    (name, array), warnings = load_one(f"alpha={literal}")
    assert name == "alpha"
    assert array.shape == ()
    assert array.dtype == np.float64
    assert array == value
    assert warnings == []


def test_nan_is_not_a_number_literal():
    # the language has no NaN literal; a NaN input has to come from a file
    assert error_of(["x=nan"]) == (
        "cannot load 'nan': not a number (supported: .npy, .npz, .csv files, or a number)"
    )


def test_word_that_is_not_a_number_or_file_type_is_refused():
    assert error_of(["x=abc"]) == (
        "cannot load 'abc': not a number (supported: .npy, .npz, .csv files, or a number)"
    )


# --- .npy ---------------------------------------------------------------------------

def test_npy_matrix_is_loaded_as_float64(tmp_path):
    p = str(tmp_path / "a.npy")
    np.save(p, np.array([[1, 2], [3, 4]], dtype=np.int32))
    (name, array), _ = load_one(f"A={p}")
    assert name == "A"
    assert array.dtype == np.float64
    np.testing.assert_array_equal(array, [[1.0, 2.0], [3.0, 4.0]])


def test_npy_bool_is_converted_to_float(tmp_path):
    p = str(tmp_path / "m.npy")
    np.save(p, np.array([True, False, True]))
    (_, array), _ = load_one(f"m={p}")
    assert array.dtype == np.float64
    np.testing.assert_array_equal(array, [1.0, 0.0, 1.0])


def test_npy_keeps_column_shape(tmp_path):
    # (n, 1) arrays are the evaluator's business (SPEC section 3); they are not flattened
    p = str(tmp_path / "x.npy")
    np.save(p, np.ones((3, 1)))
    (_, array), _ = load_one(f"x={p}")
    assert array.shape == (3, 1)


def test_pickled_npy_is_refused_with_exact_message(tmp_path):
    p = str(tmp_path / "evil.npy")
    np.save(p, np.array([object()], dtype=object), allow_pickle=True)
    assert error_of([f"x={p}"]) == (
        f"{p}: contains pickled Python objects; matgrad loads plain numeric arrays only"
    )


def test_text_file_named_npy_is_not_blamed_on_pickles(tmp_path):
    p = write(tmp_path / "fake.npy", "1,2,3\n")
    assert error_of([f"x={p}"]) == f"{p}: not a NumPy .npy file"


def test_string_npy_is_refused(tmp_path):
    p = str(tmp_path / "s.npy")
    np.save(p, np.array(["a", "b"]))
    assert error_of([f"x={p}"]) == (
        f"{p}: holds <U1 data; matgrad loads real numeric arrays only"
    )


def test_complex_npy_is_refused(tmp_path):
    p = str(tmp_path / "c.npy")
    np.save(p, np.array([1 + 2j]))
    assert error_of([f"x={p}"]) == (
        f"{p}: holds complex128 data; matgrad loads real numeric arrays only"
    )


def test_three_axis_npy_loads_as_a_tensor(tmp_path):
    """An array with 3+ axes is a tensor (SPEC §2b)."""
    p = str(tmp_path / "t.npy")
    np.save(p, np.arange(24.0).reshape(2, 3, 4))
    assert load_inputs([f"T={p}"])[0]["T"].shape == (2, 3, 4)


def test_truncated_npy_is_a_read_error(tmp_path):
    p = str(tmp_path / "cut.npy")
    np.save(p, np.arange(100.0))
    with open(p, "r+b") as handle:
        handle.truncate(90)
    assert error_of([f"x={p}"]).startswith(f"cannot read {p}: ")


# --- .npz ---------------------------------------------------------------------------

def test_bare_npz_binds_every_array_by_key(tmp_path):
    p = str(tmp_path / "d.npz")
    np.savez(p, A=np.eye(2), x=np.array([1, 2]), beta=np.float32(3))
    arrays, warnings = load_inputs([p])
    assert sorted(arrays) == ["A", "beta", "x"]
    np.testing.assert_array_equal(arrays["A"], np.eye(2))
    assert arrays["x"].dtype == np.float64
    assert arrays["beta"].shape == () and arrays["beta"] == 3.0
    assert warnings == []


def test_named_npz_with_one_array_binds_it_to_the_name(tmp_path):
    p = str(tmp_path / "one.npz")
    np.savez(p, whatever=np.array([5.0, 6.0]))
    (name, array), warnings = load_one(f"y={p}")
    assert name == "y"
    np.testing.assert_array_equal(array, [5.0, 6.0])
    assert warnings == []


def test_named_npz_with_many_arrays_selects_the_matching_key(tmp_path):
    p = str(tmp_path / "d.npz")
    np.savez(p, A=np.eye(2), x=np.array([1.0, 2.0]))
    arrays, _ = load_inputs([f"x={p}"])
    assert list(arrays) == ["x"]
    np.testing.assert_array_equal(arrays["x"], [1.0, 2.0])


def test_named_npz_with_many_arrays_and_no_matching_key_is_an_error(tmp_path):
    p = str(tmp_path / "d.npz")
    np.savez(p, A=np.eye(2), x=np.array([1.0, 2.0]))
    assert error_of([f"B={p}"]) == (
        f"{p}: holds 2 arrays (A, x) and none is named B; "
        "give the file without 'B=' to load them all"
    )


def test_npz_key_that_is_not_a_name_is_skipped_with_a_warning(tmp_path):
    p = str(tmp_path / "d.npz")
    np.savez(p, **{"x": np.ones(2), "2bad": np.ones(2)})
    arrays, warnings = load_inputs([p])
    assert list(arrays) == ["x"]
    assert warnings == [f"{p}: array '2bad' skipped: not a valid name"]


def test_npz_with_a_pickled_member_is_refused(tmp_path):
    p = str(tmp_path / "evil.npz")
    np.savez(p, a=np.array([object()], dtype=object))
    assert error_of([p]) == (
        f"{p}: contains pickled Python objects; matgrad loads plain numeric arrays only"
    )


def test_npz_member_that_is_not_an_array_is_refused(tmp_path):
    import zipfile
    p = str(tmp_path / "z.npz")
    with zipfile.ZipFile(p, "w") as archive:
        archive.writestr("notes.txt", "hello")
    assert error_of([f"n={p}"]) == f"{p}: 'notes.txt' is not a NumPy array"


def test_empty_npz_is_an_error(tmp_path):
    p = str(tmp_path / "empty.npz")
    np.savez(p)
    assert error_of([p]) == f"{p}: the archive holds no arrays"


def test_npy_file_named_npz_is_refused(tmp_path):
    p = str(tmp_path / "wrong.npz")
    with open(p, "wb") as handle:
        np.save(handle, np.ones(2))
    assert error_of([p]) == f"{p}: not a NumPy .npz file"


# --- .csv ---------------------------------------------------------------------------

def test_csv_matrix(tmp_path):
    p = write(tmp_path / "A.csv", "1,2,3\n4,5,6\n")
    (_, array), _ = load_one(f"A={p}")
    assert array.dtype == np.float64
    np.testing.assert_array_equal(array, [[1, 2, 3], [4, 5, 6]])


def test_csv_whitespace_blank_lines_and_header(tmp_path):
    p = write(tmp_path / "A.csv", "a, b\n\n 1 , 2\n   \n3,\t4 \n\n")
    (_, array), _ = load_one(f"A={p}")
    np.testing.assert_array_equal(array, [[1, 2], [3, 4]])


def test_csv_header_only_before_a_single_row(tmp_path):
    p = write(tmp_path / "x.csv", "x1,x2,x3\n1,2,3\n")
    (_, array), _ = load_one(f"x={p}")
    assert array.shape == (3,)
    np.testing.assert_array_equal(array, [1, 2, 3])


def test_csv_single_row_is_a_vector(tmp_path):
    p = write(tmp_path / "x.csv", "1,2,3\n")
    (_, array), _ = load_one(f"x={p}")
    assert array.shape == (3,)
    np.testing.assert_array_equal(array, [1, 2, 3])


def test_csv_single_column_is_a_vector_not_n_by_1(tmp_path):
    p = write(tmp_path / "x.csv", "1\n2\n3\n")
    (_, array), _ = load_one(f"x={p}")
    assert array.shape == (3,)
    np.testing.assert_array_equal(array, [1, 2, 3])


def test_csv_single_value_is_a_scalar(tmp_path):
    p = write(tmp_path / "c.csv", "value\n 7.5 \n")
    (_, array), _ = load_one(f"c={p}")
    assert array.shape == ()
    assert array == 7.5


def test_csv_with_byte_order_mark(tmp_path):
    p = str(tmp_path / "x.csv")
    with open(p, "w", encoding="utf-8-sig") as handle:
        handle.write("1,2\n")
    (_, array), _ = load_one(f"x={p}")
    np.testing.assert_array_equal(array, [1, 2])


def test_csv_ragged_names_file_and_line(tmp_path):
    p = write(tmp_path / "r.csv", "1,2\n\n3,4\n5,6,7\n")
    assert error_of([f"R={p}"]) == f"{p}, line 4: 3 values, but line 1 has 2"


def test_csv_ragged_after_header_counts_from_first_data_line(tmp_path):
    p = write(tmp_path / "r.csv", "a,b\n1,2\n3\n")
    assert error_of([f"R={p}"]) == f"{p}, line 3: 1 values, but line 2 has 2"


def test_csv_non_numeric_cell_names_file_line_and_column(tmp_path):
    p = write(tmp_path / "bad.csv", "1,2,3\n4,five,6\n")
    assert error_of([f"A={p}"]) == f"{p}, line 2, column 2: 'five' is not a number"


def test_csv_mixed_first_line_is_not_a_header(tmp_path):
    p = write(tmp_path / "bad.csv", "1,x\n2,3\n")
    assert error_of([f"A={p}"]) == f"{p}, line 1, column 2: 'x' is not a number"


def test_csv_empty_cell_is_an_error(tmp_path):
    p = write(tmp_path / "bad.csv", "1,,3\n")
    assert error_of([f"x={p}"]) == f"{p}, line 1, column 2: an empty cell is not a number"


def test_csv_underscore_digits_are_not_numbers(tmp_path):
    # float() would take '1_000'; matgrad's numbers have no digit separators
    p = write(tmp_path / "bad.csv", "1,1_000\n")
    assert error_of([f"x={p}"]) == f"{p}, line 1, column 2: '1_000' is not a number"


def test_csv_space_separated_gets_a_hint(tmp_path):
    p = write(tmp_path / "sp.csv", "1 2 3\n")
    assert error_of([f"x={p}"]) == (
        f"{p}, line 1, column 1: '1 2 3' is not a number "
        "(values must be separated by commas)"
    )


def test_csv_space_separated_after_a_header_gets_a_hint(tmp_path):
    p = write(tmp_path / "sp.csv", "a b\n1 2\n")
    assert error_of([f"x={p}"]) == (
        f"{p}, line 2, column 1: '1 2' is not a number "
        "(values must be separated by commas)"
    )


def test_csv_with_only_a_header_is_an_error(tmp_path):
    p = write(tmp_path / "h.csv", "a,b\n\n")
    assert error_of([f"x={p}"]) == f"{p}: holds no numbers"


def test_csv_nan_is_loaded_with_a_warning(tmp_path):
    p = write(tmp_path / "n.csv", "1,nan,inf\n")
    arrays, warnings = load_inputs([f"x={p}"])
    assert np.isnan(arrays["x"][1]) and np.isinf(arrays["x"][2])
    assert warnings == ["input x contains NaN/Inf values"]


def test_csv_that_is_not_text_is_a_read_error(tmp_path):
    p = str(tmp_path / "bin.csv")
    with open(p, "wb") as handle:
        handle.write(b"\xff\xfe\x00\x81")
    assert error_of([f"x={p}"]).startswith(f"cannot read {p}: ")


# --- files, names, warnings ---------------------------------------------------------

@pytest.mark.parametrize("extension", ["npy", "npz", "csv"])
def test_missing_file(tmp_path, extension):
    p = str(tmp_path / f"missing.{extension}")
    assert error_of([f"x={p}"]) == f"cannot read {p}: No such file or directory"


def test_directory_is_unreadable(tmp_path):
    d = tmp_path / "dir.csv"
    d.mkdir()
    assert error_of([f"x={d}"]) == f"cannot read {d}: Is a directory"


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0,
                    reason="permissions are not enforced")
def test_unreadable_file(tmp_path):
    p = tmp_path / "locked.npy"
    np.save(p, np.ones(2))
    p.chmod(0)
    try:
        assert error_of([f"x={p}"]) == f"cannot read {p}: Permission denied"
    finally:
        p.chmod(0o600)


def test_unknown_extension_lists_supported_ones(tmp_path):
    p = write(tmp_path / "x.txt", "1\n")
    assert error_of([f"x={p}"]) == (
        f"cannot load '{p}': unknown file type '.txt' "
        "(supported: .npy, .npz, .csv files, or a number)"
    )


def test_extension_is_case_insensitive(tmp_path):
    p = write(tmp_path / "X.CSV", "1,2\n")
    (_, array), _ = load_one(f"x={p}")
    np.testing.assert_array_equal(array, [1, 2])


def test_duplicate_name_is_an_error():
    assert error_of(["x=1", "y=2", "x=3"]) == "input x is given twice (1 and 3)"


def test_duplicate_between_npz_key_and_named_input(tmp_path):
    p = str(tmp_path / "d.npz")
    np.savez(p, x=np.ones(2), A=np.eye(2))
    assert error_of(["x=2", p]) == f"input x is given twice (2 and {p})"


def test_nan_and_inf_warn_per_input(tmp_path):
    p = str(tmp_path / "a.npy")
    np.save(p, np.array([[1.0, np.inf], [0.0, 1.0]]))
    q = write(tmp_path / "c.csv", "nan\n")
    arrays, warnings = load_inputs([f"A={p}", "b=1", f"c={q}"])
    assert sorted(arrays) == ["A", "b", "c"]
    assert warnings == [
        "input A contains NaN/Inf values",
        "input c contains NaN/Inf values",
    ]


def test_inputs_keep_command_line_order(tmp_path):
    arrays, warnings = load_inputs(["b=1", "a=2", "c=3"])
    assert list(arrays) == ["b", "a", "c"]
    assert warnings == []


# --- save_outputs -------------------------------------------------------------------

def test_save_outputs_round_trip(tmp_path):
    p = str(tmp_path / "out.npz")
    value = np.array(2.5)
    grad = np.arange(6.0).reshape(2, 3)
    save_outputs(p, {"value": value, "grad_A": grad})
    with np.load(p, allow_pickle=False) as archive:
        assert sorted(archive.files) == ["grad_A", "value"]
        assert archive["value"].shape == () and archive["value"] == 2.5
        np.testing.assert_array_equal(archive["grad_A"], grad)


def test_save_outputs_upper_case_extension_is_not_doubled(tmp_path):
    p = tmp_path / "OUT.NPZ"
    save_outputs(str(p), {"value": np.array(1.0)})
    assert p.exists()
    assert not (tmp_path / "OUT.NPZ.npz").exists()


def test_save_outputs_needs_npz(tmp_path):
    p = str(tmp_path / "out.npy")
    with pytest.raises(InputError) as info:
        save_outputs(p, {"value": np.array(1.0)})
    assert info.value.message == f"output file '{p}' must end in .npz"
    assert not os.path.exists(p)


def test_save_outputs_unwritable_path(tmp_path):
    p = str(tmp_path / "no" / "such" / "dir" / "out.npz")
    with pytest.raises(InputError) as info:
        save_outputs(p, {"value": np.array(1.0)})
    assert info.value.message == f"cannot write {p}: No such file or directory"
