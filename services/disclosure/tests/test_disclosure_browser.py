"""The public page in a real headless Chromium (Debian's chromium): the filter form narrows the
list to one village, the village's list shows only masked names and ID numbers, no account
number is anywhere in the page, and a screenshot of the phone-sized page is saved."""

from __future__ import annotations

import asyncio
import random
import re
import shutil
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urljoin

import uvicorn
from fastapi import FastAPI
from ykt_contracts.reference import TOWNS
from ykt_kit.masking import mask_id, mask_name

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)
ARTIFACTS = Path(__file__).resolve().parents[3] / "var" / "test-artifacts"


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """The already-started app over real HTTP on a loopback port. The socket listens before the
    server starts, so the browser's connection waits in the backlog rather than being refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_config=None, access_log=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


async def chromium(tmp_path: Path, *args: str) -> bytes:
    """Run Debian's headless Chromium with a fresh profile; its stdout."""
    exe = shutil.which("chromium")
    assert exe, "chromium not found: install Debian's chromium package"
    profile = tmp_path / f"profile-{random.randrange(1 << 30)}"  # noqa: S311
    proc = await asyncio.create_subprocess_exec(
        exe,
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, f"chromium exited {proc.returncode}"
    return out


class Dom(HTMLParser):
    """What the tests read from a rendered DOM: forms' fields, links, table cells, visible text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: list[dict[str, object]] = []
        self.links: list[str] = []
        self.cells: list[tuple[str, str]] = []
        self.text: list[str] = []
        self._select: dict[str, object] | None = None
        self._option: dict[str, object] | None = None
        self._cell: str | None = None
        self._buf: list[str] = []
        self._skip = 0
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in ("style", "head"):
            self._skip += 1
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "label": a.get("aria-label", ""), "fields": []})
        elif tag == "select" and self.forms:
            self._select = {"name": a.get("name"), "options": [], "selected": None}
            self.forms[-1]["fields"].append(self._select)  # type: ignore[union-attr]
        elif tag == "option" and self._select is not None:
            self._option = {"value": a.get("value", ""), "selected": "selected" in a}
            self._select["options"].append(self._option["value"])  # type: ignore[union-attr]
            if self._option["selected"]:
                self._select["selected"] = self._option["value"]
        elif tag == "a" and "href" in a:
            self.links.append(a["href"])
        elif tag == "td" and "data-label" in a:
            self._cell, self._buf = a["data-label"], []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "head"):
            self._skip -= 1
        if tag == "select":
            self._select = None
        elif tag == "td" and self._cell is not None:
            self.cells.append((self._cell, "".join(self._buf).strip()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._buf.append(data)
        if not self._skip:
            self.text.append(data)

    def column(self, label: str) -> list[str]:
        return [v for k, v in self.cells if k == label]

    def submit(self, label: str, base: str, **choices: str) -> str:
        """The URL a browser requests when the GET form `label` is sent with `choices` picked."""
        [form] = [f for f in self.forms if f["label"] == label]
        pairs = []
        for field in form["fields"]:  # type: ignore[union-attr]
            name = field["name"]
            value = choices.get(name, field["selected"] or "")
            if name in choices:
                assert value in field["options"], f"{value} is not offered by the {name} filter"
            pairs.append((name, value))
        return urljoin(base, str(form["action"])) + "?" + urlencode(pairs)


async def test_village_list_in_headless_chromium_is_masked_and_has_no_account(
    disclosure, batch_of: Callable, tmp_path: Path
) -> None:
    village = f"金鳌村{random.randrange(1000, 9999)}组"  # noqa: S311 - no other test lists it
    other = (TOWNS[6].code, "大堰村")
    batch = batch_of(70, places=[(TOWNS[6].code, village), other])
    event = await disclosure.publish_batch(batch)
    pid = event["publication_id"]
    in_village = [r for r in batch.records if r.village == village]
    assert 0 < len(in_village) <= 50  # one page

    async with serving(disclosure.app) as base:
        # the list page: pick the village in the filter form, as a person would
        listing = Dom((await chromium(tmp_path, "--dump-dom", f"{base}/public")).decode())
        filtered_url = listing.submit("筛选公示", base, village=village)
        filtered = Dom((await chromium(tmp_path, "--dump-dom", filtered_url)).decode())
        [link] = [h for h in filtered.links if pid in h]
        assert "village=" in link  # the card keeps the village filter
        page_url = urljoin(base, link)
        html = (await chromium(tmp_path, "--dump-dom", page_url)).decode()
        shot = tmp_path / "village-list.png"
        await chromium(tmp_path, f"--screenshot={shot}", "--window-size=390,1600", page_url)

    dom = Dom(html)
    assert dom.column("村（社区）") == [village] * len(in_village)
    names, ids = dom.column("姓名"), dom.column("身份证号")
    assert sorted(names) == sorted(mask_name(r.name) for r in in_village)
    assert sorted(ids) == sorted(mask_id(r.id_number) for r in in_village)
    assert all("*" in n for n in names)
    assert all(re.fullmatch(r"\d\*{16}[\dX]", i) for i in ids)
    visible = "".join(dom.text)
    assert not re.search(r"\d{12,}", visible)  # no account (or full ID) in the visible text
    for p in batch.people:
        assert p.account_no not in html  # ... nor anywhere in the markup
        assert p.id_number not in html
        assert p.phone not in html
        if len(p.name) >= 3:
            assert p.name not in html
    assert f"筛选结果：{len(in_village)} 人" in visible

    png = shot.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "disclosure-village-list.png").write_bytes(png)
