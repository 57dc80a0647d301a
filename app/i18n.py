"""Language choice: `?lang=ro|en` on any page is remembered in the session."""
from flask import Flask, request, session
from flask_babel import get_locale, refresh

from . import SUPPORTED_LANGUAGES
from .labels import CATEGORY, STATUS_FOR_REPORTER


def register(app: Flask) -> None:
    @app.before_request
    def remember_language():
        chosen = request.args.get("lang")
        if chosen in SUPPORTED_LANGUAGES:
            session["lang"] = chosen
            refresh()  # forget a locale resolved earlier in this context

    @app.context_processor
    def language():
        return {
            "current_language": str(get_locale()),
            "languages": SUPPORTED_LANGUAGES,
            "category_label": CATEGORY.get,
            "status_label": STATUS_FOR_REPORTER.get,
        }
