"""Customer import and mappings, on the sandbox over HTTP."""

from __future__ import annotations

from plugins.also.sandbox_data import RESELLER_ID, _company


def customers_by_name(cli):
    return {c["name"]: c for c in cli("customers", "list", "--json").json}


def mappings_by_id(cli):
    return {m["external_id"]: m for m in cli("mappings", "list", "also", "--json").json}


def test_import_creates_active_companies_under_the_top_level_with_their_main_site(cli, config):
    result = cli("import", "customers", "also")
    assert result.code == 0, result.err
    customers = customers_by_name(cli)
    assert len(customers) == 11  # 12 companies, one terminated
    muller = customers["Müller & Söhne GmbH"]
    assert muller["top_level"] == "ALSO Customers" and muller["active"] is True
    assert muller["main_site"] == {"address": "Königsallee 92", "city": "Düsseldorf", "postcode": "40212",
                                   "country": "Germany"}
    assert "Žilina Systems s.r.o." in customers
    mappings = mappings_by_id(cli)
    assert mappings["100012"] == {"vendor": "also", "external_id": "100012", "external_name": "Müller & Söhne GmbH",
                                  "customer": "Müller & Söhne GmbH", "source": "import"}
    assert "also customers (ok): 11 created" in result.out


def test_terminated_companies_are_not_created(cli, config):
    cli("import", "customers", "also")
    assert "Old Client Ltd" not in customers_by_name(cli)
    assert "100019" not in mappings_by_id(cli)


def test_a_company_with_an_empty_address_gets_an_empty_main_site(cli, config):
    cli("import", "customers", "also")
    northwind = customers_by_name(cli)["Northwind Traders"]
    assert northwind["main_site"] == {"address": None, "city": None, "postcode": None, "country": None}


def test_an_exact_name_is_mapped_never_duplicated(cli, config):
    cli("customers", "add", "Contoso Ltd", "--top-level", "Direct")
    cli("import", "customers", "also")
    customers = customers_by_name(cli)
    assert list(customers).count("Contoso Ltd") == 1
    assert customers["Contoso Ltd"]["top_level"] == "Direct"  # the existing customer, untouched
    assert mappings_by_id(cli)["100010"]["source"] == "auto"


def test_a_mapped_company_keeps_the_customers_name_and_address_unless_asked(cli, write_config, sandbox):
    write_config()
    cli("customers", "add", "Contoso (old name)")
    assert cli("mappings", "add", "also", "--external-id", "100010", "--customer", "Contoso (old name)").code == 0
    cli("import", "customers", "also")
    customers = customers_by_name(cli)
    assert "Contoso Ltd" not in customers
    assert customers["Contoso (old name)"]["main_site"] is None
    assert mappings_by_id(cli)["100010"]["source"] == "manual"

    write_config(update_main_site_address=True)
    result = cli("import", "customers", "also")
    assert "update    Contoso Ltd (100010) (customer 'Contoso (old name)'): address (none) -> '12 High Street'" \
        in result.out
    assert customers_by_name(cli)["Contoso (old name)"]["main_site"]["city"] == "London"


def test_the_address_follows_also_only_with_the_setting(cli, write_config, sandbox):
    write_config()
    cli("import", "customers", "also")
    sandbox.state.data.companies[1]["City"] = "München"
    cli("import", "customers", "also")
    assert customers_by_name(cli)["Fabrikam GmbH"]["main_site"]["city"] == "Berlin"
    write_config(update_main_site_address=True)
    cli("import", "customers", "also")
    assert customers_by_name(cli)["Fabrikam GmbH"]["main_site"]["city"] == "München"


def test_an_empty_address_upstream_never_wipes_the_psa_address(cli, write_config, sandbox):
    write_config(update_main_site_address=True)
    cli("import", "customers", "also")
    for key in ("Address", "City", "Zip", "Country"):
        sandbox.state.data.companies[1][key] = None
    cli("import", "customers", "also")
    assert customers_by_name(cli)["Fabrikam GmbH"]["main_site"]["city"] == "Berlin"


def test_two_companies_with_the_same_name_are_never_silently_merged(cli, config, sandbox):
    sandbox.state.data.companies.append(_company(100030, "Fabrikam GmbH", "Other 1", "Hamburg", "20095", "Germany"))
    result = cli("import", "customers", "also")
    assert result.code == 1  # partial: a person must map the twin by hand
    assert "Fabrikam GmbH (100030): another company, Fabrikam GmbH (100011), has the same name" in result.err
    mappings = mappings_by_id(cli)
    assert "100011" in mappings and "100030" not in mappings
    assert list(customers_by_name(cli)).count("Fabrikam GmbH") == 1
    assert cli("history", "--json").json[0]["status"] == "partial"


