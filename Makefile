# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
STAMP  := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test lint format clean keystore translations token url acceptance
# `make run` installs the app and its server only; `make test` adds the test tools.
# Compiled catalogs, rebuilt whenever a .po file changes.
MO := $(patsubst %.po,%.mo,$(wildcard ehbox_webapp/translations/*/LC_MESSAGES/messages.po))

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[server]'
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(TEST_STAMP)

%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile -i $< -o $@ 2>/dev/null

translations: $(MO)

keystore: $(STAMP)
	$(BIN)/flask --app app ehbox sandbox-keystore

run: keystore translations
	PORT=$(PORT) $(BIN)/python app.py

# For the commands of another shell while `make run` serves (the port it serves on is
# remembered in the instance folder). Only the answer goes to standard output:
# `TOKEN=$$(make token PERSONA=dr-alice)`, `API=$$(make url)/api/v1`.
PERSONA ?= dr-alice
token:
	@test -x $(BIN)/flask || { echo "make token: run \`make run\` first" >&2; exit 2; }
	@$(BIN)/flask --app app ehbox token $(PERSONA)

url:
	@test -x $(BIN)/flask || { echo "make url: run \`make run\` first" >&2; exit 2; }
	@$(BIN)/flask --app app ehbox url

# The acceptance run (in the sandbox while `make run` serves); options in ARGS, e.g.
# ARGS='--as user --second-box INSS:79031545695:NURSE'. The report lands in instance/acceptance/.
acceptance:
	@test -x $(BIN)/flask || { echo "make acceptance: run \`make run\` first" >&2; exit 2; }
	$(BIN)/flask --app app ehbox acceptance $(or $(ARGS),--as m2m)

test: $(TEST_STAMP) translations
	$(BIN)/lint-imports
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# A real Keycloak 26 on loopback, set up as I.AM Connect's two realms (deploy/keycloak/):
# fetched once from Maven Central (checksum checked) into .cache/keycloak/. Needs Java 21+
# and Maven; KEYCLOAK_PORT (default 8180), the app's PUBLIC_URL (default http://localhost:5000).
.PHONY: keycloak
keycloak:
	$(PYTHON) deploy/keycloak/keycloak.py

# The performance budgets: one table, also written to docs/bench.json and docs/bench.png.
# `make bench-strict` (or `make bench STRICT=1`) exits non-zero when a budget is OVER;
# other options of `python -m bench.run` go in BENCH_ARGS, e.g. BENCH_ARGS='--samples 400'.
# `make bench-profile` writes where a request's time goes (docs/profile.txt, .svg).
# `make bench-compare BASE=main` measures this checkout's own cost against another
# version's (a git revision or a folder), both serving at once, calls interleaved.
.PHONY: bench bench-strict bench-profile bench-compare
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench.run $(if $(STRICT),--strict) $(BENCH_ARGS)

bench-strict:
	$(MAKE) bench STRICT=1

bench-profile: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench.profile $(PROFILE_ARGS)

BASE ?= main
bench-compare: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench.compare $(BASE) $(COMPARE_ARGS)

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(TEST_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) instance .pytest_cache
