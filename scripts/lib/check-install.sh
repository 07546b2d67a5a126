#!/usr/bin/env bash
# The release archive as a user meets it (docs/install.md): scripts/install into a temporary
# prefix, then the installed command's version and completion, the unit, a node started from it
# with the archive's sample configuration (etc/whack.yaml, as the unit runs it) adapted to a free
# port and a temporary data directory, its log's form, a profile written and read over the
# memcached port, a SIGTERM that must end the node with exit 0 after its snapshot, and the profile
# read again after a restart. Run by scripts/test after the Maven build (which makes
# dist/target/whack-VERSION.tar.gz).
#
#   scripts/lib/check-install.sh
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work=$(mktemp -d "${TMPDIR:-/tmp}/whack-install-check.XXXXXX")
node_pid=""
trap '[ -n "$node_pid" ] && kill -9 "$node_pid" 2>/dev/null; rm -rf "$work"' EXIT
source "$here/tally.sh"

archive=$(ls -t "$root"/dist/target/whack-*.tar.gz 2>/dev/null | head -n1)
[ -n "$archive" ] || { echo "check-install: no dist/target/whack-*.tar.gz: build first" >&2; exit 1; }
prefix="$work/prefix"
"$root/scripts/install" --prefix "$prefix" --archive "$archive" > "$work/install.log" 2>&1
check "scripts/install" "$?" 0
whack="$prefix/bin/whack"
check "the installed command" "$("$whack" --version 2>&1 | cut -d' ' -f1)" whack
check "its bash completion" \
  "$(bash -c "source '$prefix/share/bash-completion/completions/whack' && complete -p whack" 2>&1 |
    grep -o '_complete_whack')" _complete_whack
check "the completion of a path to the command (scripts/whack)" \
  "$(bash -c "source '$prefix/share/bash-completion/completions/whack'
    COMP_WORDS=(scripts/whack seg); COMP_CWORD=1; COMP_LINE='scripts/whack seg'
    COMP_POINT=\${#COMP_LINE}; _complete_whack scripts/whack seg scripts/whack
    echo \"\${COMPREPLY[*]}\"" 2>&1)" segment
unit="$prefix/lib/whack/systemd/whack.service"
check "the systemd unit starts the installed node with the configuration file" \
  "$(grep -c '^ExecStart=/opt/whack/bin/whack node --config /etc/whack/whack.yaml$' "$unit")" 1
check "the unit's limits and restart policy" \
  "$(grep -cE '^(LimitNOFILE=65536|Restart=on-failure|User=whack|StateDirectory=whack)$' "$unit")" 4

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# The sample as the unit reads it, on a free port, without metrics, with a small cap, and its data
# directory relative to the file (../data: $work/data), as a user would adapt it.
sample="$prefix/lib/whack/etc/whack.yaml"
config="$work/etc/whack.yaml"
mkdir -p "$work/etc"
sed -e "s|^port: .*|port: $port|" -e 's|^metrics-port: .*|metrics-port: 0|' \
  -e 's|^memory: .*|memory: 64m|' -e 's|^data-dir: /var/lib/whack$|data-dir: ../data|' \
  "$sample" > "$config" 2>&1
check "the sample configuration, adapted in 4 keys" "$(diff "$sample" "$config" | grep -c '^>')" 4
check "--print-config reads it, the data directory relative to the file" \
  "$("$whack" node --config "$config" --print-config 2>&1 | grep -cx "data-dir: $work/data")" 1
start_node() {
  "$whack" node --config "$config" > "$work/node.log" 2>&1 &
  node_pid=$!
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.2
  done
  return 1
}
ask() { # one text command; prints the reply's lines up to END/STORED/...
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  printf '%b' "$1" >&3
  local line
  while IFS= read -r -t 10 line <&3; do
    line="${line%$'\r'}"
    echo "$line"
    case "$line" in END|STORED|ERROR*|CLIENT_ERROR*|SERVER_ERROR*) break ;; esac
  done
  exec 3>&-
}
profile='{"country":"DK"}'
start_node
check "a node from the installed command" "$?" 0
check "set" "$(ask "set installed:1 0 0 ${#profile}\r\n$profile\r\n")" STORED
check "get" "$(ask 'get installed:1\r\n' | sed -n 2p)" "$profile"
kill -TERM "$node_pid"
wait "$node_pid"
check "SIGTERM ends the node with exit 0" "$?" 0
node_pid=""
check "it says it wrote its snapshot" "$(grep -c 'snapshot on the way out' "$work/node.log")" 1
stamp='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{3}Z'
check "its log: a UTC time, a level, the message" \
  "$(grep -cE "^$stamp INFO  whack node listening on 127[.]0[.]0[.]1:$port [(]memory 64m" "$work/node.log")" 1
check "every line of its log so" "$(grep -cvE "^$stamp (INFO |WARN |ERROR) " "$work/node.log")" 0
start_node
check "the node again" "$?" 0
check "get after the restart" "$(ask 'get installed:1\r\n' | sed -n 2p)" "$profile"
kill -TERM "$node_pid"
wait "$node_pid"
node_pid=""

echo "install: $passed passed, $failed failed"
if [ "$failed" -gt 0 ]; then
  echo "--- install log" && cat "$work/install.log"
  echo "--- node log" && cat "$work/node.log"
  exit 1
fi
