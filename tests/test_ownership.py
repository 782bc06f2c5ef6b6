"""Moves and licences listed twice: decided across the whole run, never by how it was batched."""

from __future__ import annotations

import copy

import pytest

from core import sync
from core.reconcile.ownership import Claim, RunOwnership

# -- the pure rules --------------------------------------------------------------------------------


def test_a_move_waits_for_the_holders_listing_and_happens_when_it_lacks_the_licence():
    run = RunOwnership(["A", "B"])
    assert run.claim("x", holder="A", lister="B", payload="b-sub") is Claim.WAIT
    settled = run.listed("A", held=["x", "y"], listed={"y"})
    assert [w.payload for w in settled.moves] == ["b-sub"] and not settled.kept
    assert run.deletion_candidates() == {}


def test_listed_by_its_holder_too_it_stays_whichever_listing_came_first():
    first = RunOwnership(["A", "B"])
    first.listed("A", held=["x"], listed={"x"})
    assert first.claim("x", holder="A", lister="B") is Claim.HELD_BY_HOLDER

    later = RunOwnership(["A", "B"])
    assert later.claim("x", holder="A", lister="B", payload=1) is Claim.WAIT
    settled = later.listed("A", held=["x"], listed={"x"})
    assert [w.payload for w in settled.kept] == [1] and not settled.moves


def test_a_holder_that_lacks_it_first_gives_it_up_to_a_later_lister_and_nothing_is_deleted():
    run = RunOwnership(["A", "B"])
    run.listed("A", held=["x", "z"], listed=set())
    assert run.deletion_candidates() == {"A": {"x", "z"}}
    assert run.claim("x", holder="A", lister="B") is Claim.MOVE
    assert run.deletion_candidates() == {"A": {"z"}}


def test_a_failed_holder_keeps_its_licences():
    run = RunOwnership(["A", "B"])
    assert run.claim("x", holder="A", lister="B", payload=1) is Claim.WAIT
    assert [w.payload for w in run.failed("A")] == [1]
    assert run.claim("y", holder="A", lister="B") is Claim.HOLDER_FAILED
    assert run.any_failed()


def test_a_holder_outside_the_run_does_not_hold_a_move_back():
    assert RunOwnership(["B"]).claim("x", holder="A", lister="B") is Claim.MOVE


# -- through a real sync, at every batch size --------------------------------------------------------


def licences(cli):
    return {lic["external_id"]: lic for lic in cli("licences", "list", "--json").json}


def history(cli):
    return sorted((h["external_id"], h["field"], h["old"], h["new"]) for h in cli("licences", "history", "--json").json)


def subs_of(sandbox, company_id):
    return sandbox.state.data.subscriptions[company_id]


def take(sandbox, company_id, sub_id):
    record = next(s for s in subs_of(sandbox, company_id) if s["AccountId"] == sub_id)
    subs_of(sandbox, company_id).remove(record)
    return record


@pytest.fixture
def batched(cli, config, monkeypatch):
    """Import customers and subscriptions, then return a function that re-imports with a given batch size."""
    assert cli("import", "customers", "also").code == 0
    assert cli("import", "subscriptions", "also").code == 0

    def run(batch_size):
        monkeypatch.setattr(sync, "BATCH_CUSTOMERS", batch_size)
        monkeypatch.setattr(sync, "BATCH_SECONDS", 3600.0)
        return cli("import", "subscriptions", "also")

    return run


@pytest.mark.parametrize("batch_size", [1, 200])
def test_a_licence_moving_to_a_later_company_is_never_zeroed_on_the_way(batched, cli, sandbox, batch_size):
    # Contoso (100010) is listed before Litware (100018): the move's source comes first.
    record = take(sandbox, 100010, 200100)
    record.update({"ParentAccountId": 100018, "CompanyAccountId": 100018})
    subs_of(sandbox, 100018).append(record)
    before = history(cli)
    result = batched(batch_size)
    assert result.code == 0, result.err
    lic = licences(cli)["200100"]
    assert (lic["customer"], lic["quantity"], lic["active"]) == ("Litware BV", 5, True)
    assert sorted(set(history(cli)) - set(before)) == [("200100", "customer", "Contoso Ltd", "Litware BV")]


