#!/usr/bin/env bash
# The Debian package (issue 16, check 2): dpkg-buildpackage -us -uc -b builds
# postgresql-15-pg-recommend from a copy of this tree (debian/, as Debian's own PostgreSQL extensions:
# pg_buildext, debian/pgversions), lintian's findings are printed, apt-get installs the .deb, and a
# fresh cluster creates the extension from the package's files, trains and serves. Afterwards the
# package is purged and `make install` puts the tree's build back. Run as root.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/shell/checks.sh
work=$(mktemp -d)
version=$(dpkg-parsechangelog -l debian/changelog -S Version)
mkdir "$work/pg-recommend-$version"
git ls-files -co --exclude-standard -z | tar --null -cf - -T - | tar -xf - -C "$work/pg-recommend-$version"
(cd "$work/pg-recommend-$version" && dpkg-buildpackage -us -uc -b -j"$(nproc)" >"$work/build.log" 2>&1) ||
    { tail -n 60 "$work/build.log"; exit 1; }
deb="$work/postgresql-15-pg-recommend_${version}_$(dpkg --print-architecture).deb"
check "dpkg-buildpackage -us -uc -b made postgresql-15-pg-recommend $version" "$([ -f "$deb" ] && echo made)" "made"
check "the package holds the library, the control file and every install and update script" \
    "$(dpkg-deb -c "$deb" | grep -cE '/pg_recommend\.so$|/pg_recommend\.control$|/pg_recommend--[0-9.]+(--[0-9.]+)?\.sql$' |
       awk '{ print ($1 >= 4) }')" "1"
# Lintian's findings (docs/install.md lists them), as an ordinary user, as lintian asks.
chmod -R a+rX "$work"
findings=$(su postgres -s /bin/sh -c "lintian --tag-display-limit 0 --display-info --pedantic '$deb'" 2>&1 || true)
echo "   lintian: ${findings:-no findings}" | sed '2,$s/^/     /'

DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >/dev/null
check "apt-get installed it, and the package owns the installed library" \
    "$(dpkg-query -S "$(pg_config --pkglibdir)/pg_recommend.so" | cut -d: -f1)" "postgresql-15-pg-recommend"
cat > "$work/smoke.sql" <<'SQL'
CREATE EXTENSION pg_recommend;
CREATE TABLE r AS SELECT u AS user_id, i AS item_id, 1 + (u * 7 + i * 3) % 5 AS rating
FROM generate_series(1, 60) u, generate_series(1, 40) i WHERE (u + i) % 3 = 0;
SET client_min_messages = warning;
CALL rec.train('smoke', 'r', factors => 4, iterations => 3);
SELECT count(*) FROM rec.recommend(1, 10, 'smoke');
SQL
smoke=$(pg_virtualenv -t -v 15 -o shared_preload_libraries=pg_recommend \
            psql -X -q -At -v ON_ERROR_STOP=1 -f "$work/smoke.sql" 2>/dev/null | grep -xE '[0-9]+' | tail -n 1)
check "a fresh cluster creates the extension from the package, trains and serves 10 items" "$smoke" "10"
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq postgresql-15-pg-recommend >/dev/null
make -s install >/dev/null
rm -rf "$work"
finish
