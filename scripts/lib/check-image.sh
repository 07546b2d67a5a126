#!/usr/bin/env bash
# The container image as a runtime meets it (docs/install.md, "Container image"), without needing
# one: builds it with scripts/image from the release archive (or takes the tar given), then
#  - its structure: the OCI layout (oci-layout, index -> manifest -> config and layers, every
#    blob's sha256 and size, each layer's diff_id the sha256 of its tar), Docker's manifest.json
#    naming the same blobs, the config (a numeric non-root user, the volume, the ports, the
#    entrypoint and command, the health check, the labels), owners in the layers (root, but the
#    data directory), the licenses the image must carry;
#  - as root, the image run: its layers unpacked in order, its entrypoint and command run in a
#    chroot as its user with its environment (proc and /dev mounted in a mount namespace of its
#    own, which ends with the node), on free ports: the health check inside, a profile written
#    and read from outside, the metrics port, the CLI inside, SIGTERM -> exit 0 with the snapshot
#    in the volume owned by the user, the profile again after a restart;
#  - when podman is installed and runs containers here, the same with podman: `podman load`, the
#    Docker-format copy (whose health check podman keeps), `podman run` with the volume and a
#    published port, `podman healthcheck run`, `podman stop` -> exit 0; else it says why not.
# Run by scripts/test after check-install.sh (WHACK_IMAGE=0 skips it).
#
#   scripts/lib/check-image.sh [IMAGE.tar]
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work=$(mktemp -d "${TMPDIR:-/tmp}/whack-image-check.XXXXXX")
node_pid=""
podman_ready=""
cleanup() {
  [ -n "$node_pid" ] && kill -9 "$node_pid" 2>/dev/null
  if [ -n "$podman_ready" ]; then
    "${podman[@]}" rm -f -t 0 whack-check > /dev/null 2>&1
    "${podman[@]}" volume rm -f whack-check-data > /dev/null 2>&1
    "${podman[@]}" rmi -a -f > /dev/null 2>&1
  fi
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
source "$here/tally.sh"
start=$SECONDS

image="${1:-}"
if [ -z "$image" ]; then
  archive=$(ls -t "$root"/dist/target/whack-*.tar.gz 2>/dev/null | head -n1)
  [ -n "$archive" ] || { echo "check-image: no dist/target/whack-*.tar.gz: build first" >&2; exit 1; }
  image="$work/image.tar"
  if ! "$root/scripts/image" --archive "$archive" --output "$image" > "$work/build.log" 2>&1; then
    cat "$work/build.log"
    echo "check-image: scripts/image failed"
    exit 1
  fi
  build_seconds=$((SECONDS - start))
fi
version=$(tar -xOf "$image" index.json 2>/dev/null |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"].split(":")[1])')

# --- The structure -----------------------------------------------------------------------------
mkdir -p "$work/layout"
tar -xf "$image" -C "$work/layout"
check "the tar holds an OCI layout and Docker's manifest.json" \
  "$(cd "$work/layout" && ls -d oci-layout index.json manifest.json blobs/sha256 2>&1 | tr '\n' ' ')" \
  "blobs/sha256 index.json manifest.json oci-layout "
# Every blob is what its name says.
bad=0
for blob in "$work"/layout/blobs/sha256/*; do
  [ "$(sha256sum < "$blob" | cut -d' ' -f1)" = "$(basename "$blob")" ] || bad=$((bad + 1))
done
check "every blob's sha256 is its name" "$bad" 0
# The layout read as a runtime reads it; prints "name value" lines for the checks below.
python3 - "$work/layout" > "$work/facts" 2> "$work/facts.err" <<'EOF'
import gzip, hashlib, json, os, sys, tarfile
layout = sys.argv[1]
def blob(digest, size=None):
    path = os.path.join(layout, "blobs", *digest.split(":", 1))
    data = open(path, "rb").read()
    if size is not None and len(data) != size:
        print(f"size-mismatch {digest}")
    return data
def fact(name, value):
    print(name, value)
fact("oci-layout", json.load(open(os.path.join(layout, "oci-layout")))["imageLayoutVersion"])
index = json.load(open(os.path.join(layout, "index.json")))
fact("index-manifests", len(index["manifests"]))
entry = index["manifests"][0]
fact("index-entry-type", entry["mediaType"])
manifest = json.loads(blob(entry["digest"], entry["size"]))
fact("manifest-type", manifest["mediaType"])
fact("config-type", manifest["config"]["mediaType"])
config = json.loads(blob(manifest["config"]["digest"], manifest["config"]["size"]))
fact("layer-types", " ".join(sorted({layer["mediaType"] for layer in manifest["layers"]})))
# diff_ids: the sha256 of each layer uncompressed; and who owns what in them.
diff_ids = []
owners = set()
for number, layer in enumerate(manifest["layers"]):
    data = gzip.decompress(blob(layer["digest"], layer["size"]))
    diff_ids.append("sha256:" + hashlib.sha256(data).hexdigest())
    with open(os.path.join(layout, f"layer{number}.tar"), "wb") as out:
        out.write(data)
    with tarfile.open(os.path.join(layout, f"layer{number}.tar")) as tar:
        for member in tar:
            if member.name.startswith("/") or ".." in member.name.split("/"):
                fact("bad-path", member.name)
            if os.path.basename(member.name).startswith(".wh."):
                fact("whiteout", member.name)
            if (member.uid, member.gid) != (0, 0):
                owners.add(f"{member.name}={member.uid}:{member.gid}")
fact("layers", len(manifest["layers"]))
fact("diff-ids-match", config["rootfs"]["diff_ids"] == diff_ids)
fact("not-root-owned", " ".join(sorted(owners)))
docker = json.load(open(os.path.join(layout, "manifest.json")))
fact("docker-config", docker[0]["Config"] == "blobs/sha256/" + manifest["config"]["digest"].split(":")[1])
fact("docker-layers", docker[0]["Layers"] == ["blobs/sha256/" + l["digest"].split(":")[1] for l in manifest["layers"]])
fact("docker-tags", " ".join(docker[0]["RepoTags"]))
fact("ref-name", entry["annotations"]["org.opencontainers.image.ref.name"])
c = config["config"]
fact("os-arch", config["os"] + "/" + config["architecture"])
fact("user", c["User"])
fact("entrypoint", " ".join(c["Entrypoint"]))
fact("cmd", " ".join(c["Cmd"]))
fact("volumes", " ".join(sorted(c["Volumes"])))
fact("ports", " ".join(sorted(c["ExposedPorts"])))
fact("workdir", c["WorkingDir"])
fact("stop-signal", c["StopSignal"])
fact("health", " ".join(c["Healthcheck"]["Test"]))
fact("health-times", " ".join(str(c["Healthcheck"][k] // 10**9) for k in ("Interval", "Timeout", "StartPeriod")))
fact("env", " ".join(c["Env"]))
for k in ("title", "version", "revision", "licenses", "created"):
    fact("label-" + k, c["Labels"].get("org.opencontainers.image." + k, ""))
fact("history", len(config["history"]))
EOF
[ -s "$work/facts.err" ] && cat "$work/facts.err"
fact() { sed -n "s/^$1 //p" "$work/facts"; }
check "oci-layout" "$(fact oci-layout)" 1.0.0
check "one image in the index" "$(fact index-manifests)" 1
check "an OCI manifest" "$(fact index-entry-type) $(fact manifest-type)" \
  "application/vnd.oci.image.manifest.v1+json application/vnd.oci.image.manifest.v1+json"
check "an OCI config" "$(fact config-type)" application/vnd.oci.image.config.v1+json
check "gzip'd tar layers" "$(fact layer-types)" application/vnd.oci.image.layer.v1.tar+gzip
check "three layers (Debian base, Java runtime, Whack)" "$(fact layers)" 3
check "every blob as large as its descriptor says" "$(grep -c '^size-mismatch' "$work/facts")" 0
check "the config's diff_ids are the layers' tars' sha256" "$(fact diff-ids-match)" True
check "manifest.json names the config" "$(fact docker-config)" True
check "manifest.json names the layers in order" "$(fact docker-layers)" True
check "the name docker load gives" "$(fact docker-tags)" "whack:$version"
check "the name podman load gives" "$(fact ref-name)" "whack:$version"
check "no absolute or .. paths, no whiteouts" "$(grep -cE '^(bad-path|whiteout) ' "$work/facts")" 0
check "everything owned by root but the data directory" "$(fact not-root-owned)" "var/lib/whack=11211:11211"
check "linux" "$(fact os-arch | cut -d/ -f1)" linux
check "the user: numeric, not root" "$(fact user)" "11211:11211"
check "the entrypoint: the launcher" "$(fact entrypoint)" /opt/whack/bin/whack
check "the command: a node from the configuration file" "$(fact cmd)" "node --config /etc/whack/whack.yaml"
check "the data directory a volume" "$(fact volumes)" /var/lib/whack
check "the ports: memcached and metrics" "$(fact ports)" "11211/tcp 9211/tcp"
check "the working directory" "$(fact workdir)" /var/lib/whack
check "SIGTERM stops it" "$(fact stop-signal)" SIGTERM
check "the health check" "$(fact health)" "CMD /usr/local/bin/whack-healthcheck"
check "the health check's interval, timeout, start period (s)" "$(fact health-times)" "30 10 60"
check "JAVA_HOME in the environment" "$(fact env | grep -o 'JAVA_HOME=/opt/java')" JAVA_HOME=/opt/java
check "the labels: title, version, licenses" "$(fact label-title) $(fact label-version) $(fact label-licenses)" \
  "Whack $version Apache-2.0"
check "the label revision: a commit" "$(fact label-revision | grep -cE '^[0-9a-f]{40}$')" 1
check "a history entry per layer" "$(fact history)" 3

# The layers unpacked in order, as a runtime stacks them (as root, with their owners).
rootfs="$work/rootfs"
mkdir -p "$rootfs"
for layer in "$work"/layout/layer*.tar; do
  tar -xpf "$layer" -C "$rootfs" --numeric-owner 2>> "$work/unpack.log" || echo "FAIL unpacking $layer"
done
check "the user in /etc/passwd" "$(grep -c '^whack:x:11211:11211:' "$rootfs/etc/passwd")" 1
check "the configuration binds every interface, keeps its data in the volume" \
  "$(grep -cxE 'bind: 0.0.0.0|data-dir: /var/lib/whack' "$rootfs/etc/whack/whack.yaml")" 2
check "the release archive in /opt/whack" "$(ls "$rootfs/opt/whack/lib/whack.jar" "$rootfs/opt/whack/bin/whack" | wc -l)" 2
check "a Java 21+ runtime in /opt/java" \
  "$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$rootfs/opt/java/release" | awk '{ print ($1 >= 21) }')" 1
# Licenses: Whack's, the Java runtime's legal/ notices, each Debian package's copyright.
check "Whack's LICENSE and NOTICE" "$(ls "$rootfs/opt/whack/LICENSE" "$rootfs/opt/whack/NOTICE" | wc -l)" 2
check "the Java runtime's legal notices" "$(ls "$rootfs/opt/java/legal/java.base/LICENSE" 2>&1)" \
  "$rootfs/opt/java/legal/java.base/LICENSE"
missing=""
packages=0
for package in $(sed -n 's/^Package: //p' "$rootfs/var/lib/dpkg/status"); do
  packages=$((packages + 1))
  [ -f "$rootfs/usr/share/doc/$package/copyright" ] || missing="$missing $package"
done
check "every Debian package's copyright ($packages packages)" "$missing" ""
check "the licenses they name" "$(ls "$rootfs/usr/share/common-licenses/GPL-3" 2>&1)" "$rootfs/usr/share/common-licenses/GPL-3"
# Every ELF file's libraries are in the image (readelf, from binutils, when the machine has it).
if command -v readelf > /dev/null 2>&1; then
  unresolved=$(find "$rootfs/usr" "$rootfs/opt/java" -type f \( -perm -u+x -o -name '*.so*' \) -print0 |
    xargs -0 readelf -d 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort -u |
    while read -r library; do
      [ -n "$(find "$rootfs/usr/lib" "$rootfs/usr/lib64" "$rootfs/opt/java/lib" -name "$library" -print -quit)" ] ||
        echo "$library"
    done | tr '\n' ' ')
  check "every library an executable or library needs is in the image" "$unresolved" ""
else
  echo "check-image: no readelf (binutils): the libraries' check is skipped"
fi
structure_seconds=$((SECONDS - start - ${build_seconds:-0}))

# --- The image run, in a chroot ----------------------------------------------------------------
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
ask() { # port, one text command; prints the reply's lines up to END/STORED/VERSION...
  exec 3<>"/dev/tcp/127.0.0.1/$1"
  printf '%b' "$2" >&3
  local line
  while IFS= read -r -t 10 line <&3; do
    line="${line%$'\r'}"
    echo "$line"
    case "$line" in END|STORED|VERSION*|ERROR*|CLIENT_ERROR*|SERVER_ERROR*) break ;; esac
  done
  exec 3>&-
}
wait_port() { # port, pid: until the port answers or the process ends
  for _ in $(seq 1 150); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.2
  done
  return 1
}
profile='{"country":"DK"}'
mapfile -t image_env < <(fact env | tr ' ' '\n')
image_user=$(fact user)
image_workdir=$(fact workdir)
if [ "$(id -u)" != 0 ]; then
  echo "check-image: not root: the run in a chroot is skipped (it needs chroot and mount)"
else
  in_image() { # runs a command of the image as its user, in its environment and working directory
    # A mount namespace of its own: the mounts end with the command, none reaches the host's.
    # It replaces the shell, so $! of `in_image ... &` is the command's process (the JVM's, in the
    # end: the launcher execs it), which the SIGTERM below must reach; call it in a subshell.
    exec unshare --mount --propagation private -- bash -c '
      root="$1" user="$2" workdir="$3"; shift 3
      mount -t proc proc "$root/proc" && mount --bind /dev "$root/dev" &&
        exec chroot --userspec="$user" "$root" /usr/bin/env -i -C "$workdir" "$@"' \
      in-image "$rootfs" "$image_user" "$image_workdir" "${image_env[@]}" "$@"
  }
  port=$(free_port)
  metrics=$(free_port)
  # The image's entrypoint and command (no spaces in their words), on free ports.
  read -r -a node_command <<< "$(fact entrypoint) $(fact cmd)"
  node_command+=(--port "$port" --metrics-port "$metrics")
  in_image "${node_command[@]}" > "$work/node.log" 2>&1 &
  node_pid=$!
  wait_port "$port" "$node_pid"
  check "a node from the image's entrypoint and command" "$?" 0
  check "the health check, inside" "$(in_image /usr/local/bin/whack-healthcheck "127.0.0.1:$port" 2>&1)" \
    "whack node 127.0.0.1:$port: version $(ask "$port" 'version\r\n' | sed 's/^VERSION //')"
  check "set, from outside" "$(ask "$port" "set image:1 0 0 ${#profile}\r\n$profile\r\n")" STORED
  check "get" "$(ask "$port" 'get image:1\r\n' | sed -n 2p)" "$profile"
  # (Its log says so once it listens: after the first answers, not before.)
  check "it listens on every interface" "$(grep -c "listening on 0[.]0[.]0[.]0:$port " "$work/node.log")" 1
  check "the CLI, inside" "$(in_image /opt/whack/bin/whack stats -s "127.0.0.1:$port" 2>&1 | grep -c "^127.0.0.1:$port  *up ")" 1
  check "metrics on their port" \
    "$(exec 3<>"/dev/tcp/127.0.0.1/$metrics"; printf 'GET /metrics HTTP/1.0\r\nConnection: close\r\n\r\n' >&3; timeout 10 cat <&3 | grep -c '^whack_' | awk '{ print ($1 > 0) }')" 1
  kill -TERM "$node_pid"
  wait "$node_pid"
  check "SIGTERM ends the node with exit 0" "$?" 0
  node_pid=""
  check "it wrote its snapshot on the way out" "$(grep -c 'snapshot on the way out' "$work/node.log")" 1
  check "the data directory's files are the user's" \
    "$(find "$rootfs/var/lib/whack" -mindepth 1 ! -uid 11211 | wc -l) $(find "$rootfs/var/lib/whack" -mindepth 1 | wc -l | awk '{ print ($1 > 0) }')" "0 1"
  check "the health check of a stopped node fails" \
    "$( (in_image /usr/local/bin/whack-healthcheck "127.0.0.1:$port") > /dev/null 2>&1; echo $?)" 1
  in_image "${node_command[@]}" > "$work/node2.log" 2>&1 &
  node_pid=$!
  wait_port "$port" "$node_pid"
  check "the node again, from the volume" "$?" 0
  check "get after the restart" "$(ask "$port" 'get image:1\r\n' | sed -n 2p)" "$profile"
  kill -TERM "$node_pid"
  wait "$node_pid"
  check "SIGTERM again" "$?" 0
  node_pid=""
fi
chroot_seconds=$((SECONDS - start - ${build_seconds:-0} - structure_seconds))

# --- With podman, when it runs containers here -------------------------------------------------
podman_note=""
if ! command -v podman > /dev/null 2>&1; then
  podman_note="skipped: no podman (Debian: apt-get install podman runc)"
elif [ "$(id -u)" != 0 ]; then
  podman_note="skipped: not root"
else
  # A store of its own, removed afterwards: the machine's images and containers are not touched.
  podman=(podman --root "$work/podman/storage" --runroot "$work/podman/run" --tmpdir "$work/podman/tmp")
  podman_ready=yes
  if ! "${podman[@]}" load -i "$image" > "$work/podman-load.log" 2>&1; then
    podman_note="skipped: podman load failed: $(tail -n1 "$work/podman-load.log")"
  else
    check "podman load names it" "$(grep -c "^Loaded image.*whack:$version$" "$work/podman-load.log")" 1
    # podman keeps the health check of an image in Docker's format only (OCI's config has no
    # such field): the same tar read as a Docker archive.
    "${podman[@]}" pull -q "docker-archive:$image" > /dev/null 2>&1
    check "podman reads the Docker archive, health check included" \
      "$("${podman[@]}" image inspect "localhost/whack:$version" --format '{{json .HealthCheck.Test}}' 2>&1)" \
      '["CMD","/usr/local/bin/whack-healthcheck"]'
    # Containers as podman starts them by default, else as they run in a container of this
    # kind (CI's: hybrid cgroups that crun refuses, and no CAP_SYS_RESOURCE to raise limits).
    ways=("" "--runtime runc --ulimit nofile=$(ulimit -Hn):$(ulimit -Hn) --ulimit nproc=4096:4096")
    run_options=""
    for way in "${ways[@]}"; do
      # shellcheck disable=SC2086
      if "${podman[@]}" run --rm $way --entrypoint /usr/bin/true "localhost/whack:$version" \
        >> "$work/podman-try.log" 2>&1; then
        run_options="$way"
        podman_note="ran${way:+ with $way}"
        break
      fi
    done
    [ -n "$podman_note" ] || podman_note="skipped: podman cannot run a container here: $(grep -v 'level=' \
      "$work/podman-try.log" | grep -m1 .)"
  fi
  if [ "${podman_note#ran}" != "$podman_note" ]; then
    port=$(free_port)
    # shellcheck disable=SC2086
    "${podman[@]}" run -d --name whack-check $run_options -p "127.0.0.1:$port:11211" \
      -v whack-check-data:/var/lib/whack "localhost/whack:$version" > "$work/podman-run.log" 2>&1
    check "podman run" "$?" 0
    for _ in $(seq 1 150); do
      [ "$(ask "$port" 'version\r\n' 2>/dev/null | cut -c1-7)" = VERSION ] && break
      sleep 0.2
    done
    check "set through the published port" "$(ask "$port" "set podman:1 0 0 ${#profile}\r\n$profile\r\n")" STORED
    check "get" "$(ask "$port" 'get podman:1\r\n' | sed -n 2p)" "$profile"
    "${podman[@]}" healthcheck run whack-check > "$work/podman-health.log" 2>&1
    check "podman healthcheck run" "$?" 0
    check "the container healthy" "$("${podman[@]}" inspect whack-check --format '{{.State.Health.Status}}' 2>&1)" healthy
    check "whack in the container" \
      "$("${podman[@]}" exec whack-check whack stats 2>&1 | grep -c '^127.0.0.1:11211  *up ')" 1
    check "its user" "$("${podman[@]}" exec whack-check id -u 2>&1)" 11211
    "${podman[@]}" stop -t 30 whack-check > /dev/null 2>&1
    check "podman stop: exit 0" "$("${podman[@]}" inspect whack-check --format '{{.State.ExitCode}}' 2>&1)" 0
    check "the snapshot on the way out" \
      "$("${podman[@]}" logs whack-check 2>&1 | grep -c 'snapshot on the way out')" 1
    "${podman[@]}" rm -f whack-check > /dev/null 2>&1
  fi
fi
podman_seconds=$((SECONDS - start - ${build_seconds:-0} - structure_seconds - chroot_seconds))

echo "image: $passed passed, $failed failed ($(du -m "$image" | cut -f1) MB; build ${build_seconds:-0} s," \
  "structure $structure_seconds s, chroot run $chroot_seconds s, podman $podman_seconds s: $podman_note)"
if [ "$failed" -gt 0 ]; then
  for log in build node node2 podman-load podman-try podman-run podman-health; do
    [ -s "$work/$log.log" ] && echo "--- $log log" && cat "$work/$log.log"
  done
  exit 1
fi