def test_an_import_run_twice_changes_nothing(cli, config, db):
    cli("import", "customers", "also")
    before = db.dump(exclude=("sync_runs",))
    result = cli("import", "customers", "also")
    assert "0 created, 0 updated, 0 deactivated, 11 unchanged, 1 skipped" in result.out
    assert db.dump(exclude=("sync_runs",)) == before


def test_dry_run_prints_the_plan_and_leaves_the_database_byte_for_byte_unchanged(cli, config, db):
    cli("customers", "add", "Contoso Ltd")
    before_bytes, before_dump = db.file_bytes(), db.dump()
    result = cli("import", "customers", "also", "--dry-run")
    assert result.code == 0
    assert "map       Contoso Ltd (100010) -> customer 'Contoso Ltd'" in result.out
    assert "create    Café Lumière SARL (100013): new customer under 'ALSO Customers'" in result.out
    assert "skip      Old Client Ltd (100019): terminated: not created" in result.out
    assert "dry run, nothing written" in result.out
    assert db.dump() == before_dump
    assert db.file_bytes() == before_bytes  # SQLite: the very file; a server database: the dump above


def test_import_records_a_sync_run(cli, config):
    cli("import", "customers", "also")
    run = cli("history", "--json").json[0]
    assert (run["vendor"], run["entity"], run["status"], run["created"], run["updated"]) == (
        "also", "customers", "ok", 11, 0)
    assert run["finished_at"] is not None and run["errors"] == []


def test_a_failed_listing_records_a_failed_run_and_changes_nothing(cli, config, sandbox, tmp_path):
    cli("customers", "add", "Contoso Ltd")
    sandbox.inject(operation="GetCompanies", status=500, times=-1, message="Backend down")
    result = cli("import", "customers", "also")
    assert result.code == 1 and "GetCompanies failed: Backend down" in result.err
    assert list(customers_by_name(cli)) == ["Contoso Ltd"]
    assert cli("history", "--json").json[0]["status"] == "failed"


def test_generate_maps_exact_names_only_and_reports_the_rest(cli, config):
    cli("customers", "add", "Contoso Ltd")
    cli("customers", "add", "Fabrikam")  # not exact
    result = cli("mappings", "generate", "also")
    assert result.code == 0
    assert "mapped    Contoso Ltd (100010) -> 'Contoso Ltd'" in result.out
    assert "unmapped  Fabrikam GmbH (100011): no customer is named exactly 'Fabrikam GmbH'" in result.out
    assert set(mappings_by_id(cli)) == {"100010"}
    assert len(customers_by_name(cli)) == 2  # generate never creates customers
    assert result.out.splitlines()[-1] == "1 mapped, 11 left unmapped"


def test_generate_twice_maps_nothing_new(cli, config):
    cli("customers", "add", "Contoso Ltd")
    cli("mappings", "generate", "also")
    assert cli("mappings", "generate", "also").out.splitlines()[-1].startswith("0 mapped")


def test_manual_mapping_errors_are_clear(cli, config):
    cli("customers", "add", "Contoso Ltd")
    result = cli("mappings", "add", "also", "--external-id", "100010", "--customer", "Nobody")
    assert result.code == 2 and "no customer is named 'Nobody'" in result.err
    assert cli("mappings", "add", "also", "--external-id", "100010", "--customer", "Contoso Ltd").code == 0
    result = cli("mappings", "add", "also", "--external-id", "100010", "--customer", "Contoso Ltd")
    assert result.code == 2 and "already mapped to 'Contoso Ltd'" in result.err
    result = cli("mappings", "remove", "also", "--external-id", "999")
    assert result.code == 2 and "no mapping for also company 999" in result.err
    assert cli("mappings", "remove", "also", "--external-id", "100010").code == 0
    assert cli("mappings", "list", "also", "--json").json == []


def test_suggest_ranks_normalised_names_and_email_domains_without_mapping(cli, config):
    cli("customers", "add", "MULLER & SOHNE")
    cli("customers", "add", "Contoso Group")
    cli("customers", "add", "Tailspin Toys")
    suggestions = {s["external_id"]: s for s in cli("mappings", "suggest", "also", "--json").json}
    assert suggestions["100012"]["candidates"][0]["customer"] == "MULLER & SOHNE"
    assert suggestions["100012"]["candidates"][0]["score"] == 95
    assert suggestions["100010"]["candidates"][0] == {"customer": "Contoso Group", "score": 80,
                                                      "why": "e-mail domain matches the name"}
    assert suggestions["100015"]["candidates"][0]["customer"] == "Tailspin Toys"
    assert cli("mappings", "list", "also", "--json").json == []
    text = cli("mappings", "suggest", "also").out
    assert "integrator mappings add also --external-id 100012 --customer 'MULLER & SOHNE'" in text


