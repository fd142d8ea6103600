"""The quarterly report for the coordinator Dienstenwet: the figures of the Commission's
IMI statistics, as a Dutch mail with the same figures as a CSV for Dutch Excel.

Per quarter (by the day a request was first recorded, Amsterdam time): the
requests received, per IMI module and per team; the median and the longest
calendar days to acceptance (the first "toegewezen" alert) and to the answer (the
first "antwoord ontvangen" alert); the requests answered after their reply date,
the forwarded ones, and the messages rejected as not from IMI.

The CSV opens in Dutch Excel as it is: UTF-8 with a byte order mark, ``;`` between
fields, dates as 31-12-2026 and decimals with a comma. It holds one row for all
requests, then one per module and one per team, each with the same columns.

The figures are computed here (pure); the facts come from the state store
(``ports.StatisticsStore``). The mail goes out on the first working day of the
next quarter at ``reports.overview_time``, once (``quarterly:2026-Q4``), to
``reports.quarterly_to`` and the beheerders; ``imi-mailwatch rapport`` shows or
writes it any time.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, Protocol

from imi_mailwatch.clock import AMSTERDAM, local_today
from imi_mailwatch.config import Beheerder
from imi_mailwatch.mailings import MailingStore
from imi_mailwatch.memo import beheerders_text
from imi_mailwatch.model import Attachment, OutgoingMail
from imi_mailwatch.ports import StatisticsStore
from imi_mailwatch.records import QuarterFacts
from imi_mailwatch.scheduled_report import ScheduledReport
from imi_mailwatch.texts import TextBook, shipped_texts
from imi_mailwatch.wording import MODULE, long_date, word


class QuarterlyStore(MailingStore, StatisticsStore, Protocol):
    """What the quarterly report reads and records."""


@dataclass(frozen=True, slots=True)
class Quarter:
    year: int
    number: int  # 1..4

    @classmethod
    def of(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """``2026-4`` or ``2026-Q4``; ValueError (Dutch) otherwise."""
        year, _, number = text.strip().upper().replace("Q", "").partition("-")
        if not (year.isdigit() and number in ("1", "2", "3", "4")):
            raise ValueError(f"'{text}' is geen kwartaal; schrijf bijvoorbeeld 2026-4")
        return cls(int(year), int(number))

    @property
    def first(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def next(self) -> Quarter:
        return (
            Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)
        )

    @property
    def previous(self) -> Quarter:
        return (
            Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)
        )

    @property
    def last(self) -> date:
        return date.fromordinal(self.next.first.toordinal() - 1)

    def bounds(self) -> tuple[datetime, datetime]:
        """The quarter as UTC instants ``[start, end)``, Amsterdam days."""
        start = datetime.combine(self.first, time(0), tzinfo=AMSTERDAM)
        end = datetime.combine(self.next.first, time(0), tzinfo=AMSTERDAM)
        return start.astimezone(UTC), end.astimezone(UTC)

    @property
    def key(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def words(self) -> str:
        return f"{self.number}e kwartaal {self.year}"


def _day(ts: datetime) -> date:
    return ts.astimezone(AMSTERDAM).date()


def _number(value: float) -> str:
    """``2``, ``2,5``: a Dutch number, one decimal at most."""
    text = f"{value:.1f}".replace(".", ",")
    return text.removesuffix(",0")


def _days(
    facts: Sequence[QuarterFacts], step: Callable[[QuarterFacts], datetime | None]
) -> dict[str, Any]:
    days = [
        (_day(moment) - _day(f.received_at)).days for f in facts if (moment := step(f)) is not None
    ]
    if not days:
        return {"mediaan": "", "langste": "", "aantal": 0}
    return {
        "mediaan": _number(statistics.median(days)),
        "langste": str(max(days)),
        "aantal": len(days),
    }


def _late(f: QuarterFacts) -> bool:
    return f.answered_at is not None and f.deadline is not None and _day(f.answered_at) > f.deadline


def _row(facts: Sequence[QuarterFacts]) -> dict[str, Any]:
    return {
        "aantal": len(facts),
        "te_laat": sum(1 for f in facts if _late(f)),
        "open": sum(1 for f in facts if not f.final and f.answered_at is None),
        "doorgestuurd": sum(1 for f in facts if f.forwarded),
        "aanvaarden": _days(facts, lambda f: f.accepted_at),
        "beantwoorden": _days(facts, lambda f: f.answered_at),
    }


def _groups(
    facts: Sequence[QuarterFacts], name: Callable[[QuarterFacts], str]
) -> dict[str, list[QuarterFacts]]:
    out: dict[str, list[QuarterFacts]] = {}
    for f in facts:
        out.setdefault(name(f), []).append(f)
    return dict(sorted(out.items()))


def _module(f: QuarterFacts) -> str:
    return word(MODULE, f.module) if f.module else "onbekende module"


def _team(f: QuarterFacts) -> str:
    return f.team_name or "nog geen team"


def figures(quarter: Quarter, facts: Sequence[QuarterFacts], rejected: int) -> dict[str, Any]:
    """The template's placeholders for one quarter (pure)."""
    total = _row(facts)
    return {
        "kwartaal": quarter.words,
        "van": long_date(quarter.first),
        "tot_en_met": long_date(quarter.last),
        "ontvangen": total["aantal"],
        "per_module": [
            {"naam": name, "aantal": len(group)} for name, group in _groups(facts, _module).items()
        ],
        "per_team": [
            {
                "naam": name,
                **{k: v for k, v in _row(group).items() if k in ("aantal", "te_laat", "open")},
            }
            for name, group in _groups(facts, _team).items()
        ],
        "aanvaarden": total["aanvaarden"],
        "beantwoorden": total["beantwoorden"],
        "te_laat": total["te_laat"],
        "doorgestuurd": total["doorgestuurd"],
        "geweigerd": rejected,
        "csv_bestand": csv_name(quarter),
    }


