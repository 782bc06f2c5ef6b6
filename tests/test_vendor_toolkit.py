"""core.vendor, the toolkit for plugin authors: value parsers, record mapping, the HTTP client base."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core.errors import AuthenticationError, VendorFaultError, VendorProtocolError, VendorUnreachableError
from core.vendor import (
    HttpClient,
    RecordError,
    map_records,
    mask_url,
    parse_date,
    parse_id,
    parse_money,
    parse_quantity,
)


@pytest.mark.parametrize(("value", "expected"), [
    ("2020-01-10", date(2020, 1, 10)), ("2020-01-10T00:00:00.1234567", date(2020, 1, 10)),
    ("2020-01-10T23:00:00Z", date(2020, 1, 10)), (date(2020, 1, 10), date(2020, 1, 10)),
    ("0001-01-01T00:00:00", None), (None, None), ("", None)])
def test_dates(value, expected):
    assert parse_date(value, "start") == expected


@pytest.mark.parametrize("value", ["10/01/2020", "2020-02-30", 20200110, "soon"])
def test_a_bad_date_names_the_field(value):
    with pytest.raises(RecordError, match="^start is not a"):
        parse_date(value, "start")


@pytest.mark.parametrize(("value", "expected"), [
    ("3.10", Decimal("3.10")), (3.1, Decimal("3.1")), (5, Decimal(5)), (Decimal("1.005"), Decimal("1.005")),
    (None, None), ("  ", None)])
def test_money_is_decimal_and_floats_keep_their_shortest_form(value, expected):
    assert parse_money(value, "price") == expected


@pytest.mark.parametrize("value", [True, "NaN", "Infinity", "3,10", [1], {"a": 1}])
def test_bad_money_is_refused(value):
    with pytest.raises(RecordError, match="^price is not a number"):
        parse_money(value, "price")


@pytest.mark.parametrize(("value", "expected"), [("5", 5), (5, 5), (5.0, 5), (" 7 ", 7), (None, None), ("", None)])
def test_quantities(value, expected):
    assert parse_quantity(value, "seats") == expected


@pytest.mark.parametrize("value", ["lots", 2.5, -1, True, "1e400000"])
def test_bad_quantities_are_refused(value):
    with pytest.raises(RecordError, match="^seats is not a"):
        parse_quantity(value, "seats")


def test_ids_are_strings():
    assert parse_id(100010) == "100010" and parse_id(" A-1 ") == "A-1"
    for bad in (None, True, "", 1.5):
        with pytest.raises(RecordError):
            parse_id(bad)


def test_map_records_turns_each_unreadable_record_into_a_problem_and_keeps_the_rest():
    def convert(record):
        return (record["id"], parse_quantity(record.get("seats"), "seats"))

    listing = map_records([{"id": "1", "seats": 2}, {"id": "2", "name": "Bad", "seats": "x"}, {"name": "No id"},
                           "junk"], convert)
    assert listing.items == [("1", 2)]
    assert [p.describe() for p in listing.problems] == [
        "Bad (2): seats is not a number: 'x'", "No id: id is missing", "record: TypeError: string indices must be "
        "integers, not 'str'"]


def test_mask_url_drops_userinfo_and_query():
    assert mask_url("https://user:secret@api.example:8443/v1/x?token=abc#f") == "https://api.example:8443/v1/x"


class Vendor(BaseHTTPRequestHandler):
    answers: list[tuple[int, str]] = []
    seen: list[str] = []

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self) -> None:
        type(self).seen.append(f"{self.command} {self.path} {self.headers.get('Authorization')}")
        status, body = type(self).answers.pop(0) if type(self).answers else (200, "{}")
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if body.startswith(("{", "[")) else "text/html")
        self.send_header("Content-Length", str(len(data)))
        if status == 503:
            self.send_header("Retry-After", "0")
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer


@pytest.fixture
def vendor_server() -> Iterator[str]:
    Vendor.answers, Vendor.seen = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Vendor)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class AcmeClient(HttpClient):
    vendor = "Acme"

    def __init__(self, url: str, token: str, **kwargs) -> None:
        super().__init__(url, backoff=0.0, **kwargs)
        self.session.headers["Authorization"] = f"Bearer {token}"


def test_a_get_is_retried_on_503_and_answers_json(vendor_server):
    Vendor.answers = [(503, "busy"), (200, '[{"id": 1}]')]
    client = AcmeClient(vendor_server, "tok-123", retries=2)
    assert client.get_json("customers") == [{"id": 1}]
    assert Vendor.seen == ["GET /customers Bearer tok-123"] * 2
    assert "tok-123" not in repr(client)


def test_http_faults_are_typed_errors_without_secrets(vendor_server):
    client = AcmeClient(vendor_server.replace("http://", "http://user:pw-secret@"), "tok-123", retries=0)
    Vendor.answers = [(401, "{}")]
    with pytest.raises(AuthenticationError, match="Acme refused the credentials"):
        client.get_json("me")
    Vendor.answers = [(500, "{}")]
    with pytest.raises(VendorFaultError, match="Acme answered 500 to GET http://127.0.0.1:\\d+/me$"):
        client.get_json("me")
    Vendor.answers = [(200, "<html>login</html>")]
    with pytest.raises(VendorProtocolError, match="not JSON \\(text/html\\)") as info:
        client.get_json("me")
    assert "pw-secret" not in str(info.value)


def test_an_unreachable_vendor_is_a_typed_error_naming_the_host_but_not_the_password():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = AcmeClient(f"http://user:pw-secret@127.0.0.1:{port}", "tok", retries=0, timeout=2)
    with pytest.raises(VendorUnreachableError) as info:
        client.get_json("customers")
    assert f"cannot reach Acme at http://127.0.0.1:{port}/customers" in str(info.value)
    assert "pw-secret" not in str(info.value)


def test_a_post_body_is_sent_as_json(vendor_server):
    Vendor.answers = [(200, json.dumps({"token": "t"}))]
    assert AcmeClient(vendor_server, "x").post_json("auth", {"user": "u"}) == {"token": "t"}
