"""Clear answers, without a traceback, for requests the page's server cannot place.

Gradio looks an event up by its index in the page (`fn_index`) and lets an index the page
does not have escape as a `KeyError`: a 500 with a traceback in the log, for any client
that sends a wrong number. Here that is a 400 saying what was wrong.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.types import HTTPExceptionHandler

UNKNOWN_EVENT = "no such event on this page: check fn_index against /config"


async def _unknown_event(request: Request, exc: Exception) -> JSONResponse:
    if not request.url.path.endswith("/queue/join"):
        raise exc  # anything else stays the server error it is
    return JSONResponse({"detail": UNKNOWN_EVENT}, status_code=400)


EXCEPTION_HANDLERS: dict[type[Exception], HTTPExceptionHandler] = {KeyError: _unknown_event}
