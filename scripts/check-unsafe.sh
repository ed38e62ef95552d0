#!/bin/sh
# The module's `unsafe` lives in module/sys/ and module/net/ (the raw calls and the C→Rust
# entry points). Elsewhere the only `unsafe` allowed is the kernel's `global_lock!` pattern: an
# `unsafe(uninit) static` mutex, the `unsafe fn` that initialises it once, that call, and the
# module initialiser's calls of those functions. Anything else fails `make test-lint`.
set -eu
cd "$(dirname "$0")/.."
bad=$(grep -rnE --include='*.rs' '\bunsafe\b' module \
  | grep -vE '^module/(sys|net)(/|\.rs:)' \
  | grep -vE '^[^:]+:[0-9]+:[[:space:]]*//' \
  | grep -vE ':[[:space:]]*(pub\(crate\) )?unsafe\(uninit\) static [A-Z_]+: Mutex<' \
  | grep -vE ':[[:space:]]*(pub\(crate\) )?unsafe fn (init|init_lock|init_globals)\(\) \{$' \
  | grep -vE ':[[:space:]]*unsafe \{ [A-Z_]+\.init\(\) \};$' \
  | grep -vE '^module/mosix_main\.rs:[0-9]+:[[:space:]]*unsafe \{ ([a-z_]+::)*(init|init_lock|init_globals)\(\) \};$' \
  || true)
if [ -n "$bad" ]; then
  echo "check-unsafe: unsafe outside module/sys/ and module/net/ (only the global_lock! pattern may be):" >&2
  echo "$bad" >&2
  exit 1
fi
echo "check-unsafe: unsafe only in module/sys/ and module/net/ (and the global_lock! inits)"
