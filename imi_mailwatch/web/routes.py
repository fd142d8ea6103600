"""The pages of the web desk (GET): overview, request, quarantine, rules, export.

Every page needs a logged-in user (``require_user``); the state-changing requests
(POST) are in :mod:`imi_mailwatch.web.forms`.
"""

from __future__ import annotations

from datetime import date, timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from imi_mailwatch.clock import local_today
from imi_mailwatch.privacy.history import load_history
from imi_mailwatch.privacy.quarantine import find_item, header_lines
from imi_mailwatch.reasons import dutch
from imi_mailwatch.web import export, forms, rules_view
from imi_mailwatch.web.app import Desk, desk_of, error_page, for_users, render
from imi_mailwatch.web.auth import WebUser
from imi_mailwatch.web.overview import SORT_LABELS, Selection, overview_rows, select, teams_of
from imi_mailwatch.wording import QUARANTINE_KIND, REQUEST_STATUS, long_date, word


@for_users
async def overview(request: Request, user: WebUser, desk: Desk) -> Response:
    rows = overview_rows(desk.store, desk.calendar)
    sel = Selection.from_query(request.query_params)
    chosen = select(rows, sel)
    return render(
        request,
        "overview.html.j2",
        title="Overzicht",
        rows=chosen,
        total=len(rows),
        proposals=sum(1 for r in chosen if r.proposal),
        teams=teams_of(rows),
        statuses=list(REQUEST_STATUS.items())[:4],
        sort_labels=list(SORT_LABELS.items()),
        sort_label=SORT_LABELS[sel.sort],
        sel=sel,
        today=long_date(local_today(desk.store.now())),
    )


@for_users
async def request_page(request: Request, user: WebUser, desk: Desk) -> Response:
    request_id = request.path_params["request_id"]
    history = load_history(desk.store, request_id)
    record = desk.store.get_request(request_id)
    if history is None or record is None:
        return error_page(
            request,
            404,
            "Verzoek niet gevonden",
            f"Verzoek {request_id} is niet bekend: nooit ontvangen, of al verwijderd "
            "volgens het bewaarbeleid.",
        )
    timeline = forms.timeline(desk, request_id, history)
    return render(
        request,
        "request.html.j2",
        title=f"Verzoek {request_id}",
        h=history,
        r=record,
        status_text=word(REQUEST_STATUS, record.status.value),
        timeline=timeline,
        actions=forms.actions_for(desk, user, record),
        teams=sorted(forms.teams(desk).items(), key=lambda kv: kv[1].lower()),
    )


@for_users
async def quarantine(request: Request, user: WebUser, desk: Desk) -> Response:
    show_all = request.query_params.get("alle") == "1"
    items = desk.store.quarantine(unresolved_only=not show_all)
    return render(
        request,
        "quarantine.html.j2",
        title="Quarantaine en afgewezen",
        items=[(q, word(QUARANTINE_KIND, q.kind), dutch(q.reason)) for q in items],
        show_all=show_all,
        may_act=user.may_act,
    )


@for_users
async def quarantine_item(request: Request, user: WebUser, desk: Desk) -> Response:
    item_id = request.path_params["item_id"]
    item = find_item(desk.store, item_id)
    if item is None:
        return error_page(request, 404, "Niet gevonden", f"Geen quarantaine-item #{item_id}.")
    raw = desk.store.quarantine_raw(item.id)
    return render(
        request,
        "quarantine_item.html.j2",
        title=f"Quarantaine-item {item.id}",
        q=item,
        kind=word(QUARANTINE_KIND, item.kind),
        reason=dutch(item.reason),
        headers=header_lines(raw) if raw is not None else None,
        may_act=user.may_act,
        retention_days=desk.cfg.privacy.raw_retention_days,
    )


@for_users
async def rules(request: Request, user: WebUser, desk: Desk) -> Response:
    return render(
        request, "rules.html.j2", title="Regels", state=rules_view.state(desk.cfg), trial=None
    )


@for_users
async def export_page(request: Request, user: WebUser, desk: Desk) -> Response:
    today = local_today(desk.store.now())
    start, end, problem = _period(request, today)
    fmt = request.query_params.get("formaat")
    if fmt in ("csv", "xlsx") and problem is None:
        rows = export.export_rows(desk.store, desk.calendar, start, end)
        name = f"imi-verzoeken-{start:%Y%m%d}-{end:%Y%m%d}"
        if fmt == "csv":
            body = export.render_csv(rows, start, end)
            media = "text/csv; charset=utf-8"
        else:
            body = export.render_xlsx(rows, start, end)
            media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        headers = {"Content-Disposition": f'attachment; filename="{name}.{fmt}"'}
        return Response(body, media_type=media, headers=headers)
    return render(request, "export.html.j2", title="Export", start=start, end=end, problem=problem)


def _period(request: Request, today: date) -> tuple[date, date, str | None]:
    """The period from the query string (van, tot), default: this year up to today."""
    try:
        start = date.fromisoformat(request.query_params.get("van") or f"{today.year}-01-01")
        end = date.fromisoformat(request.query_params.get("tot") or today.isoformat())
    except ValueError:
        return today.replace(month=1, day=1), today, "Vul de datums in als jjjj-mm-dd."
    if end < start:
        return start, end, "De einddatum ligt vóór de begindatum."
    if end - start > timedelta(days=3660):
        return start, end, "Kies een periode van hoogstens tien jaar."
    return start, end, None


async def accessibility(request: Request) -> Response:
    desk = desk_of(request)
    names = ", ".join(f"{b.name} ({b.email})" for b in desk.cfg.beheerders)
    return render(
        request, "accessibility.html.j2", title="Toegankelijkheidsverklaring", beheerders=names
    )


ROUTES = [
    Route("/", overview),
    Route("/verzoek/{request_id}", request_page),
    Route("/verzoek/{request_id}/actie", forms.act, methods=["POST"]),
    Route("/quarantaine", quarantine),
    Route("/quarantaine/{item_id:int}", quarantine_item),
    Route("/quarantaine/{item_id:int}/actie", forms.quarantine_act, methods=["POST"]),
    Route("/regels", rules),
    Route("/regels/proef", rules_view.dry_run, methods=["POST"]),
    Route("/export", export_page),
    Route("/toegankelijkheid", accessibility),
    Route("/auth/inloggen", forms.login),
    Route("/auth/callback", forms.callback),
    Route("/auth/uitloggen", forms.logout),
]
