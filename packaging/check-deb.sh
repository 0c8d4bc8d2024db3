#!/usr/bin/env bash
# The packaging check: builds the CPU .deb, installs it on THIS machine (run as root, e.g. in CI
# or a throw-away container), and uses it as a user would: menu entry, icon, `sd3studio` on PATH,
# one image from the installed command line, the installed studio under Xvfb. Then it installs
# the package over itself (the upgrade path), removes it, and checks that only the user's data
# is left.
#
#   packaging/check-deb.sh [--reuse]     # --reuse: install packaging/target/*.deb as it is
#
# Needs: root, apt-get, xvfb-run, xdotool, fakeroot, binutils (.ci/run installs them).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ "$(id -u)" = 0 ] || { echo "error: the packaging check installs a package: run it as root" >&2; exit 2; }
started=$(date +%s)
step() { printf '[check %4ss] %s\n' "$(( $(date +%s) - started ))" "$*"; }
fail() { echo "PACKAGING CHECK FAILED: $*" >&2; exit 1; }

if [ "${1:-}" != --reuse ]; then
  # gzip: fast to build and readable by every dpkg; releases use the default xz (smaller)
  SD3_DEB_COMPRESSION="${SD3_DEB_COMPRESSION:-gzip}" bash "$root/packaging/build-installer.sh" deb
fi
deb=$(ls "$root"/packaging/target/sd3-studio_*.deb)
step "package: $(basename "$deb"), $(du -h "$deb" | cut -f1)"
version=$(dpkg-deb -f "$deb" Version)

# a user who is not root, so /opt is read-only for the app, as on a desktop; made afresh on every
# run so that what the home holds at the end was left by this run (and removed again at the end)
user=sd3check
if id "$user" >/dev/null 2>&1; then userdel -r "$user" >/dev/null 2>&1 || true; fi
useradd -m -s /bin/bash "$user"
home=$(getent passwd "$user" | cut -d: -f6)
as_user() { su - "$user" -c "$*"; }

step "installing"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >/dev/null
dpkg-query -W -f='${Status}' sd3-studio | grep -qx 'install ok installed' || fail "package not fully installed: $(dpkg-query -W -f='${Status}' sd3-studio)"

step "menu entry, icon, command"
desktop=/usr/share/applications/sd3studio.desktop
[ -f "$desktop" ] || fail "no menu entry $desktop"
exec_path=$(sed -n 's/^Exec=//p' "$desktop" | cut -d' ' -f1)
[ -x "$exec_path" ] || fail "menu entry runs $exec_path, which is not there"
grep -qx 'Icon=sd3studio' "$desktop" || fail "menu entry does not use our icon"
for n in 48x48 256x256; do
  [ -s "/usr/share/icons/hicolor/$n/apps/sd3studio.png" ] || fail "icon $n missing"
done
[ "$(as_user 'command -v sd3studio')" = /usr/bin/sd3studio ] || fail "sd3studio is not on the user's PATH"
shown=$(as_user 'sd3studio --version')
[ "$shown" = "SD3 Studio $version" ] || fail "sd3studio --version says '$shown', the package is $version"
as_user 'JAVA_TOOL_OPTIONS=-XX:AOTMode=on sd3studio --version' >/dev/null 2>&1 \
  || fail "the installed AOT cache cannot be mapped (file times changed?)"
[ -z "$(find /opt/sd3-studio -name 'libonnxruntime*' -path '*linux-aarch64*' -o -name '*.dll' -o -name '*.dylib' | head -1)" ] \
  || fail "other platforms' native libraries in the package"

step "generating with the installed command line"
# Java ignores TMPDIR: java.io.tmpdir (where ONNX Runtime makes its onnxruntime-java* folder) points at an empty one
as_user 'rm -rf /tmp/sd3check-tmp && mkdir /tmp/sd3check-tmp && JAVA_TOOL_OPTIONS=-Djava.io.tmpdir=/tmp/sd3check-tmp sd3studio generate --prompt "a large red circle in the center on a blue background" --seed 7 --out ~/check.png'
[ "$(head -c 8 "$home/check.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "no PNG written"
[ -z "$(ls -A /tmp/sd3check-tmp | grep -i onnxruntime)" ] || fail "ONNX Runtime left its folder in the temp directory"

step "starting the installed studio under Xvfb"
# the training switch makes the studio close itself after a few seconds, saving its settings
as_user 'JAVA_TOOL_OPTIONS=-Dsd3studio.aot.training=true xvfb-run -a -s "-screen 0 1280x900x24" sh -c "
  sd3studio >/tmp/sd3check-studio.log 2>&1 & pid=\$!
  for i in \$(seq 1 600); do xdotool search --onlyvisible --name \"^SD3 Studio\$\" >/dev/null 2>&1 && { echo window >/tmp/sd3check-window; break; }; sleep 0.1; done
  wait \$pid"' || { cat /tmp/sd3check-studio.log >&2; fail "the studio exited with an error"; }
[ -f /tmp/sd3check-window ] || { cat /tmp/sd3check-studio.log >&2; fail "the studio window never appeared"; }
settings="$home/.config/sd3studio/settings.json"
[ -s "$settings" ] || fail "the studio saved no settings at $settings"

step "installing over itself (the upgrade path)"
dpkg -i "$deb" >/dev/null
dpkg-query -W -f='${Status}' sd3-studio | grep -qx 'install ok installed' || fail "upgrade left the package half-configured"
[ -f "$desktop" ] && [ -L /usr/bin/sd3studio ] || fail "upgrade lost the menu entry or the command"
[ -s "$settings" ] || fail "upgrade lost the user's settings"

step "removing"
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq sd3-studio >/dev/null
for p in /opt/sd3-studio /usr/bin/sd3studio "$desktop" /usr/share/icons/hicolor/256x256/apps/sd3studio.png; do
  [ ! -e "$p" ] && [ ! -L "$p" ] || fail "$p is still there after removal"
done
[ -s "$settings" ] && [ -s "$home/check.png" ] || fail "removal touched the user's data"
step "left in the user's home (user data and caches; see packaging/README.md):"
(cd "$home" && find . -mindepth 1 -maxdepth 6 \( -type f -o -type l \) ! -name '.bash*' ! -name '.profile' | sort | sed 's/^/    /')
# ONNX Runtime's telemetry (an event database and a device id) must stay off in the installed app
[ ! -e "$home/.cache/Microsoft" ] || fail "ONNX Runtime telemetry was written to $home/.cache/Microsoft"
rm -rf /tmp/sd3check-tmp /tmp/sd3check-window /tmp/sd3check-studio.log
userdel -r "$user" >/dev/null 2>&1 || true
rm -rf "/tmp/hsperfdata_$user" # the JVM's per-user performance-data folder outlives the user
step "packaging check passed"
