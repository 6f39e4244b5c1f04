#!/usr/bin/env bash
# The PGXN META.json (issue 16): valid JSON with the fields the PGXN meta spec 1.0.0 requires, and its
# versions equal to the control file's default_version (a release bumps both).
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/shell/checks.sh
control_version=$(sed -n "s/^default_version = '\(.*\)'/\1/p" pg_recommend.control)
check "META.json is valid JSON with the required fields" \
    "$(/usr/bin/python3 -c "import json; m = json.load(open('META.json'))
print(all(k in m for k in ('name', 'abstract', 'version', 'maintainer', 'license', 'provides', 'meta-spec')))")" "True"
check "META.json's versions are the control file's" \
    "$(/usr/bin/python3 -c "import json; m = json.load(open('META.json')); print(m['version'], m['provides']['pg_recommend']['version'])")" \
    "$control_version $control_version"
check "META.json's provided file is the install script" \
    "$(/usr/bin/python3 -c "import json, os; print(os.path.isfile(json.load(open('META.json'))['provides']['pg_recommend']['file']))")" "True"
finish
