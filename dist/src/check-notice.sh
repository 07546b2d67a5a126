#!/usr/bin/env bash
# Fails when the runnable jar bundles a library that NOTICE does not name: every
# META-INF/maven/<group>/<artifact>/pom.properties in the jar (but Whack's own) must appear in
# NOTICE as group:artifact at the start of a line. Run by the dist module's build.
#
#   dist/src/check-notice.sh JAR NOTICE
set -euo pipefail
jar="$1"
notice="$2"
missing=0
while read -r coordinate; do
  group="${coordinate%%/*}"
  artifact="${coordinate#*/}"
  [ "$group" = dev.whack ] && continue
  if grep -qE "^ *${group//./\\.}:${artifact//./\\.}( |$)" "$notice"; then
    continue
  fi
  echo "NOTICE does not name $group:$artifact, which $jar bundles" >&2
  missing=1
done < <(unzip -Z1 "$jar" 'META-INF/maven/*/pom.properties' |
  sed 's|^META-INF/maven/||; s|/pom.properties$||' | sort -u)
exit "$missing"
