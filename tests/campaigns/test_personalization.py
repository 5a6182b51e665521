import pytest

from campaigns.personalization import choose_variant, render, template_problems
from leads.models import Lead


def lead(**fields):
    base = {
        "first_name": "Ann",
        "last_name": "Lee",
        "company": "Acme",
        "title": "CTO",
        "custom_fields": {"city": "Paris"},
    }
    return Lead(**{**base, **fields})


RENDERS = [
    ("Hi {first_name}", {}, "Hi Ann"),
    ("Hi {{first_name}}", {}, "Hi Ann"),
    ("Hi {firstName}", {}, "Hi Ann"),
    ("Hi {{firstName}}", {}, "Hi Ann"),
    ("Hi {{ first_name }}", {}, "Hi Ann"),
    ("{first_name} {last_name} / {lastName}", {}, "Ann Lee / Lee"),
    ("At {company} and {companyName}", {}, "At Acme and Acme"),
    ("As {title}", {}, "As CTO"),
    ("In {city}", {}, "In Paris"),
    ("In {City}", {}, "In Paris"),
    ("Hi {first_name|there}", {"first_name": ""}, "Hi there"),
    ("Hi {first_name|there}", {}, "Hi Ann"),
    ("Hi {{first_name|there}}", {"first_name": "  "}, "Hi there"),
    ("In {region|your region}", {}, "In your region"),
    ("No variables at all.", {}, "No variables at all."),
]


@pytest.mark.parametrize(("template", "fields", "expected"), RENDERS)
def test_renders(template, fields, expected):
    result = render(template, lead(**fields))
    assert result.ok, result.problems
    assert result.text == expected


PROBLEMS = [
    ("Hi {first_name}", {"first_name": ""}, "no value"),
    ("Hi {region}", {}, "no value"),
    ("Hi {first_name", {}, "unmatched"),
    ("Hi first_name}", {}, "unmatched"),
    ("Hi {}", {}, "not a variable"),
    ("Hi {{}}", {}, "not a variable"),
    ("Hi {first_name|}", {"first_name": ""}, "no value"),
    ("Hi {company}", {"company": "Ev{il}"}, "brace"),
]


@pytest.mark.parametrize(("template", "fields", "problem"), PROBLEMS)
def test_refuses_to_produce_a_broken_message(template, fields, problem):
    result = render(template, lead(**fields))
    assert not result.ok
    assert result.text == ""
    assert any(problem in p for p in result.problems)


def test_invitation_note_over_300_characters_after_rendering():
    template = "x" * 290 + " {company}"
    assert render(template, lead(company="Acme")).ok
    result = render(template, lead(company="A much longer company name"), invite_note=True)
    assert not result.ok and "300" in result.problems[0]


def test_unknown_variable_is_named_when_custom_fields_are_known():
    assert template_problems("Hi {nickname}", known_custom_fields={"city"}) == [
        "{nickname}: unknown variable 'nickname'."
    ]
    assert template_problems("Hi {city}", known_custom_fields={"city"}) == []


def test_variant_is_deterministic_and_split():
    picks = [choose_variant(lead_id=i, step_id=7, has_variant_b=True) for i in range(1000)]
    assert picks == [choose_variant(lead_id=i, step_id=7, has_variant_b=True) for i in range(1000)]
    assert 400 < picks.count("B") < 600
    assert choose_variant(lead_id=1, step_id=7, has_variant_b=False) == "A"
