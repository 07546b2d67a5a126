#!/usr/bin/env bash
# The release archive as a user meets it (docs/install.md): scripts/install into a temporary
# prefix, then the installed command's version and completion, a node started from it with a data
# directory, a profile written and read over the memcached port, a SIGTERM that must end the node
# with exit 0 after its snapshot, and the profile read again after a restart. Run by scripts/test
# after the Maven build (which makes dist/target/whack-VERSION.tar.gz).
#
#   scripts/lib/check-install.sh
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work=$(mktemp -d "${TMPDIR:-/tmp}/whack-install-check.XXXXXX")
node_pid=""
trap '[ -n "$node_pid" ] && kill -9 "$node_pid" 2>/dev/null; rm -rf "$work"' EXIT
passed=0
failed=0
check() { # name got expected
  if [ "$2" = "$3" ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    printf 'FAIL %s: got %q, expected %q\n' "$1" "$2" "$3"
  fi
}

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
check "the systemd unit starts the installed node" \
  "$(grep -c '^ExecStart=/opt/whack/bin/whack node --data-dir /var/lib/whack ' "$unit")" 1
check "the unit's limits and restart policy" \
  "$(grep -cE '^(LimitNOFILE=65536|Restart=on-failure|User=whack|StateDirectory=whack)$' "$unit")" 4

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_node() {
  "$whack" node --port "$port" --metrics-port 0 --memory 64m --data-dir "$work/data" \
    > "$work/node.log" 2>&1 &
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
