// A burst of file events, as fast as one process can make them: reads
// directory paths from stdin (one per line), then creates COUNT empty files
// round-robin across them. Each file is open(O_CREAT) + close, which is
// exactly two inotify events under the usual change mask (IN_CREATE and
// IN_CLOSE_WRITE), with a distinct name so the kernel cannot merge them.
//
// Usage: burst COUNT < dirs.txt
// Prints: start <ns> / end <ns> (CLOCK_MONOTONIC) around the burst.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t monotonic_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: burst COUNT < dirs.txt\n");
    return 2;
  }
  long count = strtol(argv[1], NULL, 10);
  size_t capacity = 1024, dirs = 0;
  char** paths = malloc(capacity * sizeof *paths);
  char* line = NULL;
  size_t length = 0;
  ssize_t n;
  while ((n = getline(&line, &length, stdin)) > 0) {
    if (line[n - 1] == '\n') line[--n] = '\0';
    if (n == 0) continue;
    if (dirs == capacity) paths = realloc(paths, (capacity *= 2) * sizeof *paths);
    paths[dirs++] = strdup(line);
  }
  if (dirs == 0) {
    fprintf(stderr, "burst: no directories on stdin\n");
    return 2;
  }

  char path[4096];
  uint64_t start = monotonic_ns();
  for (long i = 0; i < count; i++) {
    snprintf(path, sizeof path, "%s/burst-%ld", paths[i % (long)dirs], i);
    int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0) {
      perror(path);
      return 1;
    }
    close(fd);
  }
  uint64_t end = monotonic_ns();
  printf("start %llu\nend %llu\n", (unsigned long long)start, (unsigned long long)end);
  return 0;
}
