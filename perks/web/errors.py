"""Error answers: a page in the app's layout for people, JSON with a human sentence under /api/.

One home for both, so a 404 from routing (before any blueprint is chosen) and an `abort(404)`
inside an API view answer alike. Nothing of the server shows: no stack trace, path or library
name; a 500 is logged in full and shown as one sentence.
"""

from flask import Flask, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

# Werkzeug's default descriptions talk to developers ("the browser doesn't understand how to
# supply the credentials"); these are what a person or a script's author needs instead.
MESSAGES = {
    400: "The request could not be understood: check the address and the values sent.",
    401: "Log in first. Scripts send an API token as “Authorization: Bearer <token>” "
         "(create one on Settings → API tokens).",
    403: "Your role does not allow this. Ask an admin of your brand if you need it.",
    404: "There is nothing at this address, or it belongs to another brand.",
    405: "This address does not accept that kind of request.",
    413: "That upload is too large.",
    415: "Send the body as JSON (Content-Type: application/json).",
    429: "Too many requests: wait a little and try again.",
    500: "Something went wrong on our side. It has been logged; try again in a minute.",
}
TITLES = {400: "Bad request", 401: "Please log in", 403: "Not allowed", 404: "Page not found",
          405: "Not allowed here", 413: "Too large", 415: "Wrong format",
          429: "Too many requests", 500: "Something went wrong"}


def message(error: HTTPException) -> str:
    """The sentence to show: the view's own `abort(code, "…")` text, else ours for the code."""
    code = error.code or 500
    default = type(error).description
    if code >= 500 or not error.description or error.description == default:
        return MESSAGES.get(code, MESSAGES[500] if code >= 500 else MESSAGES[400])
    text = str(error.description)
    return text[0].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


def json_error(error: HTTPException):
    """The API's error body: {"error": the status name, "message": a sentence}. An error that
    already carries its JSON answer (abort(response), e.g. a 422 listing every problem) keeps it."""
    if error.response is not None:
        return error.response
    response = jsonify({"error": error.name, "message": message(error)})
    response.status_code = error.code or 500
    if error.code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="perks"'
    return response


def too_large() -> str:
    """The 413's sentence with the limit in it (MAX_CONTENT_LENGTH, PERKS_MAX_UPLOAD_BYTES)."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if not limit:
        return MESSAGES[413]
    return (f"{MESSAGES[413]} perks takes requests, an uploaded file included, of up to "
            f"{limit / 2**20:,.1f} MB. Split the file, or ask your operator to raise "
            "PERKS_MAX_UPLOAD_BYTES.")


def _handle(error: HTTPException):
    if request.path.startswith("/api/"):
        return json_error(error)
    if (error.code or 500) < 400:  # redirects raised as exceptions pass through untouched
        return error
    code = error.code or 500
    text = too_large() if code == 413 else message(error)
    return render_template("errors/error.html", code=code, title=TITLES.get(code, "Error"),
                           message=text), code


def init_app(app: Flask) -> None:
    # An unhandled exception reaches the 500 handler after Flask has logged its traceback (and
    # still propagates under TESTING, so tests see the real error).
    app.register_error_handler(HTTPException, _handle)
    app.register_error_handler(InternalServerError, _handle)
