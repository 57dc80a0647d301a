# Avertizor. `make run` starts a demo portal; `make test` runs the whole suite (browser and
# gunicorn tests included); `make test-fast` is the edit loop: no browser, no gunicorn, and
# property-based (Hypothesis) tests with a tenth of their examples.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
TEST_DATABASE_URL ?= sqlite://
RUN_ENV := AVERTIZOR_ENV=development

# The demo checkout marks itself (instance/avertizor.env, read by config.py when AVERTIZOR_ENV
# is unset), so that the README's `flask --app wsgi …` commands run in development mode here.
.PHONY: run demo-env test test-fast install install-dev translations extract-messages lint bench clean

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

demo-env:
	@mkdir -p -m 700 instance
	@(umask 077; printf 'AVERTIZOR_ENV=development\nPORT=%s\n' "$(PORT)" > instance/avertizor.env)

run: install demo-env
	$(RUN_ENV) $(BIN)/flask --app wsgi db upgrade
	$(RUN_ENV) $(BIN)/flask --app wsgi demo
	@echo ""
	@echo "Avertizor is running at http://127.0.0.1:$(PORT)/  (Ctrl+C to stop)"
	@echo "Mail is written to instance/mail/ (one .eml file per message)."
	$(RUN_ENV) PORT=$(PORT) WEB_CONCURRENCY=2 $(BIN)/gunicorn -c deploy/gunicorn.conf.py wsgi:app

test: install-dev
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/pytest -q $(PYTEST_ARGS)

test-fast: install-dev
	HOSTILE_EXAMPLES_SCALE=0.1 TEST_DATABASE_URL=$(TEST_DATABASE_URL) \
		$(BIN)/pytest -q -m "not browser and not server" $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check app tests bench config.py wsgi.py
	$(BIN)/bandit -q -r app
	$(BIN)/mypy

bench: install-dev
	$(BIN)/python bench/submit.py

clean:
	rm -rf $(VENV) .pytest_cache
