# Shared helpers for bin/run and bin/test (sourced, not executed).
# Everything a fresh machine lacks is installed here, so both commands work from a clean clone.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ODOO_SRC=${ODOO_SRC:-/opt/odoo-19.0}
CACHE_DIR=${COMUNIK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/comunik_mail}
VENV=${COMUNIK_VENV:-$CACHE_DIR/venv}
LOCAL_DIR=$ROOT/.local
ODOO_ARCHIVE_URL=${ODOO_ARCHIVE_URL:-https://nightly.odoo.com/19.0/nightly/src/odoo_19.0.latest.tar.gz}
# comunik_support (test, demo and benchmark support code) is imported from this checkout by every process the
# commands start (pytest, odoo-bin and its tests, odoo-bin shell scripts, demo servers). PYTHONPATH rather than a
# .pth file in the virtualenv: the virtualenv is shared by every checkout, the environment is per run.
export PYTHONPATH=$ROOT${PYTHONPATH:+:$PYTHONPATH}
# Odoo renders each module's description with docutils when it installs it, and docutils prints the mistakes it
# finds to stderr: Odoo's own "mail" module description has one ("<string>:38: (ERROR/3) Unexpected indentation").
# Only severe docutils problems are printed (comunik_mail's README.rst is checked strictly by tests_services).
export DOCUTILSCONFIG=$ROOT/bin/docutils.conf

log() { printf '\033[1;34m[comunik]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[comunik]\033[0m %s\n' "$*" >&2; exit 1; }

# Debian packages: IMAP server for tests/demo, Chromium for tours, PostgreSQL, headers for python-ldap/psycopg2.
ensure_system_packages() {
    local missing=()
    command -v dovecot >/dev/null || [ -x /usr/sbin/dovecot ] || missing+=(dovecot-imapd)
    command -v chromium >/dev/null || missing+=(chromium)
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
    command -v pg_config >/dev/null || missing+=(libpq-dev)
    [ -e /usr/include/ldap.h ] || missing+=(libldap2-dev)
    [ -e /usr/include/sasl/sasl.h ] || missing+=(libsasl2-dev)
    command -v openssl >/dev/null || missing+=(openssl)
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        log "Installing Debian packages: ${missing[*]}"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
        # The package starts a system-wide Dovecot on 143/993; we run our own on other ports.
    else
        die "Missing system packages: ${missing[*]} (install them with apt-get as root)."
    fi
}

# Odoo 19 community source: $ODOO_SRC, else download Odoo's official source archive.
ensure_odoo() {
    if [ -f "$ODOO_SRC/odoo-bin" ] && [ -d "$ODOO_SRC/addons/mail" ]; then
        return 0
    fi
    log "No Odoo 19 source tree at $ODOO_SRC (set ODOO_SRC to use another one)."
    log "Downloading Odoo 19 community from $ODOO_ARCHIVE_URL (about 300 MB, needs internet access)..."
    local tmp
    tmp=$(mktemp -d)
    curl -fSL --retry 2 "$ODOO_ARCHIVE_URL" -o "$tmp/odoo.tar.gz" || die "Download failed: get Odoo 19 from https://www.odoo.com/page/download or https://github.com/odoo/odoo (branch 19.0) and set ODOO_SRC."
    mkdir -p "$ODOO_SRC"
    tar -xzf "$tmp/odoo.tar.gz" -C "$ODOO_SRC" --strip-components=1
    rm -rf "$tmp"
    [ -f "$ODOO_SRC/odoo-bin" ] || die "The archive did not contain odoo-bin."
    log "Odoo 19 installed in $ODOO_SRC."
}

pick_python() {
    if [ -n "${COMUNIK_PYTHON:-}" ]; then echo "$COMUNIK_PYTHON"; return; fi
    local candidate found
    # Probe quietly: a pyenv shim of a version that is installed but not selected is on PATH and prints
    # "pyenv: python3.12: command not found ... pyenv global" when run. The interpreter behind a shim that works
    # is returned (sys.executable), so the virtualenv never depends on the shim.
    for candidate in python3.12 "$HOME"/.pyenv/versions/3.12*/bin/python3.12 \
                     python3.11 "$HOME"/.pyenv/versions/3.11*/bin/python3.11 python3; do
        command -v "$candidate" >/dev/null 2>&1 || continue
        found=$("$candidate" -c 'import sys
ok = (3, 11) <= sys.version_info[:2] < (3, 13)
print(sys.executable if ok else "")' 2>/dev/null) || continue
        if [ -n "$found" ]; then echo "$found"; return; fi
    done
    die "Python 3.11 or 3.12 is required (set COMUNIK_PYTHON)."
}

# Virtualenv with Odoo's and the addon's requirements, reinstalled only when they change.
ensure_venv() {
    local stamp want
    want=$(cat "$ODOO_SRC/requirements.txt" "$ROOT/requirements.txt" | sha256sum | cut -c1-16)
    stamp="$VENV/.comunik-requirements"
    if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
        PY=$VENV/bin/python
        return 0
    fi
    local python
    python=$(pick_python)
    log "Preparing the virtualenv $VENV with $python (first time: a few minutes)..."
    [ -x "$VENV/bin/python" ] || "$python" -m venv "$VENV"
    mkdir -p "$CACHE_DIR"
    if ! { "$VENV/bin/pip" install -q --upgrade pip wheel setuptools \
           && "$VENV/bin/pip" install -q -r "$ODOO_SRC/requirements.txt" -r "$ROOT/requirements.txt"; \
         } >"$CACHE_DIR/pip.log" 2>&1; then
        tail -20 "$CACHE_DIR/pip.log" >&2
        die "pip install failed (full log: $CACHE_DIR/pip.log)"
    fi
    echo "$want" > "$stamp"
    PY=$VENV/bin/python
}

pg_answers() {
    "$PY" - <<'PYEOF' >/dev/null 2>&1
import psycopg2
psycopg2.connect(dbname="postgres", connect_timeout=3).close()
PYEOF
}

# PostgreSQL from the usual PG* variables; if none answers, a project-local cluster in .local/.
ensure_postgres() {
    if pg_answers; then
        return 0
    fi
    local bindir pgdata sockdir port owner
    bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    local pgroot=$LOCAL_DIR
    port=${COMUNIK_PGPORT:-55432}
    owner=$(id -un)
    local as=()
    if [ "$(id -u)" = 0 ]; then
        # PostgreSQL refuses to run as root: the cluster belongs to 'postgres', which must reach its folder.
        owner=postgres; as=(runuser -u postgres --)
        mkdir -p "$LOCAL_DIR"
        if ! runuser -u postgres -- test -x "$LOCAL_DIR"; then
            pgroot=/var/lib/comunik_mail/$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)
        fi
    fi
    pgdata=$pgroot/pgdata
    sockdir=$pgroot/pgrun
    mkdir -p "$sockdir"
    chown "$owner" "$sockdir" 2>/dev/null || true
    if [ ! -f "$pgdata/PG_VERSION" ]; then
        log "No PostgreSQL answered; creating a project-local cluster in $pgdata"
        mkdir -p "$pgdata"; chown "$owner" "$pgdata"
        "${as[@]}" "$bindir/initdb" -D "$pgdata" -A trust -U "$owner" -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    export PGHOST=$sockdir PGPORT=$port
    if ! pg_answers; then
        log "Starting the project-local PostgreSQL (socket $sockdir, port $port)"
        "${as[@]}" "$bindir/pg_ctl" -D "$pgdata" -l "$sockdir/postgresql.log" -w \
            -o "-k $sockdir -p $port -c listen_addresses=''" start >/dev/null
    fi
    # Odoo refuses the 'postgres' role: use a dedicated superuser role.
    "${as[@]}" env PGHOST="$sockdir" PGPORT="$port" "$bindir/psql" -U "$owner" -d postgres -Atqc \
        "DO \$\$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname='odoo') THEN CREATE ROLE odoo LOGIN SUPERUSER; END IF; END\$\$" >/dev/null
    export PGUSER=odoo
    pg_answers || die "PostgreSQL did not start; see $sockdir/postgresql.log"
}

odoo_bin() {
    "$PY" "$ODOO_SRC/odoo-bin" --addons-path="$ODOO_SRC/addons,$ROOT" --http-interface=127.0.0.1 "$@"
}

db_exists() {
    "$PY" - "$1" <<'PYEOF'
import sys, psycopg2
conn = psycopg2.connect(dbname="postgres")
cur = conn.cursor()
cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (sys.argv[1],))
sys.exit(0 if cur.fetchone() else 1)
PYEOF
}

