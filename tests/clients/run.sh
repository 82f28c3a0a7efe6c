#!/usr/bin/env bash
# Real OpenFeature clients (Python, and JavaScript server and web SDKs) against
# a real `burgee-sidecar serve`, every expectation checked against
# `burgee-sidecar eval`.
#
# Usage: tests/clients/run.sh   (from any directory)
# BURGEE_SIDECAR=path/to/burgee-sidecar uses that binary instead of building one
# (a relative path is taken from the repo root).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$(pwd)
clients=tests/clients
start=$SECONDS

if [[ -z "${BURGEE_SIDECAR:-}" ]]; then
  echo "== cargo build -p burgee-sidecar"
  cargo build -p burgee-sidecar
  BURGEE_SIDECAR=target/debug/burgee-sidecar
fi
case "$BURGEE_SIDECAR" in
  /*) ;;
  *) BURGEE_SIDECAR="$root/$BURGEE_SIDECAR" ;;
esac
if [[ ! -x "$BURGEE_SIDECAR" ]]; then
  echo "run.sh: no burgee-sidecar binary at $BURGEE_SIDECAR" >&2
  exit 1
fi
export BURGEE_SIDECAR

echo "== Python: openfeature-sdk + openfeature-provider-ofrep"
venv=$clients/python/.venv
requirements=$clients/python/requirements.txt
if [[ ! -x $venv/bin/python ]]; then
  if ! python3 -m venv "$venv"; then
    # A Debian python3 without python3-venv has no ensurepip: make the venv
    # without pip and install into it with the system's pip (pip >= 22.3).
    rm -rf "$venv"
    echo "run.sh: python3 -m venv failed; trying --without-pip and the system pip" >&2
    python3 -m venv --without-pip "$venv"
  fi
fi
pip_install() {
  if "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
    "$venv/bin/python" -m pip install --disable-pip-version-check --quiet "$@"
  elif python3 -m pip --version >/dev/null 2>&1; then
    python3 -m pip --python "$venv/bin/python" install --disable-pip-version-check --quiet "$@"
  else
    echo "run.sh: no pip for $venv: install python3-venv (or python3-pip)" >&2
    exit 1
  fi
}
# (re)install only when requirements.txt changed since the last install
stamp=$venv/.requirements.installed
if ! cmp -s "$requirements" "$stamp"; then
  pip_install -r "$requirements"
  cp "$requirements" "$stamp"
fi
"$venv/bin/python" -m pytest -p no:cacheprovider -q "$clients/python"

echo "== JavaScript: @openfeature/server-sdk + ofrep-provider, @openfeature/web-sdk + ofrep-web-provider"
(
  cd "$clients/js"
  npm ci --no-audit --no-fund --loglevel=error
  node --test ofrep.test.mjs
)

echo "== OpenFeature client tests passed in $((SECONDS - start)) s"
