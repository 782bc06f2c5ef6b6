"""`integrator demo --billing` prints exactly the README's worked example (a month on a controlled clock:
day 1 import, day 11 a quantity up, day 21 a licence cancelled; charges in arrears and in advance)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).parent.parent / "README.md"


def readme_example() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"```\n\$ integrator demo --billing\n(.*?)```", text, re.S)
    assert match, "the README has no `integrator demo --billing` example"
    return match.group(1)


def test_demo_billing_prints_the_readme_example(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("demo", "--billing")
    assert result.code == 0, result.err
    assert result.out == readme_example()
    assert (tmp_path / "integrator-demo" / "billing-demo.db").exists()
    again = cli("demo", "--billing")  # the story starts from nothing every time
    assert again.code == 0 and again.out == result.out


def test_demo_billing_refuses_json(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("demo", "--billing", "--json")
    assert result.code == 2 and "--billing prints text only" in result.err
