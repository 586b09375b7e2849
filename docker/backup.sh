#!/bin/sh
# PostgreSQL backup and restore for the 12345 hall (pg_dump custom format).
#   backup.sh dump              write $BACKUP_DIR/callcenter-<UTC time>.dump, keep the last $BACKUP_KEEP;
#                               with $RECORDINGS_DIR (the call recordings' directory store) also
#                               recordings-<UTC time>.tar of it (the rows are in the dump)
#   backup.sh restore FILE      restore FILE into the database (replaces its tables), one transaction
#   backup.sh restore-recordings FILE
#                               put the recordings of a recordings-<time>.tar back under $RECORDINGS_DIR
#                               (files there that the tar also has are replaced, others are kept; restore
#                               the dump of the same time so the rows and files agree)
#   backup.sh list              the dumps there are
# The database comes from CALLCENTER_DATABASE_URL (the same env file as the controller). Runs
# as the compose job `backup` (docker/README.md) or on any host with pg_dump >= the server's.
set -eu
URL="${CALLCENTER_DATABASE_URL:?set CALLCENTER_DATABASE_URL}"
DIR="${BACKUP_DIR:-/backups}"
KEEP="${BACKUP_KEEP:-14}"
case "${1:-dump}" in
dump)
  mkdir -p "$DIR"
  out="$DIR/callcenter-$(date -u +%Y%m%dT%H%M%SZ).dump"
  pg_dump --format=custom --no-owner --file="$out.partial" "$URL"
  mv "$out.partial" "$out"
  echo "backup: wrote $out ($(wc -c < "$out") bytes)"
  ls -1 "$DIR"/callcenter-*.dump | sort | head -n "-$KEEP" | while read -r old; do rm -f "$old"; echo "backup: removed $old"; done
  if [ -n "${RECORDINGS_DIR:-}" ] && [ -d "$RECORDINGS_DIR" ]; then
    rec="$DIR/recordings-$(date -u +%Y%m%dT%H%M%SZ).tar"
    tar -cf "$rec.partial" -C "$RECORDINGS_DIR" .
    mv "$rec.partial" "$rec"
    echo "backup: wrote $rec ($(wc -c < "$rec") bytes)"
    ls -1 "$DIR"/recordings-*.tar | sort | head -n "-$KEEP" | while read -r old; do rm -f "$old"; echo "backup: removed $old"; done
  fi
  ;;
restore)
  file="${2:?backup.sh restore FILE}"
  [ -f "$file" ] || { echo "backup: no such file $file" >&2; exit 2; }
  pg_restore --clean --if-exists --no-owner --single-transaction --exit-on-error --dbname="$URL" "$file"
  echo "backup: restored $file"
  ;;
restore-recordings)
  file="${2:?backup.sh restore-recordings FILE}"
  [ -f "$file" ] || { echo "backup: no such file $file" >&2; exit 2; }
  dest="${RECORDINGS_DIR:?set RECORDINGS_DIR (the recordings directory to restore into)}"
  mkdir -p "$dest"
  tar -xf "$file" -C "$dest"
  echo "backup: restored the recordings of $file into $dest"
  ;;
list)
  ls -l "$DIR"/callcenter-*.dump 2>/dev/null || echo "backup: no dumps in $DIR"
  ;;
*)
  echo "usage: backup.sh dump | restore FILE | restore-recordings FILE | list" >&2; exit 2
  ;;
esac
