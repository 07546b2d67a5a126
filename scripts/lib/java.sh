# Sourced by the scripts in this folder (and, as lib/java.sh, by a release archive's bin/whack):
# finds a JDK 21 or newer and exports JAVA_HOME. Order: $JAVA_HOME if it is new enough, then the
# newest JDK under /usr/lib/jvm. WHACK_RUNTIME_ONLY=1 (the archive's launcher, which builds
# nothing) takes a Java runtime without javac too.

whack_java_feature() { # prints the feature release (17, 21, 25...) of the JDK at $1
  local release="$1/release" version
  [ -x "$1/bin/java" ] || return 1
  [ "${WHACK_RUNTIME_ONLY:-0}" = 1 ] || [ -x "$1/bin/javac" ] || return 1
  if [ -f "$release" ]; then
    version=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$release")
  else
    version=$("$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/.*java.specification.version = \([0-9]*\).*/\1/p')
  fi
  [ -n "$version" ] && echo "$version"
}

whack_find_jdk() {
  local candidate feature best="" best_feature=0
  if [ -n "${JAVA_HOME:-}" ]; then
    feature=$(whack_java_feature "$JAVA_HOME") || feature=0
    if [ "${feature:-0}" -ge 21 ]; then echo "$JAVA_HOME"; return 0; fi
  fi
  for candidate in /usr/lib/jvm/*; do
    [ -d "$candidate" ] || continue
    feature=$(whack_java_feature "$candidate") || continue
    if [ "$feature" -ge 21 ] && [ "$feature" -gt "$best_feature" ]; then
      best="$candidate"; best_feature="$feature"
    fi
  done
  [ -n "$best" ] && echo "$best"
}

if ! WHACK_JDK=$(whack_find_jdk) || [ -z "$WHACK_JDK" ]; then
  if [ "${WHACK_RUNTIME_ONLY:-0}" = 1 ]; then
    echo "error: Whack needs Java 21 or newer; none found in JAVA_HOME (${JAVA_HOME:-unset}) or /usr/lib/jvm." >&2
    echo "       Install one (for example: apt-get install openjdk-21-jre-headless) or point JAVA_HOME at it." >&2
  else
    echo "error: Whack needs a JDK 21 or newer; none found in JAVA_HOME (${JAVA_HOME:-unset}) or /usr/lib/jvm." >&2
    echo "       Install one (for example: apt-get install openjdk-21-jdk-headless) or point JAVA_HOME at it." >&2
  fi
  exit 1
fi
export JAVA_HOME="$WHACK_JDK"
export PATH="$JAVA_HOME/bin:$PATH"
# Maven 3.8 itself calls sun.misc.Unsafe; on JDK 24+ that prints a warning on every build.
case "$(whack_java_feature "$JAVA_HOME")" in
  2[4-9]|[3-9]?) export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow" ;;
esac

# The JVM options of a whack command, one per line (scripts/whack and scripts/bench use them):
#   whack_jvm_opts node <memory-mb>   a node with that --memory cap
#   whack_jvm_opts <command>          any other command (the CLI, load, bench...)
# A collector named in WHACK_JAVA_OPTS (-XX:+Use...GC) replaces the default one.
whack_jvm_opts() {
  local command="$1" feature
  feature=$(whack_java_feature "$JAVA_HOME")
  # Native access is declared in whack.jar's manifest, and nothing in it warns about Unsafe any
  # more. Netty 4.2 still reads buffers through sun.misc.Unsafe when allowed, and on JDK 25+ only
  # when this says so (it sets io.netty.noUnsafe by default there): every benchmark was measured so.
  echo -Dio.netty.leakDetection.level=disabled
  [ "$feature" -ge 23 ] && echo --sun-misc-unsafe-memory-access=allow
  local chosen=""
  case "${WHACK_JAVA_OPTS:-}" in *-XX:+Use*GC*) chosen=yes ;; esac
  if [ "$command" = node ]; then
    local mb="$2"
    # The heap: the cap, as much again for the JVM's own needs and garbage, plus a floor.
    echo "-Xmx$((mb * 2 + 512))m"
    if [ -z "$chosen" ]; then
      # Generational ZGC: every profile update replaces its profile's array, so a young
      # collection finds most of what it scans alive and must copy it; G1 does that copying in
      # pauses (70 to 190 ms measured in P2 on 2 cores), ZGC concurrently (P2's throughput went
      # up and its p99.9 down tenfold). The soft maximum keeps the resident size near the cap
      # rather than near -Xmx.
      echo -XX:+UseZGC
      [ "$feature" -lt 23 ] && echo -XX:+ZGenerational
      echo "-XX:SoftMaxHeapSize=$((mb + 512))m"
    fi
  else
    [ -z "$chosen" ] && printf '%s\n' -XX:+UseG1GC -XX:MaxGCPauseMillis=20
    case "$command" in
      bench|load|dump|gen) ;; # long runs: worth the optimising compiler
      *) echo -XX:TieredStopAtLevel=1 ;; # short-lived client commands: start fast rather than peak
    esac
  fi
  return 0
}

# Runs a whack jar with the JVM options of its command (a node's heap sized from its --memory
# cap, see whack_jvm_opts) and WHACK_JAVA_OPTS; replaces the shell. The cap is the --memory flag,
# else the `memory:` line of the --config file (a flag wins over the file, as in the node), else 1g.
#   whack_exec JAR ARGS...
whack_exec() {
  local jar="$1" memory="" config="" prev="" arg memory_mb=0
  shift
  if [ "${1:-}" = "node" ]; then
    for arg in "$@"; do
      case "$arg" in
        --memory=*) memory="${arg#--memory=}" ;;
        --config=*) config="${arg#--config=}" ;;
      esac
      [ "$prev" = "--memory" ] && memory="$arg"
      [ "$prev" = "--config" ] && config="$arg"
      prev="$arg"
    done
    if [ -z "$memory" ] && [ -n "$config" ] && [ -r "$config" ]; then
      # A top-level "memory: 4g" line, maybe quoted, maybe with a comment after it.
      memory=$(sed -nE 's/^memory:[[:space:]]*["'\'']?([0-9.]+[A-Za-z]*)["'\'']?[[:space:]]*(#.*)?$/\1/p' \
        "$config" | tail -n1)
    fi
    memory="${memory:-1g}"
    memory_mb=$(awk -v s="$memory" 'BEGIN {
      n = s + 0; u = tolower(substr(s, length(s)));
      if (u == "b") { s = substr(s, 1, length(s) - 1); u = tolower(substr(s, length(s))) }
      if (u == "k") n = n / 1024; else if (u == "m") n = n; else if (u == "g") n = n * 1024;
      else if (u == "t") n = n * 1024 * 1024; else n = n / 1048576;
      printf "%d", n }')
  fi
  local opts
  mapfile -t opts < <(whack_jvm_opts "${1:-}" "$memory_mb")
  # shellcheck disable=SC2086
  exec "$JAVA_HOME/bin/java" "${opts[@]}" ${WHACK_JAVA_OPTS:-} -jar "$jar" "$@"
}
