// The floor: the least work any reloader can do for a kubelet update. One
// blocking read(2) on an inotify descriptor watching the volume directory,
// then kill(2) to a pid given up front (no process lookup, no debounce, no
// event loop). Anything slower than this is overhead of the reloader.
//
// Usage: floor-reloader DIR PID
// The kubelet publishes an update by renaming `..data_tmp` over `..data`, so
// the one event that matters is IN_MOVED_TO named `..data`.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: floor-reloader DIR PID\n");
    return 2;
  }
  pid_t target = (pid_t)strtol(argv[2], NULL, 10);
  int fd = inotify_init1(IN_CLOEXEC);
  if (fd < 0 || inotify_add_watch(fd, argv[1], IN_MOVED_TO | IN_ONLYDIR) < 0) {
    perror("floor-reloader: inotify");
    return 1;
  }
  printf("ready\n");
  fflush(stdout);

  // Aligned for struct inotify_event and big enough for a NAME_MAX name.
  char buffer[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("floor-reloader: read");
      return 1;
    }
    for (char* cursor = buffer; cursor < buffer + n;) {
      const struct inotify_event* event = (const struct inotify_event*)cursor;
      if (event->len > 0 && strcmp(event->name, "..data") == 0 && kill(target, SIGHUP) < 0) {
        perror("floor-reloader: kill");
      }
      cursor += sizeof(struct inotify_event) + event->len;
    }
  }
}