@pytest.mark.parametrize("holder,other", [(100010, 100018), (100018, 100010)])
@pytest.mark.parametrize("batch_size", [1, 200])
def test_a_licence_listed_under_two_companies_stays_with_its_holder(batched, cli, sandbox, batch_size, holder,
                                                                    other):
    sub_id = {100010: 200100, 100018: 200180}[holder]
    twin = copy.deepcopy(next(s for s in subs_of(sandbox, holder) if s["AccountId"] == sub_id))
    twin.update({"ParentAccountId": other, "CompanyAccountId": other})
    twin["Fields"][1]["Value"] = "999"
    subs_of(sandbox, other).append(twin)
    before = licences(cli)[str(sub_id)]
    history_before = history(cli)

    result = batched(batch_size)
    assert result.code == 1  # partial: a person must look at it
    names = {100010: "Contoso Ltd (100010)", 100018: "Litware BV (100018)"}
    assert f"{names[other]}: {twin['ServiceDisplayName']} ({sub_id}): also listed under {names[holder]}, " \
           "which keeps it" in result.err
    assert licences(cli)[str(sub_id)] == before
    assert history(cli) == history_before
    assert cli("history", "--json").json[0]["status"] == "partial"
    # and the next run does not move it back and forth
    assert batched(batch_size).code == 1 and licences(cli)[str(sub_id)] == before


def test_the_same_changes_write_the_same_history_at_batch_size_1_and_200(cli, write_config, sandbox, monkeypatch,
                                                                         tmp_path):
    import yaml

    pristine = copy.deepcopy(sandbox.state.data.subscriptions)
    outcomes = []
    for size in (1, 200):
        sandbox.state.data.subscriptions.clear()
        sandbox.state.data.subscriptions.update(copy.deepcopy(pristine))
        path = write_config(deactivate_deleted_licences=True)
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["database"] = f"sqlite:///{tmp_path / f'batch{size}.db'}"
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        monkeypatch.setattr(sync, "BATCH_CUSTOMERS", size)
        monkeypatch.setattr(sync, "BATCH_SECONDS", 3600.0)
        assert cli("import", "customers", "also").code == 0
        assert cli("import", "subscriptions", "also").code == 0
        moved = take(sandbox, 100010, 200100)  # moves to a later company
        moved.update({"ParentAccountId": 100018, "CompanyAccountId": 100018})
        subs_of(sandbox, 100018).append(moved)
        back = take(sandbox, 100018, 200180)  # moves to an earlier company
        back.update({"ParentAccountId": 100010, "CompanyAccountId": 100010})
        subs_of(sandbox, 100010).append(back)
        twin = copy.deepcopy(subs_of(sandbox, 100016)[0])  # listed twice
        twin.update({"ParentAccountId": 100011, "CompanyAccountId": 100011})
        subs_of(sandbox, 100011).append(twin)
        take(sandbox, 100011, 200110)  # deleted
        result = cli("import", "subscriptions", "also")
        assert result.code == 1
        outcomes.append((history(cli), sorted((k, v["customer"], v["quantity"], v["active"])
                                              for k, v in licences(cli).items())))
    assert outcomes[0] == outcomes[1]
    changes = outcomes[0][0]
    assert ("200100", "customer", "Contoso Ltd", "Litware BV") in changes
    assert ("200180", "customer", "Litware BV", "Contoso Ltd") in changes
    assert ("200110", "active", "true", "false") in changes
    assert not [c for c in changes if c[0] in ("200100", "200180") and c[1] in ("active", "quantity")]


@pytest.mark.parametrize("batch_size", [1, 200])
def test_a_licence_deleted_upstream_is_decided_after_every_listing(batched, cli, write_config, sandbox, batch_size):
    write_config(deactivate_deleted_licences=True)
    take(sandbox, 100010, 200101)
    result = batched(batch_size)
    assert result.code == 0
    assert licences(cli)["200101"]["active"] is False


def test_deletions_wait_when_a_listing_failed(batched, cli, write_config, sandbox):
    write_config(deactivate_deleted_licences=True)
    take(sandbox, 100010, 200101)
    sandbox.inject(operation="GetSubscriptions", account_id=100018, status=500, times=-1, message="down")
    result = batched(200)
    assert result.code == 1
    assert "1 licence(s) missing from their company's listing were left as they were: a listing failed" in result.err
    assert licences(cli)["200101"]["active"] is True
    sandbox.state.faults.clear()
    assert batched(200).code == 0
    assert licences(cli)["200101"]["active"] is False
