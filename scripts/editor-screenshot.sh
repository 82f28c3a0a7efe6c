#!/usr/bin/env bash
# Take docs/editor.png: the editor on examples/flags.json under Xvfb, with
# the `new-checkout` flag selected (by clicking, like a person) and its
# production tab open. Needs no display; installs what it needs with apt.
#
# Usage: scripts/editor-screenshot.sh [OUT.png]
set -euo pipefail

cd "$(dirname "$0")/.."
out="${1:-docs/editor.png}"

need=()
command -v xvfb-run >/dev/null || need+=(xvfb)
command -v import >/dev/null || need+=(imagemagick)
command -v xdotool >/dev/null || need+=(xdotool)
dpkg -s libxkbcommon-x11-0 >/dev/null 2>&1 || need+=(libxkbcommon-x11-0)
if ((${#need[@]})); then
    sudo_=""
    [[ $(id -u) == 0 ]] || sudo_="sudo"
    $sudo_ apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq "${need[@]}"
fi

cargo build --release -p burgee-editor
bin="$PWD/target/release/burgee-editor"

# A copy, so nothing can touch the example.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp examples/flags.json "$work/flags.json"
mkdir -p "$(dirname "$out")"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac

# Runs inside the virtual display: start the editor, click, shoot.
cat >"$work/shoot.sh" <<'INNER'
#!/usr/bin/env bash
set -euo pipefail
bin="$1" file="$2" out="$3"
"$bin" "$file" &
pid=$!
# Wait for the window.
for _ in $(seq 1 100); do
    xdotool search --name "Burgee editor" >/dev/null 2>&1 && break
    sleep 0.1
done
sleep 2
click() { # x y: press and release slowly (a fast click can be dropped)
    xdotool mousemove --sync "$1" "$2"
    sleep 0.2
    xdotool mousedown 1
    sleep 0.15
    xdotool mouseup 1
    sleep 0.6
}
click "${FLAG_X:-60}" "${FLAG_Y:-210}"   # `new-checkout` in the flag list
click "${ENV_X:-530}" "${ENV_Y:-273}"    # the production tab
xdotool mousemove --sync 0 899           # no hover tooltip in the picture
sleep 1.5
import -window root "$out"
kill "$pid"
wait "$pid" 2>/dev/null || true
INNER
chmod +x "$work/shoot.sh"

XDG_RUNTIME_DIR="$work" xvfb-run -a -s "-screen 0 1400x900x24" "$work/shoot.sh" "$bin" "$work/flags.json" "$out"
echo "wrote $out"
