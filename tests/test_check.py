"""`flask check` names what an operator left misconfigured."""
import pytest


def run_check(app, monkeypatch, environment):
    monkeypatch.setenv("AVERTIZOR_ENV", environment)
    return app.test_cli_runner().invoke(args=["check"])


@pytest.mark.parametrize("app_config", [{
    "SECRET_KEY": "short", "SESSION_COOKIE_SECURE": False, "KDF_MEMORY_KIB": 1024,
    "PUBLIC_URL": "http://portal.example", "MAIL_SERVER": "localhost"}], indirect=True)
def test_check_reports_each_misconfiguration(app, monkeypatch):
    result = run_check(app, monkeypatch, "production")
    assert result.exit_code == 1
    for expected in ("SECRET_KEY is missing or shorter", "Cookies are not marked Secure",
                     "below the minimum", "MAIL_SERVER is unset", "PUBLIC_URL is not https",
                     "Rate limits are kept in memory"):
        assert expected in result.output
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        assert "Production runs on SQLite" in result.output


@pytest.mark.parametrize("app_config", [{
    "SECRET_KEY": "x" * 48, "SESSION_COOKIE_SECURE": True, "KDF_MEMORY_KIB": 65536,
    "PUBLIC_URL": "https://avertizor.baltati.ro", "MAIL_SERVER": "smtp.baltati.ro",
    "MAIL_DEFAULT_SENDER": "avertizor@baltati.ro", "RATELIMIT_STORAGE_URI": "redis://127.0.0.1",
    "PROXY_FIX_HOPS": 1}], indirect=True)
def test_a_sound_configuration_passes(app, monkeypatch):
    result = run_check(app, monkeypatch, "production")
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        assert result.exit_code == 1 and result.output.count("ERROR") == 1
        assert "Production runs on SQLite" in result.output
    else:
        assert result.exit_code == 0, result.output
        assert "No problems found." in result.output


@pytest.mark.parametrize("app_config", [{"UPLOAD_FOLDER": "/nonexistent/avertizor"}],
                         indirect=True)
def test_missing_upload_folder_is_an_error(app, monkeypatch):
    result = run_check(app, monkeypatch, "development")
    assert result.exit_code == 1 and "upload folder" in result.output
