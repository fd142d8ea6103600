"""The web desk: the beheerders' overview and actions in the browser (``imi-mailwatch web``).

- :mod:`.app`: the ASGI application (Starlette), its frame and security headers;
- :mod:`.auth`: OpenID Connect login, the roles beheerder and lezer, CSRF;
- :mod:`.routes`: the pages; :mod:`.forms` and :mod:`.acting`: what changes state;
- :mod:`.overview`, :mod:`.export`, :mod:`.rules_view`: the data behind the pages;
- :mod:`.serve`: wiring and serving with uvicorn.
"""
