# The two commands of the README are `make demo` and `make test`; both install
# what they need first. The npm scripts behind them work on their own too.
.PHONY: setup up down purge demo test bench typecheck lint

DEPS := node_modules/.installed

$(DEPS): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

setup: $(DEPS)
	npm run infra:setup

up: $(DEPS)
	npm run infra:up

down: $(DEPS)
	npm run infra:down

purge: $(DEPS)
	npx tsx scripts/infra.ts down --purge

demo: $(DEPS)
	npm run demo

test: $(DEPS)
	npm test

bench: $(DEPS)
	npm run bench

typecheck: $(DEPS)
	npm run typecheck

lint: $(DEPS)
	npm run lint
