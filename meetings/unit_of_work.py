"""One owner of the transaction per request.

Services add, flush and raise; they never commit. The request commits here,
once, when its response is a success (below 400), and rolls back otherwise:
a domain error turned into a 4xx page or JSON error, a form shown again with
its errors, an unexpected exception (the 500 handler). A view that catches a
domain error to show it on the page calls ``meetings.web.refused``, which
rolls back what the refused service did before the page is drawn.

The hook runs after the view has rendered its page or serialised its JSON
(flask-smorest dumps inside the view), so nothing is reloaded after the
commit. Should the commit itself fail, Flask's error handling answers 500
and this hook rolls back on that response.
"""

from __future__ import annotations

from flask import Flask, Response

from meetings.extensions import db


def end_transaction(response: Response) -> Response:
    if response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()
    return response


def init_unit_of_work(app: Flask) -> None:
    app.after_request(end_transaction)
