"""What the scheduled report mails share: the Monday overview and the quarterly report.

Each is a periodic task over a store, the ``ScheduledMailer`` that sends a keyed
mail once, and the province's calendar; it goes out at ``at`` (Amsterdam time) on
its working day and names the beheerders.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Generic, TypeVar

from imi_mailwatch.clock import AMSTERDAM
from imi_mailwatch.config import Beheerder
from imi_mailwatch.deadlines.calendar import BusinessCalendar
from imi_mailwatch.mailings import MailingStore, ScheduledMailer

if TYPE_CHECKING:  # the texts (Jinja2) load when a report is written
    from imi_mailwatch.texts import TextBook

S = TypeVar("S", bound=MailingStore)


@dataclass(eq=False, repr=False)
class ScheduledReport(Generic[S]):
    """A periodic task that mails a report once per period; ``_done`` is the last period
    whose mail is settled."""

    store: S
    mailer: ScheduledMailer
    calendar: BusinessCalendar
    _: KW_ONLY
    beheerders: Sequence[Beheerder] = ()
    at: time = time(8, 0)
    texts: TextBook | None = None

    def __post_init__(self) -> None:
        self.beheerders = tuple(self.beheerders)
        self._done: str | None = None

    def _before_time(self, now: datetime, day: date) -> bool:
        """Whether ``now`` is before the report's time of day on ``day``."""
        return now < datetime.combine(day, self.at, tzinfo=AMSTERDAM)

    def _current_beheerders(self) -> Sequence[Beheerder]:
        """The beheerders as the texts name them now (``beheerders.yaml``), else configured."""
        return self.texts.beheerders() if self.texts else self.beheerders
