#!/usr/bin/env bash
# Whack's REST read API (docs/http.md) as curl sees it: every route (preferences and affinity
# included), the error statuses with their JSON bodies, a percent-encoded key, and two requests on one kept-alive connection. Run by
# scripts/client-tests against a node started with --http-port:
#
#   scripts/lib/clients/http_curl_check.sh MEMCACHED_PORT HTTP_PORT
#
# Stores its data through the memcached port (bash's /dev/tcp), then asks with curl. Prints each
# failed check and a closing "N passed, N failed" line; exits 1 on any failure.
set -uo pipefail
port="$1"
http="http://127.0.0.1:$2"
source "$(dirname "${BASH_SOURCE[0]}")/../tally.sh"

# Text commands, answers read back line by line (one per command).
memcached() { # lines to read, then the commands
  local lines="$1" reply=() line
  shift
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  printf '%b' "$@" >&3
  for ((i = 0; i < lines; i++)); do
    IFS= read -r -t 10 line <&3 || break
    reply+=("${line%$'\r'}")
  done
  exec 3>&-
  printf '%s\n' "${reply[@]}"
}

profile='{"curl_country":"DK","tags":["vip"]}'
small='{"o":1}'
expression='curl_country == "DK"'
stored=$(memcached 4 \
  "set curl:1 0 0 ${#profile}\r\n$profile\r\n" \
  "set curl:\xc3\xb6 0 0 ${#small}\r\n$small\r\n" \
  "set curl:plain 0 0 5\r\nhello\r\n" \
  "segdef curl_dk ${#expression}\r\n$expression\r\n")
check "the data stored" "$(tr '\n' ' ' <<<"$stored" | sed 's/DEFINED [0-9]*/DEFINED/')" \
  "STORED STORED STORED DEFINED "
# A preference dimension and four viewed cars of curl:pref, all today (so no decay applies).
dimension='{"property":"curl_colour","event":"curl_view"}'
view() { printf '{"name":"curl_view","properties":{"curl_colour":"%s"}}' "$1"; }
views="{\"events\":[$(view red),$(view red),$(view red),$(view blue)]}"
stored=$(memcached 2 \
  "dimdef curl_colour ${#dimension}\r\n$dimension\r\n" \
  "update curl:pref ${#views}\r\n$views\r\n")
check "the preferences stored" "$(tr '\n' ' ' <<<"$stored")" "DEFINED UPDATED "

# status and body of one GET (or another method: curl's -X)
ask() { curl -s -o - -w '\n%{http_code}' "$@"; }
body() { sed '$d' <<<"$1"; }
code() { tail -n1 <<<"$1"; }

r=$(ask "$http/profiles/curl:1")
check "GET /profiles/curl:1" "$(code "$r") $(body "$r")" "200 $profile"
r=$(ask "$http/profiles/curl:%C3%B6")
check "GET a percent-encoded UTF-8 key" "$(code "$r") $(body "$r")" '200 {"o":1}'
r=$(ask "$http/profiles/curl:1/segments")
check "GET /profiles/curl:1/segments" "$(code "$r") $(body "$r")" '200 ["curl_dk"]'
r=$(ask "$http/segments/curl_dk/count")
check "GET /segments/curl_dk/count" "$(code "$r") $(body "$r")" '200 {"segment":"curl_dk","count":1}'
r=$(ask "$http/segments/curl_dk%20and%20not%20curl_dk/count")
check "GET a segment query's count" "$(code "$r")" 200
r=$(ask "$http/segments")
check "GET /segments lists curl_dk" "$(code "$r") $(grep -c '"name":"curl_dk"' <<<"$(body "$r")")" "200 1"
r=$(ask "$http/health")
check "GET /health" "$(code "$r") $(body "$r" | grep -o '"status":"ok"')" '200 "status":"ok"'
r=$(ask "$http/profiles/curl:nobody")
check "a missing key" "$(code "$r") $(body "$r" | grep -o '"error":"[a-z_]*"')" '404 "error":"no_such_key"'
r=$(ask "$http/profiles/curl:plain")
check "an opaque value" "$(code "$r") $(body "$r" | grep -o '"error":"[a-z_]*"')" '404 "error":"not_a_profile"'
r=$(ask "$http/profiles/curl:1?colour=red")
check "an unknown parameter" "$(code "$r") $(body "$r" | grep -o '"parameter":"colour"')" '400 "parameter":"colour"'
r=$(ask "$http/profiles/curl:1?window=10d")
check "computed traits over a window" "$(code "$r") $(body "$r" | grep -o '"$traits"')" '200 "$traits"'
r=$(ask "$http/segments/curl_dk%20and/count")
check "a bad query" "$(code "$r") $(body "$r" | grep -o '"position":[0-9]*')" '400 "position":11'
r=$(ask "$http/profiles/curl:pref?window=30d&half_life=7d&dimensions=curl_colour")
check "preferences over a window with a half-life" "$(code "$r") $(body "$r" | grep -o '"$preferences":.*')" \
  '200 "$preferences":{"curl_colour":{"total":4.0,"shares":{"red":0.75,"blue":0.25}}}}'
r=$(ask "$http/profiles/curl:pref/affinity?curl_colour=red&prior=4")
check "an item's affinity" "$(code "$r") $(body "$r" | grep -o '"weight":[0-9.]*,"total":[0-9.]*')" \
  '200 "weight":3.0,"total":4.0'
r=$(ask "$http/profiles/curl:pref/affinity?curl_size=9")
check "an affinity of an undefined dimension" "$(code "$r") $(body "$r" | grep -o '"error":"[a-z_]*"')" \
  '400 "error":"bad_item"'
r=$(ask -X DELETE "$http/profiles/curl:1")
check "DELETE" "$(code "$r")" 405
r=$(ask "$http/profiles/$(printf 'k%.0s' $(seq 9000))")
check "an oversized request line" "$(code "$r")" 414
r=$(ask -I "$http/profiles/curl:1")
check "HEAD" "$(code "$r") $(grep -ci '^content-length: '"${#profile}" <<<"$r")" "200 1"
# Two URLs in one curl run share one kept-alive connection.
v=$(curl -sv -o /dev/null -o /dev/null "$http/profiles/curl:1" "$http/health" 2>&1)
check "keep-alive" "$(grep -ci 're-using existing' <<<"$v")" 1

echo "curl: $passed passed, $failed failed"
[ "$failed" = 0 ]
