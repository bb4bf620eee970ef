# Shared by scripts/demo and scripts/test: find Python 3.12+, make .venv, install the project.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

find_python() {
  for candidate in "${YUNDIAN_PYTHON:-}" python3.12 python3.13 \
      "$HOME"/.pyenv/versions/3.12*/bin/python "$HOME"/.pyenv/versions/3.13*/bin/python \
      /usr/bin/python3.12 /usr/bin/python3.13 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(0 if (3,12) <= sys.version_info[:2] < (3,14) else 1)' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  echo "Yundian needs Python 3.12 or 3.13 (set YUNDIAN_PYTHON=/path/to/python3.12)" >&2
  return 1
}

ensure_venv() {
  local extras="$1"
  if [ ! -x .venv/bin/python ]; then
    "$(find_python)" -m venv .venv
  fi
  local stamp=".venv/.installed-$extras"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".[$extras]"
    touch "$stamp"
  fi
  export PATH="$ROOT/.venv/bin:$PATH"
  ensure_static
}

# Browser libraries (ECharts, the journey canvas's drawflow) from the npm registry at the versions package-lock.json pins: `npm ci` when the lock
# changed, then the built file is copied into a gitignored static folder the pages load it from. Without node the
# pages still work: each chart shows its table instead (under CI=true a missing npm is an error).
VENDOR_FILES=("node_modules/echarts/dist/echarts.min.js:yundian/core/static/vendor/echarts/echarts.min.js"
              "node_modules/drawflow/dist/drawflow.min.js:yundian/core/static/vendor/drawflow/drawflow.min.js"
              "node_modules/drawflow/dist/drawflow.min.css:yundian/core/static/vendor/drawflow/drawflow.min.css")
ensure_static() {
  if ! command -v npm >/dev/null 2>&1; then
    if [ "${CI:-}" = "true" ]; then echo "CI needs node and npm (apt-get install nodejs npm)" >&2; return 1; fi
    echo "note: npm not found; charts will show as tables (install node 20 and npm)" >&2
    return 0
  fi
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
    touch node_modules/.package-lock.json
  fi
  local pair source target
  for pair in "${VENDOR_FILES[@]}"; do
    source="${pair%%:*}"; target="${pair#*:}"
    if ! cmp -s "$source" "$target"; then
      mkdir -p "$(dirname "$target")"
      cp "$source" "$target"
    fi
  done
}
