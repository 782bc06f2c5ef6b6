"""The yardstick: the fewest lines that make the integrator's requests to the Simple API.

    python bench/minimal.py URL USERNAME PASSWORD IN_FLIGHT

Login, GetCompany, GetCompanies, then one GetSubscriptions per company with IN_FLIGHT requests on
IN_FLIGHT keep-alive connections, each answer parsed with ``json.loads``; asyncio protocols over the
standard library only (no streams: a protocol per connection is the cheapest asyncio gives), plain
http on loopback: it is a benchmark of the client, not a product. Prints one JSON line:
requests made, subscriptions read, wall seconds.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from urllib.parse import urlsplit

API = b"/SimpleAPI/SimpleAPIService.svc/rest/"


class Connection(asyncio.Protocol):
    """One keep-alive connection; one request at a time on it, its answer a future."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.need = -1  # the whole answer's length once its head is read

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.need < 0:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            at = self.buffer.find(b"Content-Length:", 0, end)
            if at < 0:
                at = self.buffer.lower().find(b"content-length:", 0, end)
            length = int(self.buffer[at + 15:self.buffer.find(b"\r\n", at)])
            self.need = end + 4 + length
            self.head = end + 4
        if len(self.buffer) >= self.need:
            status = int(self.buffer[9:12])
            body = bytes(self.buffer[self.head:self.need])
            del self.buffer[:self.need]
            self.need = -1
            assert self.waiter is not None
            self.waiter.set_result((status, body))

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc or ConnectionError("closed"))


class Client:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.connection: Connection | None = None
        self.prefix = (f"Host: {host}:{port}\r\nContent-Type: application/json\r\n"
                       "Accept: application/json\r\n").encode()

    async def post(self, operation: str, body: dict, token: str | None = None) -> object:
        if self.connection is None:
            _, self.connection = await asyncio.get_running_loop().create_connection(
                Connection, self.host, self.port)
        connection = self.connection
        payload = json.dumps(body).encode()
        auth = f"Authenticate: CCPSessionId {token}\r\n".encode() if token else b""
        connection.waiter = asyncio.get_running_loop().create_future()
        assert connection.transport is not None
        connection.transport.write(b"POST " + API + operation.encode() + b" HTTP/1.1\r\n" + self.prefix + auth
                                   + b"Content-Length: " + str(len(payload)).encode() + b"\r\n\r\n" + payload)
        status, data = await connection.waiter
        if status != 200:
            raise RuntimeError(f"{operation}: HTTP {status}: {data[:200]!r}")
        return json.loads(data) if data.strip() else None

    def close(self) -> None:
        if self.connection is not None and self.connection.transport is not None:
            self.connection.transport.close()


async def run(url: str, username: str, password: str, in_flight: int) -> dict:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    first = Client(host, port)
    token = await first.post("GetSessionToken", {"username": username, "password": password})
    assert isinstance(token, str)
    reseller = await first.post("GetCompany", {}, token)
    if isinstance(reseller, list):
        reseller = reseller[0]
    companies = await first.post("GetCompanies", {"parentAccountId": reseller["AccountId"]}, token)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for company in companies:
        queue.put_nowait(company["AccountId"])
    subscriptions = 0

    async def worker(connection: Client) -> None:
        nonlocal subscriptions
        while not queue.empty():
            account = queue.get_nowait()
            listing = await connection.post("GetSubscriptions", {"parentAccountId": account}, token)
            subscriptions += len(listing)
        connection.close()

    connections = [first] + [Client(host, port) for _ in range(in_flight - 1)]
    await asyncio.gather(*(worker(c) for c in connections))
    return {"requests": 3 + len(companies), "subscriptions": subscriptions}


def main() -> None:
    url, username, password, in_flight = sys.argv[1:5]
    started = time.perf_counter()
    result = asyncio.run(run(url, username, password, int(in_flight)))
    result["wall_s"] = round(time.perf_counter() - started, 3)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
