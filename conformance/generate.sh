#!/usr/bin/env bash
# Regenerate the expected outputs of the conformance scripts.
#
#   conformance/generate.sh [--dist DIR] [--out DIR] [--jobs N] [NAME...]
#
# --dist DIR   Pyodide distribution (default: $PYODIDE_DIST)
# --out DIR    where to write NAME.stdout / NAME.stderr / NAME.status
#              (default: conformance/expected)
# --jobs N     scripts run in parallel (default: 2)
# NAME...      only these scripts (default: every conformance/scripts/*.py)
#
# Each script runs under Node + Pyodide through conformance/node/run.mjs,
# except scripts whose first line is `# reference: cpython`, which run under
# the native `python3` (override with $NATIVE_PYTHON) in a scratch directory.
# See conformance/README.md for the conventions.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dist=${PYODIDE_DIST:-}
out="$here/expected"
jobs=2
names=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dist) dist=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) names+=("${1%.py}"); shift ;;
  esac
done
[ -n "$dist" ] || { echo "generate.sh: give --dist DIR or set PYODIDE_DIST" >&2; exit 2; }
dist=$(cd "$dist" && pwd)
[ -f "$dist/pyodide.mjs" ] || { echo "generate.sh: $dist/pyodide.mjs not found" >&2; exit 2; }
mkdir -p "$out"
out=$(cd "$out" && pwd)

# The dist's npm dependencies (`ws`: without it any listen()/connect() under
# Node is a fatal "Cannot find module 'ws'"). Installed once into a cache
# directory outside the repository, never into the dist or the repo.
if [ -d "$dist/node_modules/ws" ]; then
  node_deps=""
else
  version=$(node -p "require('$dist/package.json').version" 2>/dev/null || echo unknown)
  node_deps=${PYODIDE_NODE_DEPS:-${XDG_CACHE_HOME:-$HOME/.cache}/pyodide-test/node-deps/pyodide-$version}
  if [ ! -d "$node_deps/node_modules/ws" ] && [ -f "$dist/package.json" ]; then
    deps=$(node -e "const p=require('$dist/package.json');console.log(Object.entries(p.dependencies||{}).map(([k,v])=>k+'@'+v).join(' '))")
    echo "installing the dist's npm dependencies ($deps) into $node_deps" >&2
    mkdir -p "$node_deps"
    # shellcheck disable=SC2086
    npm install --prefix "$node_deps" --no-save --no-package-lock --omit=dev --no-audit --no-fund $deps >&2
  fi
fi

if [ ${#names[@]} -eq 0 ]; then
  for f in "$here"/scripts/*.py; do names+=("$(basename "$f" .py)"); done
fi

run_one() {
  local name=$1 script="$here/scripts/$1.py" args=() stdin=/dev/null status=0
  [ -f "$script" ] || { echo "no such script: $script" >&2; return 1; }
  if [ -f "$here/scripts/$name.cmd" ]; then
    mapfile -t args < "$here/scripts/$name.cmd"
  else
    args=("$name.py")
    [ -f "$here/scripts/$name.args" ] && mapfile -t -O 1 args < "$here/scripts/$name.args"
  fi
  [ -f "$here/scripts/$name.stdin" ] && stdin="$here/scripts/$name.stdin"
  if head -n1 "$script" | grep -q '^# reference: cpython'; then
    local scratch
    scratch=$(mktemp -d)
    cp "$script" "$scratch/$name.py"
    (cd "$scratch" && HOME="$scratch" timeout 600 "${NATIVE_PYTHON:-python3}" "${args[@]}" \
        < "$stdin" > "$out/$name.stdout" 2> "$out/$name.stderr") || status=$?
    rm -rf "$scratch"
  else
    timeout 600 node "$here/node/run.mjs" --dist "$dist" ${node_deps:+--node-deps "$node_deps"} \
        --put "$script=/home/pyodide/$name.py" -- "${args[@]}" \
        < "$stdin" > "$out/$name.stdout" 2> "$out/$name.stderr" || status=$?
  fi
  echo "$status" > "$out/$name.status"
  printf '%-28s status %s\n' "$name" "$status"
}
export -f run_one
export here out dist node_deps

printf '%s\n' "${names[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one "$@"' _ {}
