"""The account page's activity chart, drawn here as SVG: messages sent as bars, failed logins
as a line, the first use of a client network as dots above the plot.

The page's CSP (``default-src 'self'``) allows no inline style and no script: the chart uses
presentation attributes for its default look and the classes ``sent``, ``failures``,
``networks``, ``axis`` and ``label`` for the stylesheet; tooltips are ``<title>`` elements.
Every text is XML-escaped (the account name is the host's), less what XML cannot hold."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final
from xml.sax.saxutils import escape, quoteattr

from csm.forensic import activity as mail
from csm.forensic.activity import Activity, Hour

if TYPE_CHECKING:
    from csm.accounts.model import Account
    from csm.app import App

SVG_NS: Final = "http://www.w3.org/2000/svg"
MIN_WIDTH: Final = 320
MIN_HEIGHT: Final = 140
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 26, 40  # the plot's margins
LANE: Final = 13  # the networks' dots: this far below the top
TICK_ROOM: Final = 36  # pixels an hour label needs
SENT, FAILURES, NETWORKS = "#4a78b0", "#c8402f", "#2e8b57"
AXIS, LABEL = "#999999", "#555555"


@dataclass(frozen=True, slots=True)
class _Frame:
    width: int
    height: int
    slots: int  # hours on the x axis (at least one)
    peak: int  # the y axis's top value (at least one)

    @property
    def bottom(self) -> float:
        return self.height - BOTTOM

    @property
    def slot(self) -> float:
        return (self.width - LEFT - RIGHT) / self.slots

    def x(self, index: int) -> float:
        """The centre of an hour's slot."""
        return LEFT + (index + 0.5) * self.slot

    def y(self, value: int) -> float:
        return self.bottom - (self.bottom - TOP) * value / self.peak


def activity_chart(app: App, account: Account) -> str:
    """The chart of ``account``'s last 48 hours, from the configured mail logs."""
    logs = app.config.mail
    names = (
        account.main_domain,
        *account.addon_domains,
        *account.parked_domains,
        *account.sub_domains,
    )
    found = mail.activity(
        app.host.path(logs.exim_mainlog),
        app.host.path(logs.maillog),
        frozenset(name.lower() for name in names if name),
        app.clock.now(),
        account=account.user,
    )
    return svg(found)


def svg(activity: Activity, width: int = 720, height: int = 200) -> str:
    """A self-contained ``<svg>`` of the activity (at least ``MIN_WIDTH`` by ``MIN_HEIGHT``)."""
    width, height = max(width, MIN_WIDTH), max(height, MIN_HEIGHT)
    hours = activity.hours
    peak = max((max(_count(h.sent), _count(h.failures)) for h in hours), default=0)
    frame = _Frame(width, height, max(len(hours), 1), max(peak, 1))
    title = f"Mail activity of {activity.account}, last {len(hours)} hours"
    summary = _summary(hours)
    busy = any(_count(h.sent) or _count(h.failures) or _count(h.new_networks) for h in hours)
    parts = [
        f'<svg xmlns="{SVG_NS}" viewBox="0 0 {width} {height}" width="{width}"'
        f' height="{height}" role="img" aria-label={_attr(f"{title}: {summary}")}'
        ' class="activity-chart" font-family="sans-serif" font-size="10">',
        f"<title>{_text(title)}</title>",
        f"<desc>{_text(summary)}</desc>",
        *_axes(frame, hours, peak),
        *(_series(frame, hours) if busy else _empty(frame)),
        *_legend(frame),
        "</svg>",
    ]
    return "\n".join(parts)


def _summary(hours: Sequence[Hour]) -> str:
    sent = sum(_count(h.sent) for h in hours)
    failed = sum(_count(h.failures) for h in hours)
    networks = sum(_count(h.new_networks) for h in hours)
    if not (sent or failed or networks):
        return "no activity"
    return f"{sent} sent, {_many(failed, 'failed login')}, {_many(networks, 'new network')}"


def _axes(frame: _Frame, hours: Sequence[Hour], peak: int) -> Iterator[str]:
    bottom, right = frame.bottom, frame.width - RIGHT
    yield f'<g class="axis" stroke="{AXIS}" fill="{LABEL}">'
    yield _line(LEFT, bottom, right, bottom)
    yield _line(LEFT, TOP, LEFT, bottom)
    if peak:  # the y axis's top: the busiest hour's count
        yield f'<line x1="{LEFT}" y1="{TOP}" x2="{right}" y2="{TOP}" stroke-dasharray="2 3"/>'
        yield _label(LEFT - 4, TOP + 4, str(peak), "end")
    yield _label(LEFT - 4, bottom + 3, "0", "end")
    step = _tick_step(frame.slot)
    for index, hour in enumerate(hours):
        if hour.start.hour % step == 0:
            x = frame.x(index)
            yield _line(x, bottom, x, bottom + 4)
            yield _label(x, bottom + 15, f"{hour.start.hour:02d}:00", "middle")
    yield "</g>"


