from __future__ import annotations

from csm import errors


def test_every_error_kind_has_a_distinct_json_code() -> None:
    codes = [e.kind.code for e in errors.ALL_ERRORS]
    assert len(codes) == len(set(codes))


def test_exit_codes_are_nonzero_and_usage_is_2() -> None:
    assert all(e.kind.exit_code > 0 for e in errors.ALL_ERRORS)
    assert errors.UsageError("x").exit_code == errors.EXIT_USAGE == 2


def test_every_error_class_is_listed_in_the_table() -> None:
    def subclasses(cls: type[errors.CsmError]) -> set[type[errors.CsmError]]:
        found = set(cls.__subclasses__())
        for sub in list(found):
            found |= subclasses(sub)
        return found

    assert subclasses(errors.CsmError) | {errors.CsmError} == set(errors.ALL_ERRORS)


def test_exit_code_table_starts_with_success() -> None:
    table = errors.exit_code_table()
    assert table[0] == (0, "-", "Success.")
    assert [row[0] for row in table] == sorted(row[0] for row in table)
