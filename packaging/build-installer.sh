#!/usr/bin/env bash
# Builds a double-click installer of SD3 Studio with jpackage (JDK 25).
#
#   packaging/build-installer.sh [app-image|deb|rpm|msi|exe] [--no-aot]
#
# Linux builds app-image, deb and rpm; Windows (Git Bash, WiX 5 on PATH) builds msi and exe:
# jpackage only makes installers for the platform it runs on. Every installer carries the CPU
# build of ONNX Runtime for its own platform only; GPU support is a separate download (the GPU
# pack), so one small installer serves everyone.
#
# Environment:
#   SD3_DEB_COMPRESSION  xz (default, smallest, every dpkg), gzip (fast; what CI uses) or zstd
#   SD3_DEB_LEVEL        compression level (default: the compressor's own)
#   SD3_AOT_TRAIN_CMD    how to run the training start with a display (default: xvfb-run -a when
#                        there is no $DISPLAY on Linux, nothing elsewhere)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
type="${1:-app-image}"
aot=1
for a in "${@:2}"; do
  case "$a" in
    --no-aot) aot=0 ;;
    --cpu-only) ;;  # the only flavour now; accepted so older commands keep working
    *) echo "unknown option $a" >&2; exit 2 ;;
  esac
done
case "$type" in app-image|deb|rpm|msi|exe) ;; *) echo "unknown type $type: use app-image, deb, rpm, msi or exe" >&2; exit 2 ;; esac

