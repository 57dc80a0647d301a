"""Language choice: `?lang=ro|en` on any page is remembered in the session."""
from flask import Flask, request, session
from flask_babel import get_locale, refresh

from . import SUPPORTED_LANGUAGES, labels


def meeting_ways() -> dict:
    from .services.casework.meetings import WAYS  # services import the app's extensions

    return WAYS


def register(app: Flask) -> None:
    @app.before_request
    def remember_language():
        chosen = request.args.get("lang")
        if chosen in SUPPORTED_LANGUAGES:
            session["lang"] = chosen
            refresh()  # forget a locale resolved earlier in this context

    app.jinja_env.filters["role_label"] = lambda role: str(labels.ROLE.get(role, role))

    @app.context_processor
    def language():
        return {
            "current_language": str(get_locale()),
            "languages": SUPPORTED_LANGUAGES,
            "category_label": labels.CATEGORY.get,
            "status_label": labels.STATUS_FOR_REPORTER.get,
            "status_name": labels.STATUS.get,
            "channel_label": labels.CHANNEL.get,
            "platform_label": labels.PLATFORM.get,
            "regime_label": labels.REGIME.get,
            "outcome_label": labels.OUTCOME.get,
            "deadline_label": labels.DEADLINE.get,
            "event_label": lambda kind: labels.EVENT.get(kind, kind),
            "identity_policy_label": labels.IDENTITY_POLICY.get,
            "request_status_label": labels.REQUEST_STATUS.get,
            "session_stage_label": labels.SESSION_STAGE.get,
            "meeting_way_label": lambda way: meeting_ways().get(way, way),
        }