# ensure_test_db NAME [always]: a database with comunik_mail installed and French loaded, as bin/test installs it
# (no test run); created when missing, upgraded when it exists and "always" is given.
ensure_test_db() {
    local db=$1 log=$LOCAL_DIR/test-db-$1.log
    mkdir -p "$LOCAL_DIR/filestore"
    if ! db_exists "$db"; then
        log "Creating database '$db' with comunik_mail (log: $log)"
        odoo_bin -d "$db" --data-dir="$LOCAL_DIR/filestore" -i comunik_mail --load-language=fr_FR \
            --stop-after-init --no-http --max-cron-threads=0 --log-level=warn >"$log" 2>&1 \
            || { tail -20 "$log" >&2; die "installing comunik_mail in '$db' failed"; }
    elif [ "${2:-}" = always ]; then
        log "Upgrading comunik_mail in database '$db' (log: $log)"
        odoo_bin -d "$db" --data-dir="$LOCAL_DIR/filestore" -u comunik_mail \
            --stop-after-init --no-http --max-cron-threads=0 --log-level=warn >"$log" 2>&1 \
            || { tail -20 "$log" >&2; die "upgrading comunik_mail in '$db' failed"; }
    fi
}

prepare() {
    ensure_system_packages
    ensure_odoo
    ensure_venv
    ensure_postgres
}
