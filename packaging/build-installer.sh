#!/usr/bin/env bash
# Builds a double-click installer of SD3 Studio with jpackage.
#
#   packaging/build-installer.sh [app-image|deb|rpm|msi|exe] [--cpu-only]
#
# Linux builds app-image, deb and rpm; Windows (Git Bash, WiX 3.14 or 4/5 on PATH) builds msi
# and exe: jpackage only makes installers for the platform it runs on. --cpu-only bundles the
# 54 MB CPU ONNX Runtime instead of the 640 MB CUDA build.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
type="${1:-app-image}"
ort_artifact=onnxruntime_gpu
[ "${2:-}" = "--cpu-only" ] && ort_artifact=onnxruntime

if [ -z "${JAVA_HOME:-}" ]; then
  for d in /usr/lib/jvm/temurin-25* /usr/lib/jvm/*-25*; do [ -x "$d/bin/jpackage" ] && JAVA_HOME="$d" && break; done
fi
export JAVA_HOME
version=0.1.0
out="$root/packaging/target"
rm -rf "$out" && mkdir -p "$out/input"

# clean: copy-dependencies never removes a jar, and two ONNX Runtime jars must not meet.
(cd "$root" && ./mvnw -q -B clean package -DskipTests -Donnxruntime.artifact="$ort_artifact")
cp "$root"/app/target/sd3studio-app-*.jar "$out/input/"
# The classifier-less JavaFX jars are empty placeholders; the platform jars hold the classes.
find "$root/app/target/lib" -name '*.jar' ! -regex '.*/javafx-[a-z]*-[0-9.]*\.jar' -exec cp {} "$out/input/" \;
# The built-in demo model travels inside the app, next to the jars ($APPDIR).
if [ -d "$root/assets/models/sd3-demo" ]; then
  mkdir -p "$out/input/assets/models"
  cp -r "$root/assets/models/sd3-demo" "$out/input/assets/models/"
else
  echo "warning: assets/models/sd3-demo is missing; the installer will have no built-in model" >&2
fi

# A trimmed runtime: the JDK modules the app and its libraries use.
"$JAVA_HOME/bin/jlink" --add-modules java.base,java.desktop,java.logging,java.prefs,java.xml,java.naming,java.net.http,java.management,java.sql,jdk.unsupported,jdk.crypto.ec,jdk.zipfs,jdk.charsets \
  --strip-debug --no-man-pages --no-header-files --strip-native-commands --output "$out/runtime"

common=(--name SD3Studio --app-version "$version" --vendor "SD3 Studio"
  --description "Stable Diffusion 3 desktop studio"
  --input "$out/input" --main-jar "$(basename "$root"/app/target/sd3studio-app-*.jar)"
  --main-class dev.sd3studio.app.Main --runtime-image "$out/runtime"
  --java-options '--enable-native-access=ALL-UNNAMED'
  --java-options '-Dsd3studio.home=$APPDIR' --java-options '-Dai.djl.offline=true'
  --dest "$out")
case "$type" in
  app-image) "$JAVA_HOME/bin/jpackage" --type app-image "${common[@]}" ;;
  deb|rpm)   "$JAVA_HOME/bin/jpackage" --type "$type" "${common[@]}" --linux-package-name sd3-studio \
                --linux-package-deps "libgtk-3-0, libgl1" --linux-app-category graphics ;;
  msi|exe)   "$JAVA_HOME/bin/jpackage" --type "$type" "${common[@]}" --win-menu --win-shortcut \
                --win-dir-chooser --win-menu-group "SD3 Studio" ;;
  *) echo "unknown type $type: use app-image, deb, rpm, msi or exe" >&2; exit 2 ;;
esac
if [ "$ort_artifact" != onnxruntime_gpu ]; then
  # leave no CPU-only build behind for ./sd3studio, which rebuilds when target/ is empty
  (cd "$root" && ./mvnw -q -B clean)
fi
echo "built: $(ls -d "$out"/SD3Studio* "$out"/*.deb "$out"/*.rpm "$out"/*.msi "$out"/*.exe 2>/dev/null | tr '\n' ' ')"
