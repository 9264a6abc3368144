"""Headers that keep the moderator pages out of other sites' frames, on every response.

A pure ASGI middleware, so it also covers what other middleware answers itself (a 413 from
BodyGuard) and the static files. A framed /moderate lets a page that shares the site trick a
moderator into clicking Approve; `frame-ancestors 'none'` and X-Frame-Options (for browsers
without CSP) forbid any frame. The CSP says nothing about scripts or styles: the pages use
inline `style` attributes for their score bars, and /docs loads Swagger UI from a CDN with an
inline script, so a script-src or style-src would break one or the other.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Directives this middleware adds to a response's CSP unless the response already has them.
CSP_DIRECTIVES = {"frame-ancestors": "'none'"}
HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # The pages' own forms still send Referer (the login check may need it); other sites
    # do not learn the moderator's URLs, which carry article ids and filters.
    "Referrer-Policy": "same-origin",
}


def with_directives(policy: str | None) -> str:
    """`policy` with CSP_DIRECTIVES added where it does not set them itself."""
    directives = [d.strip() for d in (policy or "").split(";") if d.strip()]
    named = {d.split()[0].lower() for d in directives}
    directives += [f"{k} {v}" for k, v in CSP_DIRECTIVES.items() if k not in named]
    return "; ".join(directives)


class SecurityHeaders:
    """Adds HEADERS (where a response has not set its own) and frame-ancestors to the CSP."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                csp = headers.get("content-security-policy")
                headers["Content-Security-Policy"] = with_directives(csp)
            await send(message)

        await self.app(scope, receive, send_with_headers)
