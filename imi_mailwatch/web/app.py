"""The web desk as an ASGI application (Starlette): wiring, pages' frame, security headers.

:func:`create_app` takes what the pages need (:class:`Desk`: configuration, the state
store, the calendar) and returns the application; ``imi-mailwatch web`` serves it
with uvicorn. Pages are rendered on the server (Jinja2, autoescaped) and need no
JavaScript; the NL Design System CSS is served from the package.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from imi_mailwatch import __version__
from imi_mailwatch.clock import AMSTERDAM
from imi_mailwatch.config import Config
from imi_mailwatch.deadlines import BusinessCalendar
from imi_mailwatch.ports import StateStore
from imi_mailwatch.web.auth import WebUser, csrf_token, current_user, make_oauth

NAV = (
    ("/", "Overzicht"),
    ("/quarantaine", "Quarantaine"),
    ("/regels", "Regels"),
    ("/export", "Export"),
)
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


@dataclass
class Desk:
    """What the pages read and act on."""

    cfg: Config
    store: StateStore
    calendar: BusinessCalendar
    actions: Any = None  # the desk service's context (imi_mailwatch.desk), when acting
    oauth: Any = None
    after_action: Callable[[], object] | None = None  # the demo sends owed mails at once
    templates: Environment = field(init=False)

    def __post_init__(self) -> None:
        folder = Path(str(resources.files("imi_mailwatch.web") / "templates"))
        self.templates = Environment(
            loader=FileSystemLoader(folder),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.templates.filters["nl_date"] = nl_date
        self.templates.filters["nl_moment"] = nl_moment


def nl_date(value: date | None) -> str:
    return value.strftime("%d-%m-%Y") if value else "onbekend"


def nl_moment(value: datetime | None) -> str:
    return value.astimezone(AMSTERDAM).strftime("%d-%m-%Y %H:%M") if value else "onbekend"


def desk_of(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


def render(
    request: Request, template: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """A page in the frame: menu, the user, the flash message of the last action."""
    desk = desk_of(request)
    user = current_user(request, desk.cfg.web)
    flash = request.session.pop("flash", None) if "session" in request.scope else None
    page = desk.templates.get_template(template).render(
        nav=NAV if user else (),
        current=request.url.path,
        user=user,
        logout=desk.cfg.web.auth == "oidc",
        flash=flash,
        version=__version__,
        static=lambda path: f"/static/{path}",
        csrf=csrf_token(request) if user else "",
        **context,
    )
    return HTMLResponse(page, status_code=status_code)


def error_page(
    request: Request, status: int, title: str, message: str, *, login: bool = False
) -> HTMLResponse:
    return render(
        request, "error.html.j2", status_code=status, title=title, message=message, login=login
    )


Handler = Callable[[Request], Awaitable[Response]]


def _with_headers(app: Any) -> Any:
    async def wrapped(scope: Mapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                for name, value in SECURITY_HEADERS.items():
                    if name.lower().encode() not in names:
                        headers.append((name.lower().encode(), value.encode()))
                message["headers"] = headers
            await send(message)

        await app(scope, receive, send_with_headers)

    return wrapped


def create_app(desk: Desk, *, session_secret: str | None = None) -> Any:
    """The ASGI application of the web desk."""
    from imi_mailwatch.web import routes

    web = desk.cfg.web
    if desk.oauth is None:
        desk.oauth = make_oauth(web)
    secret = session_secret
    if secret is None and web.session_secret is not None:
        secret = web.session_secret.reveal()
    static = Path(str(resources.files("imi_mailwatch.web") / "static"))
    app = Starlette(
        routes=[*routes.ROUTES, Mount("/static", app=StaticFiles(directory=static), name="static")],
        middleware=[
            Middleware(
                SessionMiddleware,
                secret_key=secret or secrets.token_urlsafe(32),
                session_cookie="imi_desk",
                max_age=web.session_minutes * 60,
                same_site="lax",
                https_only=True,
            )
        ],
        exception_handlers={404: _not_found, 405: _not_allowed},
    )
    app.state.desk = desk
    return _with_headers(app)


async def _not_found(request: Request, exc: Exception) -> Response:
    return error_page(request, 404, "Niet gevonden", "Deze pagina bestaat niet.")


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return error_page(request, 405, "Niet toegestaan", "Deze handeling kan hier niet.")


def require_user(request: Request) -> WebUser | Response:
    """The logged-in user, or the page that says to log in (401) or that they may not (403)."""
    desk = desk_of(request)
    user = current_user(request, desk.cfg.web)
    if user is None:
        return render(request, "login.html.j2", status_code=401, title="Inloggen")
    return user


UserPage = Callable[[Request, WebUser, Desk], Awaitable[Response]]


def for_users(page: UserPage) -> Handler:
    """A page for logged-in users only: ``page`` gets the user and the desk, anyone else
    the page that says to log in (``require_user``)."""

    @functools.wraps(page)
    async def handler(request: Request) -> Response:
        user = require_user(request)
        if isinstance(user, Response):
            return user
        return await page(request, user, desk_of(request))

    return handler


__all__ = ["Desk", "Route", "create_app", "for_users", "render", "require_user"]
