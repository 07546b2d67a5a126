# The pass/fail tally of the check scripts (check-install.sh, check-image.sh, clients/*_check.sh):
# `check NAME GOT EXPECTED` counts a pass, or a failure it prints; the script reports the counts.
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
