# Shared by the shell tests (source it): check() records one assertion, sql() runs psql quietly with
# unaligned output against the server in the PG* variables, finish() prints the tally and fails if any
# check did.
passed=0
failed=0
# A script that set -e stops says where, instead of ending without a word (a vanished /proc entry once
# ended worker_threads.sh silently after its first check).
trap 'echo "not ok - $(basename "$0") stopped at line $LINENO: $BASH_COMMAND"' ERR
check() {  # description, actual, expected
    if [ "$2" = "$3" ]; then echo "ok - $1"; passed=$((passed + 1));
    else echo "not ok - $1: expected '$3', got '$2'"; failed=$((failed + 1)); fi
}
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" = 0 ]
}
