# Single entry point for users and CI. Every target does its own set-up on a fresh machine.
SHELL := /bin/bash
PY := .venv/bin/python
export PYTHONPATH := $(CURDIR)

.PHONY: help setup up down status logs restart env demo test lint typecheck unit lock clean-state bench-backfill reproduce bench-training bench-serving rollback rollback-data test-faults calibrate-monitoring bench-monitoring ui docs-screenshots bench bench-readme bench-data-scale images compose-up compose-down compose-status test-containers bento-image

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s "$$(printf '\t')"

setup: ## Install PostgreSQL, the virtualenv and lakeFS (skips what is there)
	@bash scripts/setup.sh

up: setup ## Start PostgreSQL, lakeFS, MLflow, alert sink, Airflow under supervisord (running ones kept); print URLs
	@$(PY) scripts/stack.py up

down: ## Stop everything through supervisord, then check no process or port of the stack is left
	@if [ -x $(PY) ]; then $(PY) scripts/stack.py down; else echo "nothing to stop (no .venv)"; fi

status: ## supervisord's state of each server plus its health check
	@$(PY) scripts/stack.py status

logs: ## A server's log: make logs SERVER=<program> [N=100] [FOLLOW=1]
	@$(PY) scripts/stack.py logs $(SERVER) -n $(or $(N),100) $(if $(FOLLOW),-f)

restart: ## Restart one server through supervisord and wait for its health: make restart SERVER=<program>
	@$(PY) scripts/stack.py restart $(SERVER)

env: ## Print export lines for lakeFS, MLflow, Airflow clients: eval "$$(make -s env)"
	@bash scripts/setup.sh
	@$(PY) scripts/stack.py env

demo: up ## The main job: run the pipeline through the real scheduler and say where to look
	@$(PY) scripts/demo.py

lint: setup ## ruff (incl. Airflow AIR3 rules)
	@.venv/bin/ruff check .

typecheck: setup ## mypy on include/ and plugins/
	@.venv/bin/mypy

test: setup lint typecheck ## Quality gates, then all test tiers (starts a separate test stack)
	@$(PY) -m pytest

test-faults: setup ## Only the fault injections (their own test stack; part of make test too)
	@$(PY) -m pytest tests/faults

unit: setup ## Only the tests that need no server
	@$(PY) -m pytest tests/unit tests/dags

ui: setup ## Only the ui tier: the Airflow UI in Chromium against a fresh test stack (screenshots: tests/ui/artifacts/)
	@$(PY) -m pytest tests/ui

docs-screenshots: setup ## Run the ui tier and copy its screenshots into docs/images/ (the operator's guide's pictures)
	@MLOPS_UI_DOCS=1 $(PY) -m pytest tests/ui

lock: ## Re-resolve requirements.lock from requirements.txt
	@.venv/bin/uv pip compile -q requirements.txt -o requirements.lock --python-version 3.11 \
	  --python-platform x86_64-unknown-linux-gnu

reproduce: setup ## Retrain an MLflow run and compare its metrics exactly: make reproduce RUN_ID=<run id>
	@if [ -z "$(RUN_ID)" ]; then echo "usage: make reproduce RUN_ID=<MLflow run id>"; exit 2; fi
	@$(PY) scripts/reproduce.py "$(RUN_ID)"

rollback-data: setup ## Roll lakeFS main back to a commit, as a new commit: make rollback-data USECASE=<name> TO=<commit> REASON="..."
	@if [ -z "$(USECASE)" ] || [ -z "$(TO)" ] || [ -z "$(REASON)" ]; then \
	  echo 'usage: make rollback-data USECASE=<name> TO=<commit of main> REASON="why"'; exit 2; fi
	@$(PY) scripts/rollback_data.py "$(USECASE)" "$(TO)" --reason "$(REASON)"

rollback: setup ## Production back to the champion's predecessor: make rollback USECASE=<name> [TO=<version>]
	@if [ -z "$(USECASE)" ]; then echo "usage: make rollback USECASE=<name> [TO=<model version>]"; exit 2; fi
	@$(PY) scripts/rollback.py "$(USECASE)" "$(TO)"

clean-state: ## Stop the dev stack and delete its state (.stack/dev): data, logs, secrets
	@if [ -x $(PY) ]; then $(PY) scripts/stack.py clean; fi

bench-training: up ## Benchmark: train_<USECASE> through the scheduler vs one Python process (prints figures)
	@$(PY) benchmarks/training.py

bench-serving: up ## Benchmark: the champion's Bento vs a bare Starlette app of the same model (make demo first)
	@$(PY) benchmarks/serving.py $(if $(USECASE),--usecase $(USECASE))

calibrate-monitoring: setup ## Monitoring thresholds and min_rows of USECASE (flights|hotels) from the real data, offline
	@PYTHONPATH=. $(PY) benchmarks/monitoring_calibration.py $(or $(USECASE),flights)

bench-monitoring: setup ## A year of flights monitoring in one process: flagged days, time per report, peak memory
	@PYTHONPATH=. $(PY) benchmarks/monitoring_year.py $(if $(STEP),--step $(STEP))

bench: up ## Every benchmark vs its baseline: one table, benchmarks/results/<date>.json, README table (QUICK=1: a few-minute subset)
	@status=0; $(PY) benchmarks/run_all.py --stack $(if $(filter-out 0,$(QUICK)),--quick) || status=$$?; \
	$(if $(filter-out 0,$(QUICK)),,$(PY) benchmarks/readme_table.py;) exit $$status

bench-readme: ## The README's performance table from a results file (RESULTS=path; default the newest full run)
	@$(PY) benchmarks/readme_table.py $(RESULTS)

bench-backfill: up ## Benchmark: full-year backfill of etl_flights through the scheduler (prints figures)
	@$(PY) benchmarks/backfill.py

bench-data-scale: setup ## Benchmark: validation + drift at 100k/1M/10M rows, arrow engine vs GX + Evidently [BASELINE_ABOVE=N skips it above N rows]
	@$(PY) benchmarks/data_scale.py $(if $(BASELINE_ABOVE),--skip-baseline-above $(BASELINE_ABOVE))

images: setup ## Container images (podman; CONTAINER_ENGINE=docker for Docker): project (Airflow, MLflow, lakeFS), PostgreSQL, Redis, nginx
	@$(PY) scripts/compose.py images

compose-up: images ## Start docker-compose.yaml (CeleryExecutor, 2 workers, lakeFS on PostgreSQL, MLflow) and wait until healthy
	@$(PY) scripts/compose.py up

compose-down: ## Remove the compose stack's containers, network and volumes; check none is left
	@if [ -x $(PY) ]; then $(PY) scripts/compose.py down; else echo "nothing to stop (no .venv)"; fi

compose-status: ## Health of each service of the compose stack
	@$(PY) scripts/compose.py status

bento-image: setup ## A Bento of the dev stack's store as an image: make bento-image BENTO=flights_delay:v1 (run: podman run -p 127.0.0.1:3000:3000 ...)
	@if [ -z "$(BENTO)" ]; then echo "usage: make bento-image BENTO=<name>:<version> [BENTOML_HOME=<store>]"; exit 2; fi
	@$(PY) scripts/bento_image.py "$(BENTO)" $(if $(BENTOML_HOME),--bentoml-home "$(BENTOML_HOME)")

test-containers: setup ## Only the containers tier: images, compose stack, ETL + training on two Celery workers, tear-down
	@$(PY) -m pytest tests/containers
