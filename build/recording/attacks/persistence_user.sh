#!/bin/bash
# Persistence by adding a user (removed again at once).
u=argos-probe-$REP
useradd -M -s /bin/sh "$u" && usermod -a -G sudo "$u" 2>/dev/null
id "$u" > /dev/null 2>&1
userdel "$u" 2>/dev/null
