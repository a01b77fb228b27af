#!/usr/bin/env bash
# Start a local PostgreSQL for the store tests and print how to reach it.
#
#   eval "$(bash .ci/postgres.sh)"     # sets TEST_DATABASE_URL
#
# Idempotent: installs Debian's postgresql if no server binaries are found (needs root), starts
# a cluster (as root: the packaged "main" cluster via pg_ctlcluster; otherwise a private
# initdb cluster under $TMPDIR on a free port), creates role backbot/backbot and database
# backbot_test, waits until it accepts connections, and prints exactly one line on stdout:
#   export TEST_DATABASE_URL=postgresql+asyncpg://backbot:backbot@127.0.0.1:<port>/backbot_test
# Everything else goes to stderr.
set -euo pipefail
exec 3>&1 1>&2 # fd 3 keeps the real stdout for the export line; chatter goes to stderr
# Anything that may leave a daemon behind (apt's postinst, pg_ctlcluster, pg_ctl) runs with fd 3
# closed: a server that inherits it keeps the caller's $(...) open, and `eval "$(...)"` never returns.

ROLE=backbot
PASSWORD=backbot
DB=backbot_test

log() { printf 'postgres.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

pg_bindir() {
	# Highest installed major version's bin directory, if any.
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
	if [[ -n "$d" && -x "$d/initdb" ]]; then
		echo "$d"
	elif command -v initdb >/dev/null 2>&1; then
		dirname "$(command -v initdb)"
	fi
}

is_root() { [[ "$(id -u)" -eq 0 ]]; }

# 1. Install the server from Debian packages when missing.
if [[ -z "$(pg_bindir)" ]] || { is_root && ! command -v pg_ctlcluster >/dev/null 2>&1; }; then
	is_root || die "PostgreSQL is not installed and this is not root; install 'postgresql' first"
	log "installing postgresql from Debian packages"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq 3>&-
	apt-get install -y -qq --no-install-recommends postgresql postgresql-client 3>&- </dev/null
fi
BIN=$(pg_bindir)
[[ -n "$BIN" ]] || die "no initdb found after installing postgresql"
VER=$(basename "$(dirname "$BIN")")

# Run a command as the cluster's superuser (postgres when we are root, else ourselves).
as_pg() {
	if is_root; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# 2. Start a cluster; set PORT and SOCKDIR (where the superuser connects without a password).
if is_root && command -v pg_ctlcluster >/dev/null 2>&1; then
	if ! pg_lsclusters -h | awk -v v="$VER" '$1 == v && $2 == "main" {found=1} END {exit !found}'; then
		log "creating cluster $VER/main"
		pg_createcluster "$VER" main >&2 3>&-
	fi
	if ! pg_lsclusters -h | awk -v v="$VER" '$1 == v && $2 == "main" && $4 ~ /online/ {f=1} END {exit !f}'; then
		log "starting cluster $VER/main"
		pg_ctlcluster "$VER" main start 3>&- </dev/null
	fi
	PORT=$(pg_lsclusters -h | awk -v v="$VER" '$1 == v && $2 == "main" {print $3}')
	SOCKDIR=/var/run/postgresql
else
	DATA="${TMPDIR:-/tmp}/backbot-pg-$(id -u)"
	SOCKDIR="$DATA"
	if [[ ! -f "$DATA/PG_VERSION" ]]; then
		log "initdb in $DATA"
		mkdir -p "$DATA"
		is_root && chown postgres: "$DATA"
		chmod 700 "$DATA"
		as_pg "$BIN/initdb" -D "$DATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 >&2
	fi
	if [[ -f "$DATA/backbot.port" ]] && as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
		PORT=$(cat "$DATA/backbot.port")
	else
		PORT=""
		for p in $(seq 54329 54399); do
			# exit code 2 = nothing answers on that port
			if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$p" >/dev/null 2>&1 || [[ $? -ne 2 ]]; then
				continue
			fi
			PORT=$p
			break
		done
		[[ -n "$PORT" ]] || die "no free port in 54329-54399"
		log "starting private cluster on port $PORT"
		as_pg "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -t 60 start \
			-o "-p $PORT -k $DATA -c listen_addresses=127.0.0.1" >&2 3>&- </dev/null
		echo "$PORT" | as_pg tee "$DATA/backbot.port" >/dev/null
	fi
fi
[[ -n "${PORT:-}" ]] || die "could not find the cluster's port"

# 3. Wait until the server accepts connections.
for _ in $(seq 1 60); do
	"$BIN/pg_isready" -q -h "$SOCKDIR" -p "$PORT" && break
	sleep 1
done
"$BIN/pg_isready" -h "$SOCKDIR" -p "$PORT" >&2 || die "server on port $PORT is not accepting connections"

# 4. Role and database, created or reset so a second run converges to the same state.
psql_su() { as_pg "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCKDIR" -p "$PORT" -U postgres -d postgres "$@"; }
psql_su <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') THEN
    CREATE ROLE $ROLE LOGIN PASSWORD '$PASSWORD' CREATEDB;
  ELSE
    ALTER ROLE $ROLE LOGIN PASSWORD '$PASSWORD' CREATEDB;
  END IF;
END
\$\$;
SQL
if [[ "$(psql_su -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != "1" ]]; then
	log "creating database $DB"
	psql_su -c "CREATE DATABASE $DB OWNER $ROLE"
fi

# 5. Prove the exact URL works: password login over TCP on 127.0.0.1.
for _ in $(seq 1 30); do
	if PGPASSWORD="$PASSWORD" "$BIN/psql" -X -q -h 127.0.0.1 -p "$PORT" -U "$ROLE" -d "$DB" \
		-tAc "SELECT 1" >/dev/null 2>&1; then
		log "ready: $ROLE@127.0.0.1:$PORT/$DB"
		echo "export TEST_DATABASE_URL=postgresql+asyncpg://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DB" >&3
		exit 0
	fi
	sleep 1
done
die "cannot log in as $ROLE on 127.0.0.1:$PORT (check pg_hba.conf allows password logins)"
