#!/usr/bin/env bash
# Take the editor's pictures under Xvfb, clicking and typing like a person:
#   docs/editor.png                    examples/flags.json, `new-checkout` in production
#   docs/editor-changed-on-disk.png    an unsaved edit, then someone else saves the file: Save shows both
#   docs/editor-save-review.png        after the merge: what saving changes, and who moves
# Needs no display; installs what it needs with apt.
#
# Usage: scripts/editor-screenshot.sh [OUT.png]   (the other two go beside OUT)
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
# Its own home: the recent-files list of whoever runs this stays as it was.
HOME="$(dirname "$file")" "$bin" "$file" &
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
key() { # keys go to the window only when it has the focus (Xvfb has no window manager)
    xdotool windowfocus --sync "$(xdotool search --name "Burgee editor" | head -1)"
    xdotool key "$@"
    sleep 0.8
}
shoot() { # out.png
    xdotool mousemove --sync 1399 899    # no hover tooltip in the picture
    sleep 1.5
    import -window root "$1"
}
click 60 213     # `new-checkout` in the flag list
click 538 280    # the production tab
shoot "$out"
click 276 303    # "Enabled in production": an unsaved edit
python3 - "$file" <<'EDIT'
import json, sys
path = sys.argv[1]
data = json.load(open(path))
data["flags"]["dark-mode"]["description"] = "Dark theme, now for everyone on the web app"
data["flags"]["new-checkout"]["environments"]["staging"]["enabled"] = False
open(path, "w").write(json.dumps(data, indent=2) + "\n")
EDIT
sleep 2          # the editor notices within a second
key ctrl+s
shoot "${out%.png}-changed-on-disk.png"
key Return       # merge, then the review
sleep 1.5        # the sample users who move are counted
shoot "${out%.png}-save-review.png"
kill "$pid"
wait "$pid" 2>/dev/null || true
INNER
chmod +x "$work/shoot.sh"

XDG_RUNTIME_DIR="$work" xvfb-run -a -s "-screen 0 1400x900x24" "$work/shoot.sh" "$bin" "$work/flags.json" "$out"
echo "wrote $out, ${out%.png}-changed-on-disk.png, ${out%.png}-save-review.png"
