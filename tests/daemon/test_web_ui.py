"""The web UI in a real browser: Debian's chromium, headless, driven by Playwright, against a
real daemon following the drill host's logs.  Screenshots of each page are kept in
``$CSM_ARTIFACTS`` (default ``artifacts/web-ui``) for a person to look at."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect, sync_playwright

from csm.drill.build import EXIM_CONFIG, DrillHost
from csm.drill.mailqueue import build_queue
from tests.conftest import backed_up
from tests.daemon.conftest import Daemon, wait_until
from tests.daemon.test_daemon import append, day_lines

CHROMIUM = "/usr/bin/chromium"
HOSTILE = '<script>alert(1)</script> "><img src=x onerror=alert(1)>'
ARTIFACTS = Path(os.environ.get("CSM_ARTIFACTS", Path(__file__).parents[2] / "artifacts/web-ui"))
WAIT = 30_000  # milliseconds


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: run `make test` (scripts/bootstrap installs it)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()  # an empty profile: no cookies, no storage
    opened = context.new_page()
    opened.set_default_timeout(WAIT)
    yield opened
    context.close()


def shot(page: Page, name: str, *, whole: bool = True) -> None:
    """The page as a PNG (``whole``: all of it; else what the window shows)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=whole)


def queue_hostile(host: DrillHost) -> None:
    """A message whose Subject would run script if a page did not escape it."""
    sender = f"info@{host.accounts[0].domain}"
    message = f"From: {sender}\nTo: someone@example.com\nSubject: {HOSTILE}\n\nhello\n"
    config = str(host.root / EXIM_CONFIG.lstrip("/"))
    subprocess.run(
        [host.exim_bin, "-C", config, "-odq", "-f", sender, "someone@example.com"],
        input=message.encode(),
        check=True,
        timeout=60,
    )


def log_in(page: Page, base: str, token: str) -> None:
    page.goto(base + "incidents")
    expect(page).to_have_url(base + "login?next=/incidents")
    shot(page, "login")
    page.fill("#token", token)
    page.click("button[type=submit]")
    expect(page).to_have_url(base + "incidents")


def test_the_operator_triages_in_a_browser(
    cli: Any, host: DrillHost, daemon: Daemon, page: Page, tmp_path: Path
) -> None:
    dialogs: list[Dialog] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog))  # noqa: PLW0108 - a builtin method is not wrapped by Playwright
    build_queue(host, 1)
    queue_hostile(host)
    backed_up(cli, host)  # the backup rule met: what refuses a resolve is the guard itself
    daemon.start()
    base = wait_until(lambda: daemon.status()["api"]["url"], what="the API address")
    log_in(page, base, host.api_tokens["admin"])

    incident = _new_incident_appears_live(page, base, host, tmp_path)
    _review_then_resolve_is_refused(page, base, incident)
    _remove_a_reviewed_message(page, base)
    _hostile_subject_is_literal(page, base)
    for name, path in [("accounts", "accounts"), ("audit", "audit"), ("incidents", "incidents")]:
        page.goto(base + path)
        shot(page, name)
    page.goto(base + f"accounts/{host.accounts[0].user}")
    chart = page.locator("figure.chart img")
    expect(chart).to_be_visible()
    wait_until(
        lambda: chart.evaluate("img => img.complete && img.naturalWidth > 0"), what="the chart"
    )
    shot(page, "account")
    assert dialogs == []  # no script ran from anything the pages showed


def _new_incident_appears_live(page: Page, base: str, host: DrillHost, tmp_path: Path) -> str:
    page.goto(base)
    expect(page.locator("body[data-stream=open]")).to_have_count(1)  # the event stream is up
    before = set(page.locator("#incidents-live a[href^='/incidents/inc_']").all_inner_texts())
    page.evaluate("window.notReloaded = true")
    append(host, day_lines(tmp_path, "maillog.day"), "maillog")
    append(host, day_lines(tmp_path))
    takeover = page.locator("#incidents-live tr", has_text="mailbox_takeover")
    fresh = takeover.locator("a[href^='/incidents/inc_']")
    wait_until(
        lambda: set(fresh.all_inner_texts()) - before, what="a new takeover on the dashboard"
    )
    assert page.evaluate("window.notReloaded === true")  # it came without a reload
    shot(page, "dashboard")
    return sorted(set(fresh.all_inner_texts()) - before)[0]


def _review_then_resolve_is_refused(page: Page, base: str, incident: str) -> None:
    page.goto(base + f"incidents/{incident}")
    page.fill("#note", "checked the mailbox's logins and the queue")
    page.click("#review-button")
    expect(page.locator(".notice")).to_contain_text("review recorded")
    page.select_option("#status", "resolved")
    page.click("#status-button")
    refused = page.locator("#refused")
    expect(refused).to_contain_text("close guard")
    expect(refused).to_contain_text("csm creds rotate")
    expect(page.locator("#incident-status")).to_contain_text("open")
    shot(page, "incident-refused")


def _remove_a_reviewed_message(page: Page, base: str) -> None:
    page.goto(base + "queue")
    page.click("#record-review")
    expect(page.locator(".notice")).to_contain_text("review ")
    shot(page, "queue", whole=False)  # 400 messages: the first screen
    box = page.locator("#group-safe_to_remove + table input[name=ids]").first
    msgid = box.get_attribute("value")
    assert msgid
    page.check(f"#pick-{msgid}")
    page.select_option("#decision", "remove")
    page.fill("#decision-note", "a frozen bounce of the spam run")
    page.click("#decide-button")
    expect(page.locator(".notice")).to_contain_text("remove: 1 message(s) recorded")
    page.check(f"#pick-{msgid}")
    page.select_option("#action", "remove")
    page.click("#preview-button")
    expect(page.locator("#gate")).to_be_visible()
    shot(page, "queue-confirm")
    if page.locator("#approve").count():
        page.fill("#approve", "bounces only; the account is being rotated")
    page.click("#confirm-button")
    expect(page.locator(".notice")).to_contain_text("remove: 1 done")
    page.goto(base + f"queue/messages/{msgid}")
    expect(page.locator("h1")).to_contain_text("404")  # gone from the queue (kept in quarantine)


def _hostile_subject_is_literal(page: Page, base: str) -> None:
    page.goto(base + "queue")
    cell = page.locator("td.subject", has_text="<script>alert(1)</script>")
    expect(cell).to_have_count(1)
    expect(cell).to_contain_text('"><img src=x onerror=alert(1)>')
    assert page.locator("img[src=x]").count() == 0
    link = page.locator("tr", has=cell).locator("a[href^='/queue/messages/']")
    link.click()
    expect(page.locator("pre.headers")).to_contain_text("<script>alert(1)</script>")
    shot(page, "message")
