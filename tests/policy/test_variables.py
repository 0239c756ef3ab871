"""Policy variables (variables.py): parsing templates, resolving them, literal escapes.

Rules: IAM UG, "IAM policy elements: Variables and tags" — ``${key}`` is replaced with the
request value (Version 2012-10-17 only); ``${key, 'default'}`` supplies a default;
``${*}``, ``${?}`` and ``${$}`` stand for literal ``*``, ``?`` and ``$``; a variable
that cannot be resolved makes the element match nothing.
"""

from __future__ import annotations

import pytest

from crossdock.policy.variables import (
    Literal,
    Piece,
    Template,
    Variable,
    flatten,
    parse_template,
    resolve,
    to_chunks,
)


def pieces_of(text: str) -> tuple[Piece, ...]:
    """The template's pieces without empty glob text (which stands for nothing)."""
    return tuple(p for p in parse_template(text, variables_enabled=True).pieces if p != "")


def test_text_without_variables_is_one_glob_piece() -> None:
    assert parse_template("repo/*", variables_enabled=True) == Template("repo/*", ("repo/*",))
    assert parse_template("", variables_enabled=True) == Template("", ())


def test_variables_disabled_keep_the_text_literal() -> None:
    template = parse_template("home/${aws:username}/*", variables_enabled=False)
    assert template.pieces == ("home/${aws:username}/*",)
    assert not template.has_variables


def test_variable_reference_is_lower_cased() -> None:
    template = parse_template("home/${aws:UserName}/*", variables_enabled=True)
    assert template.source == "home/${aws:UserName}/*"
    assert pieces_of(template.source) == ("home/", Variable("aws:username", None), "/*")
    assert template.has_variables


@pytest.mark.parametrize(
    ("text", "pieces"),
    [
        ("${aws:username}", (Variable("aws:username", None),)),
        ("${ aws:username }", (Variable("aws:username", None),)),
        (
            "${aws:PrincipalTag/team, 'company-wide'}",
            (Variable("aws:principaltag/team", "company-wide"),),
        ),
        ("${k,''}", (Variable("k", ""),)),
        ("${k , 'a b'}x", (Variable("k", "a b"), "x")),
        ("a${*}b", ("a", Literal("*"), "b")),
        ("${?}", (Literal("?"),)),
        ("${$}", (Literal("$"),)),
        ("${a}${b}", (Variable("a", None), Variable("b", None))),
    ],
)
def test_references(text: str, pieces: tuple[Piece, ...]) -> None:
    assert pieces_of(text) == pieces


@pytest.mark.parametrize(
    "text",
    [
        "${}",  # empty
        "${a b}",  # whitespace inside the key
        "${a,b}",  # default without quotes
        "${a, 'b'c}",  # junk after the default
        "${a'}",  # quote in the key
    ],
)
def test_malformed_references_stay_literal_glob_text(text: str) -> None:
    template = parse_template(text, variables_enabled=True)
    assert flatten(template.pieces) == text
    assert not template.has_variables
    assert all(isinstance(piece, str) for piece in template.pieces)


def test_unclosed_reference_is_plain_text() -> None:
    template = parse_template("a${b", variables_enabled=True)
    assert template.pieces == ("a${b",)
    assert not template.has_variables


def test_text_after_last_reference_and_unclosed_tail() -> None:
    assert pieces_of("x${k}y${z") == ("x", Variable("k", None), "y${z")


def test_malformed_reference_followed_by_a_variable() -> None:
    assert pieces_of("${a b}/${k}") == ("${a b}/", Variable("k", None))


def test_resolve_substitutes_literal_values() -> None:
    template = parse_template("home/${aws:username}/*", variables_enabled=True)
    resolved = resolve(template, {"aws:username": "a*b"})
    assert resolved == ("home/", Literal("a*b"), "/*")
    assert resolved is not None
    assert flatten(resolved) == "home/a*b/*"
    # substituted values are never wildcards
    assert to_chunks(resolved) == [("home/", True), ("a*b", False), ("/*", True)]


def test_resolve_uses_the_default_when_the_key_is_missing() -> None:
    template = parse_template("${aws:PrincipalTag/team, 'all'}", variables_enabled=True)
    assert flatten(resolve(template, {}) or ("<unresolved>",)) == "all"
    resolved = resolve(template, {"aws:principaltag/team": "dev"})
    assert resolved is not None
    assert [p for p in resolved if p != ""] == [Literal("dev")]


def test_unresolved_variable_without_default_is_none() -> None:
    template = parse_template("${aws:username}", variables_enabled=True)
    assert resolve(template, {}) is None


def test_multivalued_key_cannot_be_substituted() -> None:
    template = parse_template("${aws:TagKeys}", variables_enabled=True)
    assert resolve(template, {"aws:tagkeys": ("a", "b")}) is None
    with_default = parse_template("${aws:TagKeys, 'd'}", variables_enabled=True)
    resolved = resolve(with_default, {"aws:tagkeys": ("a", "b")})
    assert resolved is not None
    assert [p for p in resolved if p != ""] == [Literal("d")]


def test_resolve_without_variables_returns_the_pieces() -> None:
    template = parse_template("a${*}", variables_enabled=True)
    assert resolve(template, {}) is template.pieces


def test_flatten_and_chunks_of_unresolved_variable_pieces() -> None:
    # A Variable piece only survives resolve() when left unresolved; it then stands for "".
    pieces = ("a", Variable("k", None), Literal("?"))
    assert flatten(pieces) == "a?"
    assert to_chunks(pieces) == [("a", True), ("", False), ("?", False)]


def test_any_other_text_in_braces_is_a_variable_name() -> None:
    assert pieces_of("${**}") == (Variable("**", None),)
