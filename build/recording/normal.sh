#!/bin/bash
# Routine work on a device, the normal part of the recordings: requests to the service and
# jobs a maintainer or a cron table runs (shell tools, compression, git, interpreters, a
# database client). Chosen at random from a seeded sequence until the time is up.
# Environment: PORT (the service), WORK (a scratch folder), SEED, SECONDS_TOTAL.
set -u
RANDOM=$SEED
cd "$WORK" || exit 1
mkdir -p repo docs
[ -d repo/.git ] || (cd repo && git init -q && git config user.email ops@example.com && git config user.name ops)
svc=http://127.0.0.1:$PORT
end=$((SECONDS + SECONDS_TOTAL))
n=0
while [ $SECONDS -lt $end ]; do
  n=$((n + 1))
  case $((RANDOM % 16)) in
    0) curl -s "$svc/" > /dev/null ;;
    1) curl -s "$svc/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["uptime"])' > /dev/null ;;
    2) curl -s "$svc/lookup?host=localhost" > /dev/null ;;
    3) head -c $((RANDOM % 4096 + 64)) /usr/share/common-licenses/GPL-3 > "report-$n.txt"; curl -s -X POST --data-binary @"report-$n.txt" "$svc/upload?name=report-$((n % 5)).txt" > /dev/null; curl -s "$svc/files/report-$((n % 5)).txt" > /dev/null; rm -f "report-$n.txt" ;;
    4) ls -la /etc | wc -l > /dev/null; ls "$WORK" > /dev/null ;;
    5) grep -i -c "version" /etc/os-release > /dev/null; cat /etc/hostname > /dev/null ;;
    6) find /usr/share/doc -maxdepth 2 -name '*.gz' 2>/dev/null | head -n $((RANDOM % 30 + 5)) > docs/list.txt ;;
    7) sed -n '1,40p' /etc/services | awk '{print $1}' | sort | uniq | wc -l > /dev/null ;;
    8) tar czf docs.tgz -C /usr/share/doc bash coreutils 2>/dev/null; tar tzf docs.tgz | wc -l > /dev/null; rm -f docs.tgz ;;
    9) cp /usr/share/common-licenses/Apache-2.0 docs/a.txt; gzip -f docs/a.txt; gzip -d -f docs/a.txt.gz; xz -k -f docs/a.txt; xz -d -c docs/a.txt.xz > /dev/null; rm -f docs/a.txt.xz ;;
    10) echo "change $n $(date +%s)" >> repo/notes.txt; (cd repo && git add notes.txt && git commit -q -m "note $n" && git log --oneline | head -n 3 > /dev/null && git status --short > /dev/null) ;;
    11) python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' /etc/services > /dev/null ;;
    12) perl -ne '$n++ if /tcp/; END { print "$n\n" }' /etc/services > /dev/null ;;
    13) sqlite3 metrics.db "create table if not exists m(t integer, v real); insert into m values ($n, $RANDOM); select count(*), avg(v) from m;" > /dev/null ;;
    14) df -h / > /dev/null; du -sh "$WORK" > /dev/null; uname -r > /dev/null; date -u +%FT%TZ > /dev/null; id -u > /dev/null ;;
    15) sha256sum /etc/hostname /etc/os-release > docs/sums.txt; stat -c %s docs/sums.txt > /dev/null; ps -e -o comm= | sort | uniq -c | sort -rn | head -n 5 > /dev/null ;;
  esac
  sleep 0.$((RANDOM % 5 + 1))
done
