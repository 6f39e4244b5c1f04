#!/usr/bin/env bash
# The streaming example (examples/streaming) end to end in a browser: setup.sql into a fresh
# database, app.py on a free loopback port, the home page loaded by headless Chromium. Checks that
# every row is there and non-empty, with titles, no film twice on the page, the page showing what
# streaming.home_page returns, and HTML escaping. Needs the Debian packages chromium and
# python3-psycopg2; connects through the PG* variables like the other shell tests.
# SCREENSHOT=path also writes a 1280-pixel-wide screenshot (docs/streaming_page.png is made so).
set -euo pipefail
shot=${SCREENSHOT:+$(realpath -m "$SCREENSHOT")}  # relative to where the test was started
cd "$(dirname "$0")/../.."
db=streaming_page_test
user=${STREAMING_USER:-1}
# Debian's python3-psycopg2 is for the system Python; another python3 may come first on PATH.
python=${PYTHON:-/usr/bin/python3}
work=$(mktemp -d)
app_pid=""
cleanup() {
    if [ -n "$app_pid" ]; then kill "$app_pid" 2>/dev/null || true; wait "$app_pid" 2>/dev/null || true; fi
    rm -rf "$work"
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT
fail() { echo "not ok - $*"; echo "0 passed, 1 failed"; exit 1; }

command -v chromium >/dev/null || fail "chromium is not installed (apt-get install chromium)"
"$python" -c "import psycopg2" 2>/dev/null || fail "$python has no psycopg2 (apt-get install python3-psycopg2)"

psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
export PGDATABASE=$db
psql -X -q -v ON_ERROR_STOP=1 -v data="$PWD/data/ml-latest-small" -f examples/streaming/setup.sql \
    >"$work/setup.log" 2>&1 || { cat "$work/setup.log"; fail "examples/streaming/setup.sql failed"; }

# --port 0: the kernel picks a free port, which the app prints once it listens.
"$python" examples/streaming/app.py --host 127.0.0.1 --port 0 >"$work/app.log" 2>&1 &
app_pid=$!
port=""
for _ in $(seq 100); do
    port=$(sed -n 's|^serving http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$work/app.log")
    [ -n "$port" ] && break
    kill -0 "$app_pid" 2>/dev/null || { cat "$work/app.log"; fail "app.py exited"; }
    sleep 0.1
done
[ -n "$port" ] || { cat "$work/app.log"; fail "app.py did not start listening within 10 s"; }

# browse QUERY OUT: the page's DOM after loading, in OUT.
browse() {
    local query=$1 out=$2
    timeout 60 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$work/profile" \
        --dump-dom "http://127.0.0.1:$port/$query" >"$out" 2>"$work/chromium.log" ||
        { tail -n 20 "$work/chromium.log"; cat "$work/app.log"; fail "chromium could not load /$query"; }
}
browse "?user=$user" "$work/page.html"
browse "?user=99999" "$work/unknown.html"
browse "?user=%3Cscript%3Ealert(1)%3C/script%3E" "$work/bad.html"

# What the page must show: streaming.home_page's items in page order, and the new releases.
expected=$(psql -X -At -c "SELECT string_agg(item_id::text, ' ' ORDER BY row_no, position) FROM streaming.home_page($user)")
new_releases=$(psql -X -At -c "SELECT string_agg(item_id::text, ' ') FROM streaming.new_releases")
# What the page showed, as the app logged it (rec.log_impressions): one list per row, in page order.
logged=$(psql -X -At -c "SELECT string_agg(array_to_string(items, ' '), ' ' ORDER BY shown_at) FROM rec.impressions
                         WHERE model = 'home' AND user_id = '$user' AND served_by = 'application'")

"$python" - "$work" "$user" "$expected" "$new_releases" "$logged" <<'PY'
import sys
from html.parser import HTMLParser

work, user, expected, new_releases = sys.argv[1], sys.argv[2], sys.argv[3].split(), set(sys.argv[4].split())


class Page(HTMLParser):
    """Sections (data-row), their headings and tiles (data-item-id, title text)."""

    def __init__(self):
        super().__init__()
        self.rows, self.scripts, self.stack, self.field = [], 0, [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if tag == "section" and "data-row" in a:
            self.rows.append({"kind": a["data-row"], "heading": "", "tiles": []})
        elif tag == "h2" and self.rows:
            self.field = "heading"
        elif tag == "li" and "data-item-id" in a and self.rows:
            self.rows[-1]["tiles"].append({"id": a["data-item-id"], "title": ""})
        elif tag == "span" and a.get("class") == "title" and self.rows and self.rows[-1]["tiles"]:
            self.field = "title"

    def handle_endtag(self, tag):
        if tag in ("h2", "span"):
            self.field = None

    def handle_data(self, data):
        if self.field == "heading":
            self.rows[-1]["heading"] += data
        elif self.field == "title":
            self.rows[-1]["tiles"][-1]["title"] += data


def parse(name):
    p = Page()
    p.feed(open(f"{work}/{name}", encoding="utf-8").read())
    return p


passed = failed = 0


def check(ok, what, why=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok - {what}")
    else:
        failed += 1
        print(f"not ok - {what}: {why}")


def common_checks(page, who, because_rows):
    kinds = [r["kind"] for r in page.rows]
    want = ["top-picks"] + ["because-you-watched"] * because_rows + ["trending", "new-releases"]
    check(kinds == want, f"{who}: the rows in page order", f"got {kinds}, want {want}")
    empty = [r["heading"] for r in page.rows if not r["tiles"]]
    check(page.rows and not empty, f"{who}: every row has tiles ({', '.join(str(len(r['tiles'])) for r in page.rows)})",
          f"empty rows: {empty}")
    ids = [t["id"] for r in page.rows for t in r["tiles"]]
    seen, twice = set(), []
    for i in ids:
        if i in seen:
            twice.append(i)
        seen.add(i)
    where = {i: [r["heading"] for r in page.rows if any(t["id"] == i for t in r["tiles"])] for i in twice}
    check(ids and not twice, f"{who}: no film twice on the page ({len(ids)} tiles)", f"twice: {where}")
    untitled = [t["id"] for r in page.rows for t in r["tiles"] if not t["title"].strip()]
    check(not untitled, f"{who}: every tile shows a title", f"no title: {untitled}")
    outside = [t["id"] for r in page.rows if r["kind"] == "new-releases" for t in r["tiles"] if t["id"] not in new_releases]
    check(not outside, f"{who}: the new releases row holds only held-out new releases", f"others: {outside}")
    check(page.scripts == 0, f"{who}: no script element", f"{page.scripts} script elements")
    return ids


page = parse("page.html")
ids = common_checks(page, f"user {user}", 3)
headings = [r["heading"] for r in page.rows]
byw = [h for h in headings if h.startswith("Because you watched ") and len(h) > len("Because you watched ")]
check(len(byw) == 3, f"user {user}: three 'Because you watched <title>' headings", f"headings: {headings}")
check(ids == expected, f"user {user}: the page shows streaming.home_page's items in its order",
      f"page {ids}, function {expected}")
check(sys.argv[5].split() == ids, f"user {user}: the app logged what the page showed (rec.log_impressions)",
      f"logged {sys.argv[5].split()}, page {ids}")
common_checks(parse("unknown.html"), "unknown user 99999", 0)
bad = open(f"{work}/bad.html", encoding="utf-8").read()
check("&lt;script&gt;alert(1)&lt;/script&gt;" in bad and parse("bad.html").scripts == 0,
      "a user id with markup in it is shown escaped", bad[-400:])
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY

if [ -n "$shot" ]; then
    rm -f "$shot"
    timeout 60 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$work/profile" --hide-scrollbars \
        --window-size=1280,"${SCREENSHOT_HEIGHT:-1180}" --screenshot="$shot" "http://127.0.0.1:$port/?user=$user" \
        >/dev/null 2>"$work/chromium.log" || true
    if [ ! -s "$shot" ]; then tail -n 20 "$work/chromium.log"; fail "chromium wrote no screenshot to $shot"; fi
    echo "screenshot of user $user's page: $shot"
fi
