#!/bin/sh
# Start Asterisk on the config the asterisk-config job rendered into the shared volume.
set -e
DIR=/srv/callcenter/docker
i=0
while [ ! -f "$DIR/etc/asterisk.conf" ]; do
  i=$((i + 1))
  if [ "$i" -gt 60 ]; then echo "no $DIR/etc/asterisk.conf: run the asterisk-config job first" >&2; exit 1; fi
  sleep 1
done
mkdir -p "$DIR/run" "$DIR/spool" "$DIR/log" "$DIR/db"
rm -f "$DIR/run/asterisk.pid" "$DIR/run/asterisk.ctl"
exec asterisk -f -n -C "$DIR/etc/asterisk.conf" "$@"
