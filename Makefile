# openMosix for Linux 7.3.
#   make demo   build everything, boot a 4-node cluster, configure it as rc.local would
#   make test   every test: host unit tests, module lint (CLIPPY=1), VM tests
#   make bench  benchmarks (programs that print figures): gossip and placement simulations,
#               gossip propagation, migration and load balancing on real clusters
#   make torture  the long migration torture run (5000 moves; `make test` runs a short one):
#               TORTURE_JOBS, _DRIVERS, _ROUNDS, _MOVES, _MAX_S, _RMMODS
# Everything installs itself (scripts/setup-host.sh) and caches under ~/.cache/mosix.

SHELL := /bin/bash
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
BUILD := $(ROOT)/build
CARGO ?= cargo
TOOLS := setpe mosctl mosmon mps migrate mosrun mosix-adopt
MOSRUN_WRAPPERS := nomig runhome runon cpujob iojob nodecay slowdecay fastdecay
TOOL_BINS := $(addprefix $(ROOT)/target/release/,$(TOOLS))
STATIC_TOOLS := migrate mosix-adopt

PROGS_DIR := $(BUILD)/progs

.PHONY: all setup kernel module tools progs images demo test test-host test-lint test-vm bench torture clean help

all: images

help:
	@sed -n '2,8p' Makefile

setup:
	@$(ROOT)/scripts/setup-host.sh

# The kernel build directory (cached); build/kdir points at it.
kernel: setup
	@mkdir -p $(BUILD)
	@kb=$$($(ROOT)/scripts/build-kernel.sh) && ln -sfn "$$kb" $(BUILD)/kdir && \
	  ln -sfn "$$kb/arch/x86/boot/bzImage" $(BUILD)/bzImage

module: kernel
	@$(ROOT)/scripts/make-module.sh

tools: setup
	@$(CARGO) build --release --locked -p mosix-tools
	@# The tools a migration runs (the target starts the adopter helper for every migrant)
	@# are linked statically: no dynamic loading on the migration's path.
	@for b in $(STATIC_TOOLS); do $(CARGO) rustc --release --locked -q -p mosix-tools --bin $$b -- -C target-feature=+crt-static || exit 1; done

progs: setup
	@$(MAKE) -s -C $(ROOT)/tests/progs OUT=$(PROGS_DIR)
	@$(CARGO) build --release --locked -p mosix-bench --bin gossip-forge
	@install -m 755 $(ROOT)/target/release/gossip-forge $(PROGS_DIR)/

images: module tools progs
	@$(ROOT)/scripts/mkimage --out $(BUILD)/initramfs.cpio.gz --module $(ROOT)/module/mosix.ko \
	  $(addprefix --bin ,$(TOOL_BINS)) $(foreach w,$(MOSRUN_WRAPPERS),--alias $(w)=mosrun) --progs $(PROGS_DIR)

demo: images
	@$(ROOT)/scripts/cluster --nodes 4 --cpus 1 --grouped --run $(ROOT)/scripts/demo.sh --add $(ROOT)/tests/vm/lib.sh

test: test-host test-lint test-vm

test-host: setup
	@$(CARGO) clippy --locked --workspace --all-targets -- -D warnings
	@$(CARGO) test --locked --workspace

test-lint: kernel
	@$(ROOT)/scripts/make-module.sh --clippy

test-vm: images
	@$(ROOT)/tests/vm/run-all.sh

# Benchmarks print figures; they are not pass/fail tests.
bench: images
	@$(CARGO) build --release --locked -p mosix-bench
	@$(ROOT)/target/release/gossip-sim --png $(BUILD)/gossip-sim.png
	@$(ROOT)/target/release/placement-sim --png $(BUILD)/placement-sim.png
	@$(ROOT)/bench/gossip-vm
	@$(ROOT)/bench/migration-vm
	@$(ROOT)/bench/balance-vm

# The long torture run: 4 jobs moved by 2 loops on node 1, by expel on node 2, by rmmod on
# node 3 and by the balancers, until they have made 5000 moves (31 minutes under TCG on 2 host
# cores, measured on 2503d95: 5001 moves, 0 wrong results).
TORTURE_JOBS ?= 4
TORTURE_DRIVERS ?= 2
TORTURE_ROUNDS ?= 20000
TORTURE_MOVES ?= 5000
TORTURE_MAX_S ?= 12000
TORTURE_RMMODS ?= 20
torture: images
	@mkdir -p $(BUILD)/torture
	@printf 'JOBS=%s\nDRIVERS=%s\nROUNDS=%s\nMOVES=%s\nMAX_S=%s\nRMMODS=%s\n' $(TORTURE_JOBS) \
	  $(TORTURE_DRIVERS) $(TORTURE_ROUNDS) $(TORTURE_MOVES) $(TORTURE_MAX_S) $(TORTURE_RMMODS) \
	  > $(BUILD)/torture/torture.conf
	@$(ROOT)/scripts/cluster --nodes 3 --timeout 14400 --run $(ROOT)/tests/vm/t-torture.sh \
	  --add $(ROOT)/tests/vm/lib.sh --add $(BUILD)/torture/torture.conf

clean:
	@if [ -d $(BUILD)/kdir ]; then $(MAKE) -C $(BUILD)/kdir M=$(ROOT) clean; fi
	@$(CARGO) clean
	@rm -rf $(BUILD)