def test_the_reseller_itself_is_not_a_customer(cli, config):
    cli("import", "customers", "also")
    assert all(m["external_id"] != str(RESELLER_ID) for m in cli("mappings", "list", "also", "--json").json)


def test_a_customer_created_meanwhile_by_another_process_is_mapped_not_duplicated(cli, config, monkeypatch):
    from core.db import store

    cli("customers", "add", "Contoso Ltd")
    real, reads = store.customer_rows, []

    def stale_first_read(session):
        reads.append(1)
        rows = real(session)
        # The first read misses the customer, as if another process committed it just after.
        return [r for r in rows if r.name != "Contoso Ltd"] if len(reads) == 1 else rows

    monkeypatch.setattr(store, "customer_rows", stale_first_read)
    result = cli("import", "customers", "also")
    assert result.code == 0, result.err
    assert len(reads) == 2
    assert mappings_by_id(cli)["100010"]["source"] == "auto"
    assert list(customers_by_name(cli)).count("Contoso Ltd") == 1


def test_a_name_longer_than_the_psa_keeps_is_reported_and_the_rest_imported(cli, config, sandbox):
    sandbox.state.data.companies.append(_company(100031, "X" * 300, "1 Long Road " * 60, "Leeds", "LS1", "UK"))
    result = cli("import", "customers", "also")
    assert result.code == 1
    assert f"{'X' * 300} (100031): name or id longer than the PSA keeps (255 characters)" in result.err
    assert len(customers_by_name(cli)) == 11


def test_a_company_listed_twice_by_the_vendor_touches_neither_copy(cli, write_config, sandbox):
    write_config(update_main_site_address=True)
    cli("import", "customers", "also")
    impostor = dict(next(c for c in sandbox.state.data.companies if c["AccountId"] == 100010))
    impostor.update({"CompanyName": "Contoso Impostor", "Address": "1 Wrong Road", "City": "Nowhere"})
    sandbox.state.data.companies.insert(0, impostor)
    result = cli("import", "customers", "also")
    assert result.code == 1
    assert ("(100010): the vendor lists this account id 2 times ('Contoso Impostor', 'Contoso Ltd'); "
            "none of them is imported until it lists one") in result.err
    contoso = customers_by_name(cli)["Contoso Ltd"]
    assert contoso["main_site"]["address"] == "12 High Street"
    assert "Contoso Impostor" not in customers_by_name(cli)
    assert cli("history", "--json").json[0]["status"] == "partial"
    subs = cli("import", "subscriptions", "also")
    assert subs.code == 1 and "Contoso" in subs.err


def test_one_customer_whatever_the_unicode_spelling_or_spaces(cli, config, sandbox):
    import unicodedata

    decomposed = unicodedata.normalize("NFD", "Müller & Söhne GmbH")
    assert decomposed != "Müller & Söhne GmbH"
    assert cli("customers", "add", decomposed).code == 0
    assert cli("customers", "add", "Müller & Söhne GmbH").code != 0  # already exists
    next(c for c in sandbox.state.data.companies if c["AccountId"] == 100012)["CompanyName"] = decomposed
    assert cli("import", "customers", "also").code == 0
    names = [c["name"] for c in cli("customers", "list", "--json").json]
    assert names.count("Müller & Söhne GmbH") == 1 and decomposed not in names
    assert mappings_by_id(cli)["100012"]["source"] == "auto"

    assert cli("customers", "add", "  Spaced Ltd  ").code == 0
    assert "Spaced Ltd" in customers_by_name(cli)
    assert cli("mappings", "add", "also", "--external-id", "100019", "--customer", "  Spaced Ltd  ").code == 0
    assert cli("licences", "list", "--customer", "  Spaced Ltd  ").code == 0


def test_a_control_character_in_a_name_is_refused(cli, config, sandbox):
    result = cli("customers", "add", "Two\nLines Ltd")
    assert result.code != 0 and "control character (U+000A)" in result.err
    next(c for c in sandbox.state.data.companies if c["AccountId"] == 100011)["CompanyName"] = "Fabrikam\tGmbH"
    result = cli("import", "customers", "also")
    assert result.code == 1 and "(100011): the name contains a control character (U+0009)" in result.err
    assert not [c for c in customers_by_name(cli) if "Fabrikam" in c]
