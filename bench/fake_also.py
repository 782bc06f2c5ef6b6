"""A fast fake of ALSO's Simple API for benchmarks, in its own process: the calls a sync makes
(GetSessionToken, GetCompany, GetCompanies, GetSubscriptions, TerminateSessionToken), every answer
rendered once at start, served by one asyncio event loop with the latency added by a timer (no thread
per call), so the fake costs a few microseconds of CPU per request and the client's cost is what shows.

    python bench/fake_also.py --port 8765 --companies 1000 --subscriptions-per-company 10 --latency-ms 20 [--pin 1]

``--pin CPU`` keeps the process on that CPU (the clients measured run on the others). ``POST
/_sandbox/control`` answers ``{"calls": {operation: count}}`` as the sandbox does. It prints ``ready``
once listening. The data is the sandbox's (``plugins.also.sandbox.generated_data``), so a sync against
it writes the same rows. Not for tests: no faults, no token expiry, any password accepted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

API = b"/SimpleAPI/SimpleAPIService.svc/rest/"
TOKEN = "fake-session-token=="


def answer(status: int, body: bytes) -> bytes:
    reason = b"OK" if status == 200 else b"Error"
    return (b"HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: %d\r\n\r\n"
            % (status, reason, len(body))) + body


class Api:
    def __init__(self, companies: int, subs: int, latency: float) -> None:
        from plugins.also.sandbox import generated_data

        data = generated_data(companies, subs)
        self.latency = latency
        self.calls: Counter[str] = Counter()
        dumps = json.dumps
        self.reseller = answer(200, dumps(data.reseller).encode())
        parent = data.reseller["AccountId"]
        self.parent = parent
        self.companies = answer(200, dumps([c for c in data.companies if c.get("ParentAccountId") == parent]).encode())
        self.subscriptions = {account: answer(200, dumps(items).encode())
                              for account, items in data.subscriptions.items()}
        self.empty = answer(200, b"[]")
        self.token = answer(200, dumps(TOKEN).encode())
        self.ok = answer(200, b"")

    def respond(self, path: bytes, body: bytes) -> tuple[bytes, bool]:
        """The answer and whether it waits the latency."""
        if path == b"/_sandbox/control":
            return answer(200, json.dumps({"calls": dict(self.calls)}).encode()), False
        if not path.startswith(API):
            return answer(404, b"{}"), False
        operation = path[len(API):].decode()
        self.calls[operation] += 1
        if operation == "GetSubscriptions":
            account = json.loads(body)["parentAccountId"]
            return self.subscriptions.get(account, self.empty), True
        if operation == "GetCompanies":
            return self.companies, True
        if operation == "GetCompany":
            return self.reseller, True
        if operation == "GetSessionToken":
            return self.token, True
        return self.ok, True


class Http(asyncio.Protocol):
    def __init__(self, api: Api) -> None:
        self.api = api
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end]
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4:end + 4 + length]
            self.buffer = self.buffer[end + 4 + length:]
            path = head.split(b" ", 2)[1]
            reply, wait = self.api.respond(path, body)
            if wait and self.api.latency:
                asyncio.get_running_loop().call_later(self.api.latency, self._write, reply)
            else:
                self._write(reply)

    def _write(self, reply: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


async def serve(args: argparse.Namespace) -> None:
    api = Api(args.companies, args.subscriptions_per_company, args.latency_ms / 1000)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Http(api), args.host, args.port, backlog=512)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--companies", type=int, default=1000)
    parser.add_argument("--subscriptions-per-company", type=int, default=10)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--pin", type=int, help="the CPU to run on")
    args = parser.parse_args()
    if args.pin is not None:
        os.sched_setaffinity(0, {args.pin})
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