def _tick_step(slot: float) -> int:
    """Hours between labels: 6, or 12 or 24 when the labels would not fit."""
    step = 6
    while step < 24 and step * slot < TICK_ROOM:
        step *= 2
    return step


def _series(frame: _Frame, hours: Sequence[Hour]) -> Iterator[str]:
    yield '<g class="bars">'
    for index, hour in enumerate(hours):
        if _count(hour.sent):
            yield _bar(frame, index, hour)
    yield "</g>"
    if any(_count(h.failures) for h in hours):
        yield from _failures(frame, hours)
    yield '<g class="lane">'
    for index, hour in enumerate(hours):
        if _count(hour.new_networks):
            yield _dot(frame, index, hour)
    yield "</g>"


def _bar(frame: _Frame, index: int, hour: Hour) -> str:
    sent = _count(hour.sent)
    width = max(frame.slot * 0.7, 1.0)
    top = min(frame.y(sent), frame.bottom - 1)  # one message still shows
    return (
        f'<rect class="sent" x="{frame.x(index) - width / 2:.1f}" y="{top:.1f}"'
        f' width="{width:.1f}" height="{frame.bottom - top:.1f}" fill="{SENT}">'
        f"{_tip(hour, f'{sent} sent')}</rect>"
    )


def _failures(frame: _Frame, hours: Sequence[Hour]) -> Iterator[str]:
    points = " ".join(
        f"{frame.x(i):.1f},{frame.y(_count(h.failures)):.1f}" for i, h in enumerate(hours)
    )
    yield (
        f'<g class="failures" fill="{FAILURES}"><polyline class="failures" points="{points}"'
        f' fill="none" stroke="{FAILURES}" stroke-width="2"/>'
    )
    for index, hour in enumerate(hours):
        failed = _count(hour.failures)
        if failed:
            yield (
                f'<circle class="failures" cx="{frame.x(index):.1f}"'
                f' cy="{frame.y(failed):.1f}" r="2.5">'
                f"{_tip(hour, _many(failed, 'failed login'))}</circle>"
            )
    yield "</g>"


def _dot(frame: _Frame, index: int, hour: Hour) -> str:
    networks = _count(hour.new_networks)
    radius = 2 + min(networks, 4)
    return (
        f'<circle class="networks" cx="{frame.x(index):.1f}" cy="{LANE}" r="{radius}"'
        f' fill="{NETWORKS}">'
        f"{_tip(hour, _many(networks, 'new network'))}</circle>"
    )


def _empty(frame: _Frame) -> Iterator[str]:
    middle = (TOP + frame.bottom) / 2
    yield (
        f'<text class="axis" x="{frame.width / 2:.1f}" y="{middle:.1f}" text-anchor="middle"'
        f' fill="{LABEL}" font-size="13">no activity</text>'
    )


def _legend(frame: _Frame) -> Iterator[str]:
    y = frame.height - 8
    yield '<g class="legend">'
    yield f'<rect class="sent legend" x="{LEFT}" y="{y - 9}" width="10" height="10" fill="{SENT}"/>'
    yield _legend_label(LEFT + 14, y, "sent")
    yield (
        f'<line class="failures legend" x1="{LEFT + 60}" y1="{y - 4}" x2="{LEFT + 74}"'
        f' y2="{y - 4}" stroke="{FAILURES}" stroke-width="2"/>'
    )
    yield _legend_label(LEFT + 78, y, "failed logins")
    yield (
        f'<circle class="networks legend" cx="{LEFT + 160}" cy="{y - 4}" r="4" fill="{NETWORKS}"/>'
    )
    yield _legend_label(LEFT + 168, y, "new networks")
    yield "</g>"


def _legend_label(x: int, y: int, words: str) -> str:
    return f'<text class="label" x="{x}" y="{y}" fill="{LABEL}">{_text(words)}</text>'


def _line(x1: float, y1: float, x2: float, y2: float) -> str:
    return f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"/>'


def _label(x: float, y: float, words: str, anchor: str) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" stroke="none">{_text(words)}</text>'
    )


def _tip(hour: Hour, words: str) -> str:
    """The tooltip of an hour's mark: ``<title>2026-11-20 09:00: 3 sent</title>``."""
    start = hour.start
    when = f"{start.year:04d}-{start.month:02d}-{start.day:02d} {start.hour:02d}:00"
    return f"<title>{_text(f'{when}: {words}')}</title>"


def _many(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _count(value: int) -> int:
    return max(value, 0)


def _text(value: str) -> str:
    """Text content: escaped, without the characters XML 1.0 cannot hold."""
    return escape(_xml_chars(value))


def _attr(value: str) -> str:
    """An attribute value, quoted and escaped (newlines and tabs too, as ``quoteattr`` does)."""
    return quoteattr(_xml_chars(value))


def _xml_chars(value: str) -> str:
    return "".join(char for char in value if _allowed(ord(char)))


def _allowed(code: int) -> bool:
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )
