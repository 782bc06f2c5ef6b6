"""Property-based tests: any input gives a value or a clear error, never a crash."""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.config.file import load_config
from core.errors import ConfigError
from core.host.plugins import get_plugin_manager
from core.types import VendorCustomer, VendorSubscription
from plugins.also import mapping

tricky = ["5", "5.0", "-1", "2020-01-10T06:31:58.46", "0001-01-01T00:00:00", "Terminated", "Active", "", " ", "1e309"]
scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30)
           | st.sampled_from(tricky))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)

SUBSCRIPTION_KEYS = ["AccountId", "AccountState", "Fields", "PriceableItems", "ServiceDisplayName", "ServiceName",
                     "ContractEndDate", "BillingStartDate", "ScheduledTerminationDate"]
COMPANY_KEYS = ["AccountId", "CompanyName", "AccountState", "Address", "City", "Zip", "Country",
                "CompanyContractEndDate", "Domain", "Email"]
fields = st.lists(st.fixed_dictionaries({"Name": st.sampled_from(["Quantity", "Domain"]), "Value": scalars}),
                  max_size=3)
priceable = st.lists(st.fixed_dictionaries({"FieldName": st.sampled_from(["Quantity", "Other"]),
                                            "SalesPrice": scalars, "PurchasePrice": scalars, "Currency": scalars}),
                     max_size=2)


def record(keys):
    value = json_values | fields | priceable
    return st.dictionaries(st.sampled_from(keys), value, max_size=len(keys)) | json_values


COUNT = {"records": 0, "configs": 0}


@settings(max_examples=400, deadline=None)
@given(record(SUBSCRIPTION_KEYS))
def test_any_subscription_record_maps_or_is_a_record_error(data):
    COUNT["records"] += 1
    try:
        sub = mapping.subscription_to_licence(data, "1")
    except mapping.RecordError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert isinstance(sub, VendorSubscription) and sub.external_id.isdigit() and sub.name
    assert sub.quantity is None or sub.quantity >= 0


@settings(max_examples=300, deadline=None)
@given(record(COMPANY_KEYS))
def test_any_company_record_maps_or_is_a_record_error(data):
    COUNT["records"] += 1
    try:
        customer = mapping.company_to_customer(data)
    except mapping.RecordError as exc:
        assert str(exc)
        return
    assert isinstance(customer, VendorCustomer) and customer.name


SETTING_KEYS = ["enabled", "url", "username", "password", "top_level_for_new_customers", "update_main_site_address",
                "customer_subscriptions_to_import", "set_price_and_cost", "deactivate_deleted_licences",
                "mass_deactivation_threshold", "max_concurrency", "integrator", "timeout_seconds", "typo"]
settings_blocks = st.dictionaries(st.sampled_from(SETTING_KEYS), json_values | st.just("https://cloud.also.com")
                                  | st.just({"enabled": True, "run_at": "02:00"}), max_size=10)
documents = st.fixed_dictionaries({}, optional={
    "database": json_values | st.just("sqlite:///x.db"),
    "integrations": st.dictionaries(st.sampled_from(["also", "westcoast_stub", "other"]), settings_blocks | json_values,
                                    max_size=2) | json_values,
    "stale_after_hours": json_values,
})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
@example({"integrations": {"\n": None}})  # found by hypothesis: a key with a line break broke the one-line message
def test_any_config_document_loads_or_is_a_one_line_config_error(document):
    COUNT["configs"] += 1
    pm = get_plugin_manager()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.yaml"
        path.write_text(yaml.safe_dump(document), encoding="utf-8")
        try:
            config = load_config(path, pm)
        except ConfigError as exc:
            message = str(exc)
            assert message.startswith(str(path)) and "\n" not in message
            return
    assert config.database_url


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_as_a_config_file_load_or_fail_cleanly(raw):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.yaml"
        path.write_bytes(raw)
        try:
            load_config(path, get_plugin_manager())
        except ConfigError as exc:
            assert "\n" not in str(exc)
