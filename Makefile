# The two commands of the README are `make demo` and `make test`; both install
# what they need first. The npm scripts behind them work on their own too.
.PHONY: setup up down purge demo test bench typecheck lint

# The pinned Node.js (.node-version): the machine's own when it is of that
# major, else the one scripts/node-bootstrap.sh installs into .blackwell/tools.
NODE_HOME := $(shell scripts/node-bootstrap.sh)
ifneq ($(.SHELLSTATUS),0)
$(error the pinned Node.js could not be installed (see above))
endif
ifneq ($(NODE_HOME),)
export PATH := $(NODE_HOME)/bin:$(PATH)
# Native addons compile against this runtime's headers, not a system nodedir.
export npm_config_nodedir := $(NODE_HOME)
endif

DEPS := node_modules/.installed

$(DEPS): package.json package-lock.json .node-version
	@echo "installing the npm packages pinned in package-lock.json (better-sqlite3 compiles: about a minute)..."
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