def csv_name(quarter: Quarter) -> str:
    return f"imi-kwartaal-{quarter.year}-{quarter.number}.csv"


CSV_HEADER = (
    "Kwartaal", "Van", "Tot en met", "Soort", "Naam", "Ontvangen",
    "Na antwoorddatum beantwoord", "Open", "Doorgestuurd",
    "Dagen tot aanvaarden (mediaan)", "Dagen tot aanvaarden (langste)",
    "Dagen tot antwoord (mediaan)", "Dagen tot antwoord (langste)", "Geweigerde berichten",
)  # fmt: skip


def csv_bytes(quarter: Quarter, facts: Sequence[QuarterFacts], rejected: int) -> bytes:
    """The figures as a CSV that Dutch Excel opens as it is (BOM, ``;``, Dutch dates)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    head = [quarter.words, f"{quarter.first:%d-%m-%Y}", f"{quarter.last:%d-%m-%Y}"]
    rows = [("totaal", "alle verzoeken", list(facts))]
    rows += [("module", n, g) for n, g in _groups(facts, _module).items()]
    rows += [("team", n, g) for n, g in _groups(facts, _team).items()]
    for kind, name, group in rows:
        r = _row(group)
        writer.writerow(
            [*head, kind, name, r["aantal"], r["te_laat"], r["open"], r["doorgestuurd"],
             r["aanvaarden"]["mediaan"], r["aanvaarden"]["langste"],
             r["beantwoorden"]["mediaan"], r["beantwoorden"]["langste"],
             rejected if kind == "totaal" else ""]
        )  # fmt: skip
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def quarterly_mail(
    quarter: Quarter,
    store: StatisticsStore,
    *,
    to: Sequence[str],
    message_id: str,
    beheerders: Sequence[Beheerder] = (),
    texts: TextBook | None = None,
) -> OutgoingMail:
    """The report of ``quarter`` as a mail with its CSV."""
    since, until = quarter.bounds()
    facts = store.request_facts(since, until)
    rejected = store.rejected_between(since, until)
    context = figures(quarter, facts, rejected)
    parts = (texts or shipped_texts()).letter(
        "kwartaalrapport", **context, beheerders=beheerders_text(beheerders)
    )
    return OutgoingMail(
        message_id=message_id,
        to=tuple(to),
        subject=" ".join(parts["onderwerp"].split()),
        text=parts["tekst"].strip() + "\n",
        attachments=(
            Attachment(csv_name(quarter), "text/csv", csv_bytes(quarter, facts, rejected)),
        ),
    )


@dataclass(eq=False, repr=False, kw_only=True)
class QuarterlyReport(ScheduledReport[QuarterlyStore]):
    """The periodic task: the previous quarter's report on the first working day of a new
    one, to ``to`` and the beheerders; ``_done`` is a quarter."""

    to: Sequence[str] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        self.to = tuple(self.to)

    def due(self, now: datetime) -> Quarter | None:
        """The quarter to report on at ``now``, if its report is due."""
        today = local_today(now)
        current = Quarter.of(today)
        day = self.calendar.on_or_after(current.first)
        if today < day or self._before_time(now, day):
            return None
        if today.month != current.first.month:
            return None  # not in the quarter's first month: a daemon started mid-quarter
        return current.previous

    def run(self) -> int:
        """Send the due report once; 1 when it went out now."""
        quarter = self.due(self.mailer.clock.now())
        if quarter is None or quarter.key == self._done:
            return 0
        key = f"quarterly:{quarter.key}"
        beheerders = self._current_beheerders()
        to = tuple(dict.fromkeys([*self.to, *(b.email for b in beheerders)]))
        if not to or self.mailer.sent(key):
            self._done = quarter.key
            return 0
        sent = self.mailer.send_once(
            key,
            lambda mid: quarterly_mail(
                quarter, self.store, to=to, message_id=mid, beheerders=self.beheerders,
                texts=self.texts,
            ),
        )  # fmt: skip
        if sent:
            self._done = quarter.key
        return int(sent)
