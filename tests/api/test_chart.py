"""The account page's activity chart: well-formed SVG that the page's CSP allows (no style, no
script), with every host-supplied text escaped, and one bar per hour that sent mail."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from csm.accounts.model import Account
from csm.api.chart import activity_chart, svg
from csm.app import build
from csm.clock import FixedClock
from csm.config.loader import load
from csm.forensic.activity import Activity, Hour

NS = "{http://www.w3.org/2000/svg}"
START = datetime(2026, 11, 18, 13, tzinfo=UTC)
EVIL = "<script>alert(1)</script>"


def day(counts: dict[int, tuple[int, int, int]], hours: int = 48) -> tuple[Hour, ...]:
    return tuple(Hour(START + timedelta(hours=i), *counts.get(i, (0, 0, 0))) for i in range(hours))


def parsed(drawn: str) -> ET.Element:
    root = ET.fromstring(drawn)
    assert root.tag == f"{NS}svg"
    return root


def bars(root: ET.Element) -> list[ET.Element]:
    groups = [g for g in root.iter(f"{NS}g") if g.get("class") == "bars"]
    assert len(groups) <= 1
    return [rect for group in groups for rect in group if rect.get("class") == "sent"]


def assert_csp_safe(root: ET.Element) -> None:
    for element in root.iter():
        assert element.tag not in (f"{NS}style", f"{NS}script", f"{NS}foreignObject")
        assert "style" not in element.attrib
        assert not any(name.startswith("on") for name in element.attrib)


def test_a_busy_day() -> None:
    hours = day({3: (5, 0, 1), 4: (12, 3, 0), 30: (0, 7, 2), 47: (1, 0, 0)})
    drawn = svg(Activity("shopuser", hours, 100, False))
    root = parsed(drawn)
    assert_csp_safe(root)
    assert root.get("role") == "img"
    assert root.get("viewBox") == "0 0 720 200"
    assert "shopuser" in (root.get("aria-label") or "")
    assert "18 sent, 10 failed logins, 3 new networks" in (root.get("aria-label") or "")
    assert root.findtext(f"{NS}title") == "Mail activity of shopuser, last 48 hours"
    assert len(bars(root)) == 3
    assert [c for c in root.iter(f"{NS}circle") if c.get("class") == "networks"]
    assert [p for p in root.iter(f"{NS}polyline") if p.get("class") == "failures"]
    texts = {t.text for t in root.iter(f"{NS}text")}
    assert {"12", "0", "sent", "failed logins", "new networks"} <= texts  # max, legend
    assert {"18:00", "00:00", "06:00", "12:00"} <= texts  # a tick every 6 hours
    assert "13:00" not in texts


def test_presentation_attributes_give_colours_without_css() -> None:
    root = parsed(svg(Activity("a", day({0: (1, 1, 1)}), 1, False)))
    for element in root.iter():
        kind = element.get("class", "")
        if kind.startswith("sent") and element.tag == f"{NS}rect":
            assert element.get("fill")
        if kind.startswith("failures") and element.tag in (f"{NS}polyline", f"{NS}line"):
            assert element.get("stroke")


def test_the_account_name_is_escaped() -> None:
    drawn = svg(Activity(EVIL, day({1: (1, 1, 1)}), 3, False))
    assert "<script" not in drawn
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in drawn
    root = parsed(drawn)
    assert_csp_safe(root)
    assert EVIL in (root.findtext(f"{NS}title") or "")
    assert EVIL in (root.get("aria-label") or "")


def test_quotes_and_control_characters_in_the_name() -> None:
    name = "a\"b'c&d\x00e\x1bf\ud800g\n"
    root = parsed(svg(Activity(name, day({}), 0, False)))
    assert root.findtext(f"{NS}title") == "Mail activity of a\"b'c&defg\n, last 48 hours"


def test_no_activity() -> None:
    root = parsed(svg(Activity("quiet", day({}), 12, False)))
    assert_csp_safe(root)
    assert bars(root) == []
    assert "no activity" in {t.text for t in root.iter(f"{NS}text")}
    assert "no activity" in (root.get("aria-label") or "")


def test_no_hours_at_all() -> None:
    root = parsed(svg(Activity("none", (), 0, False)))
    assert "no activity" in {t.text for t in root.iter(f"{NS}text")}


def test_a_small_chart_keeps_its_minimum_size() -> None:
    root = parsed(svg(Activity("a", day({0: (1, 0, 0)}), 1, False), width=10, height=10))
    assert root.get("viewBox") == "0 0 320 140"


def test_activity_chart_reads_the_configured_logs(tmp_path: Path) -> None:
    (tmp_path / "csm.yaml").write_text(f"paths:\n  root: {tmp_path / 'host'}\n")
    loaded = load(tmp_path / "csm.yaml", tmp_path / "conf.d", {})
    app = build(loaded, {}, clock=FixedClock(datetime(2026, 11, 20, 12, 30, tzinfo=UTC)))
    logs = tmp_path / "host" / "var" / "log"
    logs.mkdir(parents=True)
    (logs / "exim_mainlog").write_text(
        "2026-11-20 09:00:00 1xU001-00000000001-01AB <= info@shop.example H=(pc) [198.51.100.84]:6"
        " P=esmtpsa A=dovecot_login:info@shop.example S=2135\n"
        "2026-11-20 10:00:00 1xU002-00000000002-01AB <= a@parked.example H=(pc) [198.51.100.84]:6"
        " P=esmtpsa A=dovecot_login:a@PARKED.example S=2135\n"
    )
    (logs / "maillog").write_text(
        "Nov 20 11:00:00 server1 dovecot[77]: imap-login: Aborted login (auth failed, 2 attempts):"
        " user=<info@Sub.Shop.example>, method=PLAIN, rip=198.51.100.1, lip=192.0.2.1\n"
    )
    account = Account(
        "shopuser",
        "cpanel",
        "/home/shopuser",
        1001,
        "Shop.example",
        parked_domains=("parked.example",),
        sub_domains=("sub.shop.example",),
    )
    root = parsed(activity_chart(app, account))
    assert len(bars(root)) == 2
    assert "2 sent, 2 failed logins, 1 new network" in (root.get("aria-label") or "")


counts = st.integers(min_value=0, max_value=10**9)
hours = st.builds(
    Hour,
    st.datetimes(timezones=st.just(UTC)) | st.datetimes(),
    counts | st.just(0),
    counts | st.just(0),
    st.integers(min_value=0, max_value=1000) | st.just(0),
)


@given(
    st.builds(
        Activity,
        st.text(),
        st.lists(hours, max_size=200).map(tuple),
        st.integers(min_value=0),
        st.booleans(),
    ),
    st.integers(min_value=0, max_value=4000),
    st.integers(min_value=0, max_value=2000),
)
def test_any_activity_draws_parseable_svg(found: Activity, width: int, height: int) -> None:
    root = parsed(svg(found, width, height))
    assert_csp_safe(root)
    assert len(bars(root)) == sum(1 for h in found.hours if h.sent > 0)
