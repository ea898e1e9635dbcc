// A process whose main thread exits while a second thread runs on: the
// kernel then shows it as state Z, yet it is alive and handles signals.
// Prints its pid, then "HUP" for every SIGHUP. Build: gcc -pthread.
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static void on_hup(int signo) {
  (void)signo;
  ssize_t ignored = write(STDOUT_FILENO, "HUP\n", 4);
  (void)ignored;
}

static void *run(void *arg) {
  (void)arg;
  for (;;) pause();
  return NULL;
}

int main(void) {
  signal(SIGHUP, on_hup);
  pthread_t thread;
  if (pthread_create(&thread, NULL, run, NULL) != 0) return 1;
  printf("%d\n", (int)getpid());
  fflush(stdout);
  pthread_exit(NULL);
}
