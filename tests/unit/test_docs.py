"""The policy reference is generated from the models and must be up to date."""

from __future__ import annotations

from conftest import ROOT
from slakeeper.policy.reference import documented_models, field_keys, render

REFERENCE = ROOT / "docs" / "policy-reference.md"


def test_policy_reference_matches_the_models() -> None:
    assert REFERENCE.read_text(encoding="utf-8") == render(), (
        "docs/policy-reference.md is stale: run "
        "`.venv/bin/python -m slakeeper.policy.reference > docs/policy-reference.md`"
    )


def test_every_field_of_every_model_is_documented_with_a_meaning() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    missing = []
    for model in documented_models():
        section = text.split(f"## {model.__name__}\n", 1)
        assert len(section) == 2, f"no section for {model.__name__}"
        body = section[1].split("\n## ", 1)[0]
        for key in field_keys(model):
            row = next(
                (line for line in body.splitlines() if line.startswith(f"| `{key}` |")), None
            )
            if row is None or row.rstrip().endswith("|  |"):
                missing.append(f"{model.__name__}.{key}")
    assert not missing, f"undocumented fields: {missing}"


def test_the_readme_quick_start_names_both_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run" in readme
    assert "make test" in readme
