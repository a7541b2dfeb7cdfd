#!/bin/bash
# Persistence by a cron entry (removed again at once).
made=0
[ -d /etc/cron.d ] || { mkdir -p /etc/cron.d && made=1; }
echo "*/5 * * * * root /tmp/.update-$REP >/dev/null 2>&1" > /etc/cron.d/argos-probe-$REP
chmod 644 /etc/cron.d/argos-probe-$REP
ls -la /etc/cron.d > /dev/null
rm -f /etc/cron.d/argos-probe-$REP
[ $made -eq 1 ] && rmdir /etc/cron.d
exit 0
