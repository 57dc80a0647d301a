"""Numbers in the reader's locale: a decimal comma in Romanian, a point in English."""
from flask import render_template_string
from flask_babel import force_locale

from app.stats.numbers import decimal, file_size, percent


def test_numbers_follow_the_locale(app):
    with app.test_request_context("/"):
        with force_locale("ro"):
            assert percent(100.0) == "100,0\xa0%"
            assert percent(66.7) == "66,7\xa0%"
            assert file_size(1843) == "1,8\xa0kB"
            assert file_size(77) == "77\xa0B"
            assert decimal(1234, 0) == "1.234"
            assert decimal(2.5, 1, signed=True) == "+2,5"
            # Every page's filesizeformat is the localised one (Jinja's writes "1.8 kB").
            assert render_template_string("{{ 1843|filesizeformat }}") == "1,8\xa0kB"
        with force_locale("en"):
            assert percent(100.0) == "100.0\xa0%"
            assert file_size(1843) == "1.8\xa0kB"
            assert decimal(None) == "—"
