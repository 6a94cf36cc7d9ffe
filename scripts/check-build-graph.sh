#!/usr/bin/env bash
# Fails when the test build would compile any crate twice on the host. Build scripts and
# proc-macros get their dependencies' features resolved apart from the normal dependencies
# (cargo's resolver 2), so a crate both sides use — wasmtime, which build.rs needs to precompile
# the component — is compiled once per feature set: on a cold machine that was minutes of the
# test command. hosts/runtime/Cargo.toml aligns the two sides; this check sees them drift apart
# (a dependency update, a new crate) and names the crates. Reads cargo's unit graph: nothing
# is built. RUSTC_BOOTSTRAP lets the pinned stable cargo print it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
graph="$(mktemp)"
trap 'rm -f "$graph"' EXIT
RUSTC_BOOTSTRAP=1 cargo test --locked --workspace --no-run --unit-graph -Z unstable-options >"$graph"
python3 - "$graph" <<'PY'
import collections, json, sys
units = json.load(open(sys.argv[1]))["units"]
built = collections.defaultdict(list)
for unit in units:
    if unit["mode"] == "build":
        built[(unit["pkg_id"].split("#")[-1], unit["target"]["name"], unit["platform"] or "host")].append(unit)
twice = {key: found for key, found in built.items() if len(found) > 1}
for (package, target, platform), found in sorted(twice.items()):
    features = [set(unit["features"]) for unit in found]
    common = set.intersection(*features)
    print(f"compiled {len(found)} times: {package} ({target}, {platform}); features beyond the common ones: "
          + " | ".join(",".join(sorted(f - common)) or "(none: a dependency differs)" for f in features), file=sys.stderr)
if twice:
    print(f"check-build-graph: {len(twice)} crates are compiled more than once by the test build; align the "
          "features of build.rs's and the runtime's dependencies in hosts/runtime/Cargo.toml", file=sys.stderr)
    sys.exit(1)
print(f"check-build-graph: {len(built)} crates, each compiled once by the test build")
PY
