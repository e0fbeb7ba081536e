# Den Digitale Hotline citizen assistant.
#
#   make run       install, train if needed, start everything (embedded default)
#   make test      install, train if needed, run every test
#
# Other targets: setup, validate, train, knowledge, knowledge-export, knowledge-import, evaluate, bench, lock, clean.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# Rasa 3.6 needs Python < 3.11: use a 3.10 interpreter from PATH or pyenv.
PYTHON310 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.10*/bin/python3.10) $(shell command -v python3.10))
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
MODEL := models/ddh.tar.gz
# What the trained model depends on (not the server, actions or tooling).
TRAINING_INPUTS := config.yml domain.yml $(shell find data rasa_addons/nlu rasa_addons/core -name "*.yml" -o -name "*.py" 2>/dev/null) rasa_addons/text.py rasa_addons/languages.py

export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PYTHONPATH := $(CURDIR)

.PHONY: help
help:
	@sed -n '2,9p' Makefile | sed 's/^# \{0,1\}//'

# ---------------------------------------------------------------- install

$(VENV)/.installed: requirements/rasa.txt requirements/installer.txt
	@test -n "$(PYTHON310)" || { echo "Python 3.10 is required (set PYTHON310=/path/to/python3.10)"; exit 1; }
	test -x $(PY) || $(PYTHON310) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==24.2
	$(PY) -m pip install --quiet -r requirements/installer.txt
	$(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(PY) -r requirements/rasa.txt
	touch $@

# The assistant's environment installs side by side with the bridge's and the
# sandbox's (those two one after the other: both install ../ddh_privacy).
.PHONY: setup setup-services
setup:
	@$(MAKE) --no-print-directory -j2 $(VENV)/.installed setup-services

setup-services:
	$(MAKE) -C handoff setup
	$(MAKE) -C sandbox setup

.PHONY: lock
lock: $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements/rasa.in
	$(PY) -m pip freeze --exclude-editable > requirements/rasa.txt

# ---------------------------------------------------------------- model

.PHONY: validate
validate: $(VENV)/.installed
	$(RASA) data validate --fail-on-warnings --quiet
	$(PY) -m rasa_addons.knowledge validate

# The knowledge base (knowledge/) is published to var/knowledge, not trained
# into the model: the running assistant picks a new publication up by itself.
# A publication an editor made in the bridge stays live while it is newer than
# the files (docs/knowledge-base.md, "Editing in the bridge or in git").
.PHONY: knowledge
knowledge: $(VENV)/.installed
	$(PY) -m rasa_addons.knowledge ensure

# Between the files and the bridge's content store (the editors' work):
# export writes the bridge's published content to knowledge/; import makes the
# files the bridge's content and the live publication.
.PHONY: knowledge-export knowledge-import
knowledge-export: $(VENV)/.installed
	cd handoff && HANDOFF_ENV=development .venv/bin/python -m handoff_bridge knowledge-export --to ../knowledge
knowledge-import: $(VENV)/.installed
	cd handoff && HANDOFF_ENV=development .venv/bin/python -m handoff_bridge knowledge-import --from ../knowledge

# Training signs the model; servers load only models with a valid signature.
$(MODEL): $(VENV)/.installed $(TRAINING_INPUTS)
	$(RASA) train --fixed-model-name ddh --out models --quiet
	$(PY) -m rasa_addons.model_signature sign $(MODEL)

.PHONY: train
train: $(MODEL) knowledge

.PHONY: evaluate
evaluate: $(MODEL) knowledge
	$(PY) scripts/evaluate.py --model $(MODEL) --out reports

# ---------------------------------------------------------------- tests

# Validation and training start as soon as the assistant's environment is
# installed, while the bridge's and the sandbox's still install; the sandbox's
# tests (light, and bound by no wall clock) run beside the training, which
# leaves part of a core idle. The knowledge base is published after training
# (both embed on every core).
.PHONY: test test-sandbox
test:
	@$(MAKE) --no-print-directory -j3 setup-services validate $(MODEL) test-sandbox
	@$(MAKE) --no-print-directory knowledge
	$(PY) -m pytest tests -n 2 --dist loadgroup -p no:cacheprovider
	$(MAKE) -C handoff test

# After setup-services: the sandbox's environment is installed there, never by two makes at once.
test-sandbox: setup-services
	$(MAKE) -C sandbox test

# ---------------------------------------------------------------- run

# Rasa instances (each with its own action server). The embedded default
# (SQLite tracker store, in-process lock store) runs one: SQLite cannot be
# shared by several processes. With RASA_ENDPOINTS=deploy/production/endpoints.yml
# (PostgreSQL and Redis: RASA_DB_*, REDIS_* in var/local.env) one per core,
# or RASA_INSTANCES=N.
RASA_ENDPOINTS ?= endpoints.yml
RASA_INSTANCES ?=

.PHONY: run
run: setup $(MODEL) knowledge
	@scripts/local_env.sh > /dev/null
	$(PY) scripts/procfile.py --endpoints $(RASA_ENDPOINTS) $(if $(RASA_INSTANCES),--instances $(RASA_INSTANCES)) > var/Procfile
	$(VENV)/bin/honcho --env var/local.env --procfile var/Procfile --app-root $(CURDIR) start

.PHONY: bench
bench: $(MODEL) knowledge
	$(PY) bench/knowledge_retrieval.py
	$(PY) bench/nlu_accuracy.py
	$(PY) bench/rasa_latency.py

.PHONY: clean
clean:
	rm -rf models reports var .pytest_cache
