"""The yardstick: the fewest lines that make the integrator's requests to the Simple API.

    python bench/minimal.py URL USERNAME PASSWORD IN_FLIGHT

Login, GetCompany, GetCompanies, then one GetSubscriptions per company with IN_FLIGHT requests on
IN_FLIGHT keep-alive connections, each answer parsed as JSON; asyncio over the standard library
only (plain http on loopback: it is a benchmark of the client, not a product). Prints one JSON line:
requests made, subscriptions read, wall seconds.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from urllib.parse import urlsplit

API = "/SimpleAPI/SimpleAPIService.svc/rest/"


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, operation: str, body: dict, token: str | None = None) -> object:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        payload = json.dumps(body).encode()
        auth = f"Authenticate: CCPSessionId {token}\r\n" if token else ""
        self.writer.write((f"POST {API}{operation} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                           f"Content-Type: application/json\r\nAccept: application/json\r\n{auth}"
                           f"Content-Length: {len(payload)}\r\n\r\n").encode() + payload)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        data = await self.reader.readexactly(length)
        if status != 200:
            raise RuntimeError(f"{operation}: HTTP {status}: {data[:200]!r}")
        return json.loads(data) if data.strip() else None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def run(url: str, username: str, password: str, in_flight: int) -> dict:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    first = Connection(host, port)
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

    async def worker(connection: Connection) -> None:
        nonlocal subscriptions
        while not queue.empty():
            account = queue.get_nowait()
            listing = await connection.post("GetSubscriptions", {"parentAccountId": account}, token)
            subscriptions += len(listing)
        connection.close()

    connections = [first] + [Connection(host, port) for _ in range(in_flight - 1)]
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
