# openMosix for Linux 7.3.
#   make demo   build everything, boot a 4-node cluster, configure it as rc.local would
#   make test   every test: host unit tests, module lint (CLIPPY=1), VM tests
#   make bench  benchmarks (programs that print figures): gossip and placement simulations,
#               gossip propagation, migration and load balancing on real clusters
#   make torture  the long migration torture run (5000 moves; `make test` runs a short one):
#               TORTURE_JOBS, _DRIVERS, _ROUNDS, _MOVES, _MAX_S, _RMMODS
#   make deb    Debian 13 packages (build/deb): mosix-tools, mosix-modules-RELEASE
#   make install  install here or under DESTDIR (MOSIX_STOCK_RELEASE: which stock kernel)
# Everything installs itself (scripts/setup-host.sh) and caches under ~/.cache/mosix.
# Guests run Debian 13's stock kernel (build/stock) unless MOSIX_KERNEL=debug (build/debug).

SHELL := /bin/bash
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
BUILD := $(ROOT)/build
CARGO ?= cargo
TOOLS := setpe mosctl mosmon mps migrate mosrun mosix-adopt
MOSRUN_WRAPPERS := nomig runhome runon cpujob iojob nodecay slowdecay fastdecay
TOOL_BINS := $(addprefix $(ROOT)/target/release/,$(TOOLS))
STATIC_TOOLS := migrate mosix-adopt

PROGS_DIR := $(BUILD)/progs
STOCK := $(BUILD)/stock
DEBUG := $(BUILD)/debug

.PHONY: all setup kernel stock-kernel stock-module module docs install install-tools install-module deb tools progs images demo test test-host test-lint test-vm test-deb bench torture clean help

all: images

help:
	@sed -n '2,12p' Makefile

setup:
	@$(ROOT)/scripts/setup-host.sh

# Two kernels, one module source (README: "Two kernels"):
#   build/stock/  Debian 13's stock kernel (vmlinuz, the virtio-net modules a guest loads),
#                 mosix.ko built in a Debian 13 root with Debian's own toolchain, the image
#   build/debug/  the project's debug kernel (kdir: its build directory), mosix.ko, the image
# The debug kernel, built here (cached).
kernel: setup
	@mkdir -p $(DEBUG)
	@kb=$$($(ROOT)/scripts/build-kernel.sh) && ln -sfn "$$kb" $(DEBUG)/kdir && \
	  ln -sfn "$$kb/arch/x86/boot/bzImage" $(DEBUG)/vmlinuz

# The stock kernel: its Debian 13 build root and prepared tree, and the guest's kernel image.
stock-kernel: setup
	@$(ROOT)/scripts/debian13.sh kernel > /dev/null
	@g=$$($(ROOT)/scripts/debian13.sh guest) && mkdir -p $(STOCK) && \
	  ln -sfn "$$g/vmlinuz" $(STOCK)/vmlinuz && ln -sfn "$$g/kmods" $(STOCK)/kmods

module: kernel stock-module
	@$(ROOT)/scripts/make-module.sh && install -m 644 $(ROOT)/module/mosix.ko $(DEBUG)/mosix.ko

tools: setup
	@$(CARGO) build --release --locked -p mosix-tools
	@# The tools a migration runs (the target starts the adopter helper for every migrant)
	@# are linked statically: no dynamic loading on the migration's path.
	@for b in $(STATIC_TOOLS); do $(CARGO) rustc --release --locked -q -p mosix-tools --bin $$b -- -C target-feature=+crt-static || exit 1; done

progs: setup
	@$(MAKE) -s -C $(ROOT)/tests/progs OUT=$(PROGS_DIR)
	@$(CARGO) build --release --locked -p mosix-bench --bin gossip-forge
	@install -m 755 $(ROOT)/target/release/gossip-forge $(PROGS_DIR)/

IMAGE_ARGS = $(addprefix --bin ,$(TOOL_BINS)) $(foreach w,$(MOSRUN_WRAPPERS),--alias $(w)=mosrun) --progs $(PROGS_DIR)
images: module tools progs
	@$(ROOT)/scripts/mkimage --out $(STOCK)/initramfs.cpio.gz --module $(STOCK)/mosix.ko $(IMAGE_ARGS) \
	  $$(sed 's|^|--kmod $(STOCK)/kmods/|' $(STOCK)/kmods/order)
	@$(ROOT)/scripts/mkimage --out $(DEBUG)/initramfs.cpio.gz --module $(DEBUG)/mosix.ko $(IMAGE_ARGS)

# Man pages and shell completions, generated from the tools' own clap definitions.
docs: tools
	@$(CARGO) build --release --locked -p mosix-tools --bin mosix-docs
	@rm -rf $(BUILD)/docs && SOURCE_DATE_EPOCH=$$(git -C $(ROOT) log -1 --format=%ct 2> /dev/null || date +%s) \
	  $(ROOT)/target/release/mosix-docs --out $(BUILD)/docs > /dev/null

# Install on this machine (or under DESTDIR): tools, man pages, completions, mosix.service,
# and mosix.ko for the stock kernel MOSIX_STOCK_RELEASE (scripts/install.sh says where).
install: install-tools install-module
install-tools: tools docs
	@$(ROOT)/scripts/install.sh tools
install-module: stock-module
	@$(ROOT)/scripts/install.sh module
stock-module: stock-kernel
	@$(ROOT)/scripts/debian13.sh module $(STOCK)/mosix.ko

# Debian 13 packages in build/deb: mosix-tools and mosix-modules-RELEASE (scripts/mkdeb.sh).
deb: tools docs stock-module
	@$(ROOT)/scripts/mkdeb.sh $(BUILD)/deb

# Ends with a verdict line; exits non-zero if any step on any node failed.
demo: images
	@if $(ROOT)/scripts/cluster --nodes 4 --cpus 1 --grouped --run $(ROOT)/scripts/demo.sh --add $(ROOT)/tests/vm/lib.sh; \
	then echo "demo: PASS (jobs spread by the balancer, right results, forwarded file writes, clean unload)"; \
	else echo "demo: FAIL (the failed steps are marked FAIL above)"; exit 1; fi

test: test-host test-lint test-vm test-deb

# Formatting is checked too: the workspace with cargo fmt, the module (which includes the core
# through #[path]) with the kernel's own rustfmt settings (edition 2021, default widths).
test-host: setup
	@$(CARGO) fmt --all --check
	@rustfmt --edition 2021 --check $(ROOT)/module/mosix_main.rs
	@$(CARGO) clippy --locked --workspace --all-targets -- -D warnings
	@$(CARGO) test --locked --workspace

# The lint gate holds on both kernels (their rustc and clippy differ: 1.85 for stock).
test-lint: kernel stock-kernel
	@$(ROOT)/scripts/check-unsafe.sh
	@$(ROOT)/scripts/make-module.sh --clippy
	@$(ROOT)/scripts/debian13.sh module --clippy $(STOCK)/mosix.ko

test-vm: images
	@$(ROOT)/tests/vm/run-all.sh

# The packages on two Debian 13 nodes (systemd as init, stock kernel): tests/deb/run.sh.
test-deb: deb stock-kernel progs
	@$(ROOT)/tests/deb/run.sh

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
	@if [ -d $(DEBUG)/kdir ]; then $(MAKE) -C $(DEBUG)/kdir M=$(ROOT) clean; fi
	@$(CARGO) clean
	@rm -rf $(BUILD)
