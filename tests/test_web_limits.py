"""The console caps a request's body before it parses it: the login takes a few KB, other forms 64 KB,
anything bigger gets 413, whether it says its length or streams it. Measured on a real ``integrator
web`` process: its memory stays flat under many big bodies and an upload leaves no temporary file."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from core.web.security import COOKIE
from tests.processes import ROOT, wait_for
from tests.web_process import WebProcess, web_process
from tests.web_support import CONSOLE_PASSWORD, csrf_of, log_in

MB = 1024 * 1024


@pytest.fixture
def console(config, tmp_path):
    done = subprocess.run([sys.executable, "-m", "core.cli", "web", "set-password"], input=CONSOLE_PASSWORD + "\n",
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    spool = tmp_path / "tmp"
    spool.mkdir()
    with web_process(env={"TMPDIR": str(spool)}) as server:
        server.spool = spool  # type: ignore[attr-defined]
        yield server


def memory_kb(pid: int, field: str = "VmRSS") -> int:
    """The process's resident memory now (VmRSS) or at its highest so far (VmHWM), in KB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field}")


def spooled_files(server: WebProcess) -> list[str]:
    """The server's open files under its TMPDIR (tempfile.TemporaryFile is unlinked, but still open)."""
    found = []
    for fd in Path(f"/proc/{server.pid()}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(str(server.spool)):  # type: ignore[attr-defined]
            found.append(target)
    return found


def raw_post(server: WebProcess, path: str, body: bytes, *, chunked: bool = False, cookie: str | None = None,
             content_type: str = "application/x-www-form-urlencoded", between=None) -> int | None:
    """POST on a plain socket (a client that keeps sending whatever the server says); the status, or
    None when the server closed the connection without an answer."""
    head = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}", f"Content-Type: {content_type}",
            "Connection: close"]
    head.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {len(body)}")
    if cookie:
        head.append(f"Cookie: {COOKIE}={cookie}")
    with socket.create_connection((server.host, server.port), timeout=60) as sock:
        try:
            sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
            step = 64 * 1024
            for offset in range(0, len(body), step):
                part = body[offset:offset + step]
                sock.sendall(b"%x\r\n%s\r\n" % (len(part), part) if chunked else part)
                if between is not None and offset >= 8 * MB:
                    between()
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server answered early and closed: read what it said
        try:
            answer = sock.recv(64)
        except OSError:
            return None
    return int(answer.split()[1]) if answer.startswith(b"HTTP/1.1 ") else None


def logged_in(server: WebProcess) -> tuple[str, str]:
    with httpx.Client(base_url=server.url) as client:
        assert log_in(client).status_code == 303
        return client.cookies[COOKIE], csrf_of(client.get("/mappings").text)


def test_a_big_login_body_is_refused_before_it_is_read(console):
    big = b"password=" + b"x" * MB
    assert raw_post(console, "/login", big) == 413
    assert raw_post(console, "/login", big, chunked=True) == 413
    assert raw_post(console, "/login", b"password=" + b"x" * 3000) != 413  # a few KB is a login


def test_a_big_form_is_refused_and_a_normal_one_passes(console):
    cookie, csrf = logged_in(console)
    form = f"csrf={csrf}&external_id=999&customer=Nobody".encode()
    assert raw_post(console, "/mappings/also/add", form + b"&pad=" + b"x" * (100 * 1024), cookie=cookie) == 413
    assert raw_post(console, "/mappings/also/add", form + b"&pad=" + b"x" * (100 * 1024), cookie=cookie,
                    chunked=True) == 413
    assert raw_post(console, "/mappings/also/add", form + b"&pad=" + b"x" * (40 * 1024), cookie=cookie) == 303


def test_memory_stays_flat_under_many_big_bodies(console):
    body = b"&".join(b"f%d=%s" % (n, b"x" * 500_000) for n in range(8))  # 4 MB, in fields under 1 MB

    def post(i: int) -> int | None:
        return raw_post(console, "/login", body, chunked=bool(i % 2))

    for _ in range(3):  # warm up: the first requests load templates and the database
        post(0)
    before = memory_kb(console.pid())
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(post, range(200)))
    peak_mb = (memory_kb(console.pid(), "VmHWM") - before) / 1024
    grown_mb = (memory_kb(console.pid()) - before) / 1024
    assert set(statuses) == {413}, statuses
    assert peak_mb < 30 and grown_mb < 30, f"the console peaked {peak_mb:.0f} MB higher and kept {grown_mb:.0f} MB"


def test_a_multipart_upload_leaves_no_temporary_file(console):
    boundary = "b0undary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + os.urandom(32 * MB) + \
        f"\r\n--{boundary}--\r\n".encode()
    seen: list[list[str]] = []

    def look():  # while the upload goes on, is any of it on disk (a file unlinked at once counts too)?
        seen.append(spooled_files(console))

    for chunked in (False, True):
        status = raw_post(console, "/login", body, chunked=chunked, between=look,
                          content_type=f"multipart/form-data; boundary={boundary}")
        assert status in (413, None)  # None: it answered before the upload ended and closed the connection
        look()
    wait_for(lambda: console.proc.poll() is None, what="the console still serving")
    assert all(files == [] for files in seen), seen
    assert os.listdir(console.spool) == []
