# Avertizor. `make run` starts a demo portal; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
TEST_DATABASE_URL ?= sqlite://
RUN_ENV := AVERTIZOR_ENV=development

.PHONY: run test install install-dev translations extract-messages lint bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/activate
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/activate
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

install: $(VENV)/.runtime translations
install-dev: $(VENV)/.dev translations

# Compiled catalogues are built, not committed.
translations: $(VENV)/.runtime
	$(BIN)/pybabel compile -d translations

extract-messages: $(VENV)/.runtime
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -o translations/messages.pot .
	$(BIN)/pybabel -q update -N -i translations/messages.pot -d translations

run: install
	$(RUN_ENV) $(BIN)/flask --app wsgi db upgrade
	$(RUN_ENV) $(BIN)/flask --app wsgi demo
	@echo ""
	@echo "Avertizor is running at http://127.0.0.1:$(PORT)/  (Ctrl+C to stop)"
	@echo "Mail is written to instance/mail/ (one .eml file per message)."
	$(RUN_ENV) PORT=$(PORT) WEB_CONCURRENCY=2 $(BIN)/gunicorn -c deploy/gunicorn.conf.py wsgi:app

test: install-dev
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/pytest -q $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check app tests bench config.py wsgi.py
	$(BIN)/bandit -q -r app

bench: install-dev
	$(BIN)/python bench/submit.py

clean:
	rm -rf $(VENV) .pytest_cache
