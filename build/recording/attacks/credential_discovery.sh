#!/bin/bash
# Looking for credentials and SUID programs.
cat /etc/shadow > /dev/null 2>&1
grep -rIs -l "password" /etc 2>/dev/null | head -n 20 > /dev/null
find /usr/bin /usr/sbin /usr/lib/dbus-1.0 /usr/lib/openssh -xdev -perm -4000 -type f 2>/dev/null > /dev/null
ls -la /root/.ssh /home/*/.ssh 2>/dev/null > /dev/null
cat /root/.bash_history 2>/dev/null | tail -n 20 > /dev/null