if [ -z "${JAVA_HOME:-}" ]; then
  for d in /usr/lib/jvm/temurin-25* /usr/lib/jvm/*-25*; do [ -x "$d/bin/jpackage" ] && JAVA_HOME="$d" && break; done
fi
export JAVA_HOME
java="$JAVA_HOME/bin/java"
started=$(date +%s)
step() { printf '[%4ss] %s\n' "$(( $(date +%s) - started ))" "$*"; }

case "$(uname -s)" in
  Linux)  os=linux; ort_platform=linux-x64; djl_platform=linux-x86_64; jna_platform=linux-x86-64
          tokenizers_lib=libtokenizers.so; icon="$root/packaging/linux/sd3studio.png" ;;
  MINGW*|MSYS*|CYGWIN*) os=windows; ort_platform=win-x64; djl_platform=win-x86_64; jna_platform=win32-x86-64
          tokenizers_lib=tokenizers.dll; icon="$root/packaging/windows/SD3Studio.ico" ;;
  *) echo "error: jpackage installers are built on Linux or Windows" >&2; exit 2 ;;
esac
[ "$(uname -m)" = x86_64 ] || [ "$os" = windows ] || { echo "error: only x86_64 is packaged" >&2; exit 2; }

out="$root/packaging/target"
input="$out/input"
rm -rf "$out" && mkdir -p "$input/native"

# clean: copy-dependencies never removes a jar, and two ONNX Runtime jars must not meet.
step "building the app with the CPU ONNX Runtime (first run downloads ~100 MB of dependencies)"
(cd "$root" && ./mvnw -q -B clean package -DskipTests -Donnxruntime.artifact=onnxruntime)
app_jar=$(ls "$root"/app/target/sd3studio-app-*.jar)
# One version everywhere: the pom's version without -SNAPSHOT, exactly as AppVersion reads it.
version=$(sed -n 's/^version=//p' "$root/app/target/classes/dev/sd3studio/app/version.properties" | tr -d '\r')
version="${version%-SNAPSHOT}"
step "version $version"

cp "$app_jar" "$input/"
# The classifier-less JavaFX jars are empty placeholders; the platform jars hold the classes.
for jar in "$root"/app/target/lib/*.jar; do
  name=$(basename "$jar")
  case "$name" in
    javafx-*-[0-9]*.jar) [[ "$name" =~ ^javafx-[a-z]+-[0-9.]+\.jar$ ]] && continue ;;
  esac
  case "$name" in
    onnxruntime-*.jar)
      # this platform's ONNX Runtime libraries beside the jars; the app loads them from there
      # (sd3studio.native.dir -> onnxruntime.native.path, see InstalledNatives), so nothing is
      # extracted to the temp folder per start
      "$java" "$root/packaging/tools/SplitNatives.java" "$jar" "$input/$name" "$input/native" \
        "ai/onnxruntime/native/$ort_platform/" "ai/onnxruntime/native/" ;;
    tokenizers-*.jar)
      "$java" "$root/packaging/tools/SplitNatives.java" "$jar" "$input/$name" "$input/native" \
        "native/lib/$djl_platform/cpu/" "native/lib/" "native/lib/tokenizers.properties" ;;
    jna-*.jar)
      "$java" "$root/packaging/tools/SplitNatives.java" "$jar" "$input/$name" "$input/native" \
        "com/sun/jna/$jna_platform/" "com/sun/jna/" ;;
    *) cp "$jar" "$input/" ;;
  esac
done
# The built-in demo model travels inside the app, next to the jars ($APPDIR).
if [ -d "$root/assets/models/sd3-demo" ]; then
  mkdir -p "$input/assets/models"
  cp -r "$root/assets/models/sd3-demo" "$input/assets/models/"
else
  echo "warning: assets/models/sd3-demo is missing; the installer will have no built-in model" >&2
fi
# The real CLIP-L, CLIP-G and T5 tokenizers, which single .safetensors checkpoints do not carry; the
# repository keeps them once, as the reference copies under fixtures/tokenizers (BuiltInModel.tokenizers()).
for t in tokenizer tokenizer_2 tokenizer_3; do
  mkdir -p "$input/assets/tokenizers/$t"
  cp "$root/fixtures/tokenizers/$t/"* "$input/assets/tokenizers/$t/"
done
cp "$root/app/src/main/resources/dev/sd3studio/app/THIRD-PARTY-NOTICES.md" "$input/"
if [ "$os" = linux ]; then
  # menu entry and icons, placed into /usr/share by the deb (repacked below) and the rpm (spec)
  mkdir -p "$input/desktop"
  cp "$root/packaging/linux/sd3studio.desktop" "$input/desktop/"
  for n in 16 32 48 64 128 256; do
    install -D -m 644 "$root/app/src/main/resources/dev/sd3studio/app/icons/sd3studio-$n.png" \
      "$input/desktop/icons/${n}x${n}/sd3studio.png"
  done
  install -D -m 644 "$root/packaging/linux/sd3studio.png" "$input/desktop/icons/512x512/sd3studio.png"
fi

# A trimmed runtime: the JDK modules the app and its libraries use. bin/java stays: the AOT
# training run below needs it, and it is 20 KB.
step "linking the Java runtime"
"$JAVA_HOME/bin/jlink" --add-modules java.base,java.desktop,java.logging,java.prefs,java.xml,java.naming,java.net.http,java.management,java.sql,jdk.unsupported,jdk.crypto.ec,jdk.zipfs,jdk.charsets \
  --strip-debug --no-man-pages --no-header-files --output "$out/runtime"

aot_file=sd3studio.aot
# Windows file names ignore case, so the GUI launcher there is "SD3 Studio.exe" and the console
# one sd3studio.exe; on Linux the one launcher serves both (no arguments: the studio).
if [ "$os" = windows ]; then appname="SD3 Studio"; else appname=SD3Studio; fi
common=(--name "$appname" --app-version "$version" --vendor "SD3 Studio"
  --description "Stable Diffusion 3 desktop studio" --icon "$icon"
  --copyright "SD3 Studio contributors"
  --input "$input" --main-jar "$(basename "$app_jar")"
  --main-class dev.sd3studio.app.Main --runtime-image "$out/runtime"
  --java-options '--enable-native-access=ALL-UNNAMED' --java-options '-Xss4m'
  --java-options '-Dsd3studio.home=$APPDIR' --java-options '-Dai.djl.offline=true'
  --java-options '-Dsd3studio.native.dir=$APPDIR/native'
  --java-options "-DRUST_LIBRARY_PATH=\$APPDIR/native/$tokenizers_lib"
  --java-options '-Djna.boot.library.path=$APPDIR/native' --java-options '-Djna.nounpack=true'
  --java-options "-XX:AOTCache=\$APPDIR/$aot_file"
  --java-options '-Xlog:disable' --java-options '-Xlog:all=error:stderr'
  --dest "$out")
if [ "$os" = windows ]; then
  # a console twin of the main launcher: `sd3studio generate ...` prints in cmd/PowerShell
  common+=(--add-launcher "sd3studio=$root/packaging/windows/console-launcher.properties")
fi

step "making the app image"
"$JAVA_HOME/bin/jpackage" --type app-image "${common[@]}"
image="$out/$appname"
if [ "$os" = windows ]; then app="$image/app"; launcher="$image/$appname.exe"
else app="$image/lib/app"; launcher="$image/bin/$appname"; fi

if [ "$aot" = 1 ]; then
  # JDK 25 AOT cache (JEP 483/514): one training start that opens the studio, generates once
  # with the demo model on the command line and exits records which classes the app loads and
  # links; later starts map them instead of loading them. It stays valid when the app folder
  # moves (the build dir -> /opt). The launcher ignores JDK_JAVA_OPTIONS, so training options go
  # into its .cfg for this one run.
  step "training the AOT cache (opens the studio once; needs a display)"
  cfg="$app/$appname.cfg"
  cp "$cfg" "$cfg.orig"
  scratch=$(mktemp -d)
  sed -i "s|^java-options=-XX:AOTCache=.*|java-options=-XX:AOTCacheOutput=\$APPDIR/$aot_file\njava-options=-Dsd3studio.aot.training=true\njava-options=-Dsd3studio.data=$scratch|" "$cfg"
  train="${SD3_AOT_TRAIN_CMD-}"
  if [ -z "$train" ] && [ "$os" = linux ] && [ -z "${DISPLAY:-}" ]; then train="xvfb-run -a -s \"-screen 0 1280x900x24\""; fi
  eval "$train \"\$launcher\"" >"$out/aot-training.log" 2>&1 || { cat "$out/aot-training.log" >&2; echo "error: AOT training run failed" >&2; exit 1; }
  mv "$cfg.orig" "$cfg"
  rm -rf "$scratch"
  [ -s "$app/$aot_file" ] || { cat "$out/aot-training.log" >&2; echo "error: no AOT cache written" >&2; exit 1; }
  step "AOT cache: $(du -h "$app/$aot_file" | cut -f1)"
else
  sed -i '/^java-options=-XX:AOTCache=/d' "$app/$appname.cfg"
fi

step "packaging $type"
case "$type" in
  app-image) ;;
  deb)
    # dpkg-deb compresses twice otherwise: jpackage's pass stores, the repack below compresses
    DPKG_DEB_COMPRESSOR_TYPE=none "$JAVA_HOME/bin/jpackage" --type deb --app-image "$image" --dest "$out" \
      --name SD3Studio --app-version "$version" --vendor "SD3 Studio" --description "Stable Diffusion 3 desktop studio" \
      --linux-package-name sd3-studio \
      --linux-package-deps "libgtk-3-0, libgl1" --linux-app-category graphics
    deb=$(ls "$out"/sd3-studio_*.deb)
    # Menu entry, icons and /usr/bin/sd3studio as package files: dpkg installs and removes them
    # itself, Debian's triggers refresh the menu and icon caches, and no maintainer script can
    # fail on a system without the desktop-menu folders (jpackage's --linux-shortcut does).
    work="$out/deb-root"
    dpkg-deb -R "$deb" "$work"
    # jpackage's staging copy does not keep file times; the AOT cache checks the jars' times
    (cd "$image" && find . -type f) | while IFS= read -r f; do touch -r "$image/$f" "$work/opt/sd3-studio/$f"; done
    d="$work/opt/sd3-studio/lib/app/desktop"
    install -D -m 644 "$d/sd3studio.desktop" "$work/usr/share/applications/sd3studio.desktop"
    for png in "$d"/icons/*/sd3studio.png; do
      install -D -m 644 "$png" "$work/usr/share/icons/hicolor/$(basename "$(dirname "$png")")/apps/sd3studio.png"
    done
    mkdir -p "$work/usr/bin" && ln -s /opt/sd3-studio/bin/SD3Studio "$work/usr/bin/sd3studio"
    sed -i "s/^Installed-Size:.*/Installed-Size: $(du -sk --exclude=DEBIAN "$work" | cut -f1)/" "$work/DEBIAN/control"
    comp="${SD3_DEB_COMPRESSION:-xz}"
    rm "$deb"
    dpkg-deb --root-owner-group -Z"$comp" ${SD3_DEB_LEVEL:+-z"$SD3_DEB_LEVEL"} -b "$work" "$deb" >/dev/null
    rm -rf "$work" ;;
  rpm)
    # package files and dependency names as Fedora and openSUSE spell them (sonames resolve on both)
    "$JAVA_HOME/bin/jpackage" --type rpm --app-image "$image" --dest "$out" \
      --name SD3Studio --app-version "$version" --vendor "SD3 Studio" --description "Stable Diffusion 3 desktop studio" \
      --linux-package-name sd3-studio --resource-dir "$root/packaging/linux" --linux-app-category Graphics \
      --linux-package-deps 'libgtk-3.so.0()(64bit), libGL.so.1()(64bit), libXtst.so.6()(64bit), libasound.so.2()(64bit)' ;;
  msi|exe)
    # per-user (no admin prompt), Start-menu entry, desktop shortcut only if the user says yes;
    # the upgrade code is fixed forever so a new version replaces the old one in place
    "$JAVA_HOME/bin/jpackage" --type "$type" --app-image "$image" --dest "$out" \
      --name "$appname" --app-version "$version" --vendor "SD3 Studio" --description "Stable Diffusion 3 desktop studio" \
      --win-upgrade-uuid 6f1d3c52-9a4e-4c8b-b7a1-3e5d0c2f8a91 --win-per-user-install \
      --win-menu --win-menu-group "SD3 Studio" --win-shortcut-prompt --win-shortcut ;;
esac
if [ "$os" = linux ]; then
  # leave no CPU-only build behind for ./sd3studio, which rebuilds when target/ is empty
  (cd "$root" && ./mvnw -q -B clean)
fi
step "done"
ls -l "$out"/*.deb "$out"/*.rpm "$out"/*.msi "$out"/*.exe 2>/dev/null || du -sh "$image"
