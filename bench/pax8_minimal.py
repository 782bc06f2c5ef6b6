"""The yardstick for Pax8: the fewest lines that make the integrator's requests to the partner API.

    python bench/pax8_minimal.py URL CLIENT_ID CLIENT_SECRET IN_FLIGHT

POST /v1/token, GET /v1/companies?page=0&size=1 (the connection check), every page of
/v1/companies (size 200), then every page of /v1/subscriptions?companyId=... per company with
IN_FLIGHT requests on IN_FLIGHT keep-alive connections, each answer parsed as JSON; asyncio over
the standard library only. Prints one JSON line: requests made, subscriptions read, wall seconds.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from urllib.parse import urlencode, urlsplit


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.requests = 0

    async def call(self, method: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        payload = json.dumps(body).encode() if body is not None else b""
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        self.writer.write((f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                           f"Content-Type: application/json\r\nAccept: application/json\r\n{auth}"
                           f"Content-Length: {len(payload)}\r\n\r\n").encode() + payload)
        self.requests += 1
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        data = await self.reader.readexactly(length)
        if status != 200:
            raise RuntimeError(f"{method} {path}: HTTP {status}: {data[:200]!r}")
        return json.loads(data)

    async def all_pages(self, path: str, token: str, **params: str) -> list:
        items, page = [], 0
        while True:
            answer = await self.call("GET", f"/v1{path}?{urlencode({**params, 'page': page, 'size': 200})}",
                                     token=token)
            items += answer["content"]
            if not answer["content"] or answer["page"]["number"] + 1 >= answer["page"]["totalPages"]:
                return items
            page += 1

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def run(url: str, client_id: str, secret: str, in_flight: int) -> dict:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    first = Connection(host, port)
    token = (await first.call("POST", "/v1/token", {"client_id": client_id, "client_secret": secret,
                                                    "audience": "https://api.pax8.com",
                                                    "grant_type": "client_credentials"}))["access_token"]
    await first.call("GET", "/v1/companies?page=0&size=1", token=token)
    companies = await first.all_pages("/companies", token)
    queue: asyncio.Queue[str] = asyncio.Queue()
    for company in companies:
        queue.put_nowait(company["id"])
    subscriptions = 0

    async def worker(connection: Connection) -> None:
        nonlocal subscriptions
        while not queue.empty():
            listing = await connection.all_pages("/subscriptions", token, companyId=queue.get_nowait())
            subscriptions += len(listing)
        connection.close()

    connections = [first] + [Connection(host, port) for _ in range(in_flight - 1)]
    await asyncio.gather(*(worker(c) for c in connections))
    return {"requests": sum(c.requests for c in connections), "subscriptions": subscriptions}


def main() -> None:
    url, client_id, secret, in_flight = sys.argv[1:5]
    started = time.perf_counter()
    result = asyncio.run(run(url, client_id, secret, int(in_flight)))
    result["wall_s"] = round(time.perf_counter() - started, 3)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
