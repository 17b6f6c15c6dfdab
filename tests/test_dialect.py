"""The dialect layer: the features' SQL as PostgreSQL is given it."""

from __future__ import annotations

from bot.dialect import placeholders, returning_id, rowcount


def test_question_marks_become_numbered_parameters_in_order() -> None:
    assert placeholders("SELECT * FROM t WHERE a = ? AND b IN (?, ?)") == (
        "SELECT * FROM t WHERE a = $1 AND b IN ($2, $3)"
    )


def test_question_marks_in_literals_names_and_comments_stay() -> None:
    sql = "SELECT 'why?', \"odd?name\" FROM t -- really?\nWHERE a = ? AND b = 'it''s ?'"
    assert placeholders(sql) == (
        "SELECT 'why?', \"odd?name\" FROM t -- really?\nWHERE a = $1 AND b = 'it''s ?'"
    )


def test_a_statement_without_parameters_is_unchanged() -> None:
    assert placeholders("DELETE FROM t") == "DELETE FROM t"


def test_an_insert_returns_its_id_unless_it_already_returns_something() -> None:
    assert (
        returning_id("INSERT INTO t (a) VALUES (?);")
        == "INSERT INTO t (a) VALUES ($1) RETURNING id"
    )
    assert returning_id("INSERT INTO t (a) VALUES (?) RETURNING a") == (
        "INSERT INTO t (a) VALUES ($1) RETURNING a"
    )
    assert returning_id("INSERT INTO t (a) VALUES (?) ON CONFLICT DO NOTHING") == (
        "INSERT INTO t (a) VALUES ($1) ON CONFLICT DO NOTHING RETURNING id"
    )


def test_rows_changed_come_from_the_command_status() -> None:
    assert rowcount("UPDATE 3") == 3
    assert rowcount("INSERT 0 1") == 1
    assert rowcount("DELETE 0") == 0
    assert rowcount("CREATE TABLE") == 0
