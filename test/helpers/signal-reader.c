// A process that takes signals without installing a handler, the way init
// shims and event-loop daemons do, for the tests of signal reception:
//
//   signal-reader sigtimedwait SIGNO...  block the signals, then wait for them
//                                        in sigtimedwait (1 s timeout, as tini)
//   signal-reader sigwait SIGNO...       block them, then wait in sigwait (as dumb-init)
//   signal-reader signalfd SIGNO...      block them and read them from a signalfd
//   signal-reader blocked SIGNO...       block them and never read them
//   signal-reader unblocked-wait SIGNO...  wait in sigwait WITHOUT blocking them
//                                        first; a signal arriving then is
//                                        delivered with its default action
//   signal-reader threaded-open SIGNO... the main thread blocks and waits; a
//                                        second thread leaves the signals open
//   signal-reader threaded-wait SIGNO... every thread blocks them; a second
//                                        thread waits for them in sigwait
//   signal-reader late SIGNO...          like sigtimedwait, but blocks only
//                                        after 1.5 s (an app still starting)
//
// Prints "ready PID" once set up (for `late`: at start, before blocking;
// then "blocked PID"), and "got SIGNO" for each signal it takes.
// Build: gcc -pthread.
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

static sigset_t set;

static void say(const char *what, int value) {
  printf("%s %d\n", what, value);
  fflush(stdout);
}

static void wait_with_sigwait(void) {
  for (;;) {
    int signo = 0;
    if (sigwait(&set, &signo) == 0) say("got", signo);
  }
}

static void wait_with_sigtimedwait(void) {
  const struct timespec second = {1, 0};
  for (;;) {
    int signo = sigtimedwait(&set, NULL, &second);
    if (signo > 0) say("got", signo);
  }
}

static void *open_thread(void *arg) {
  (void)arg;
  sigset_t none;
  sigemptyset(&none);
  pthread_sigmask(SIG_SETMASK, &none, NULL);
  for (;;) pause();
  return NULL;
}

static void *waiting_thread(void *arg) {
  (void)arg;
  wait_with_sigwait();
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s MODE SIGNO...\n", argv[0]);
    return 2;
  }
  const char *mode = argv[1];
  sigemptyset(&set);
  for (int i = 2; i < argc; i++) sigaddset(&set, atoi(argv[i]));

  if (strcmp(mode, "unblocked-wait") == 0) {
    say("ready", getpid());
    wait_with_sigwait();
  }
  if (strcmp(mode, "late") == 0) {
    say("ready", getpid());
    usleep(1500 * 1000);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    say("blocked", getpid());
    wait_with_sigtimedwait();
  }
  pthread_t thread;
  if (strcmp(mode, "threaded-open") == 0) {
    // Created before blocking: the thread starts with the signals open.
    if (pthread_create(&thread, NULL, open_thread, NULL) != 0) return 1;
  }
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  if (strcmp(mode, "threaded-wait") == 0) {
    // Created after blocking: the thread inherits the mask, as it must.
    if (pthread_create(&thread, NULL, waiting_thread, NULL) != 0) return 1;
    usleep(100 * 1000);
    say("ready", getpid());
    for (;;) pause();
  }
  if (strcmp(mode, "signalfd") == 0) {
    int fd = signalfd(-1, &set, SFD_CLOEXEC);
    if (fd < 0) return 1;
    say("ready", getpid());
    for (;;) {
      struct pollfd pfd = {fd, POLLIN, 0};
      struct signalfd_siginfo info;
      if (poll(&pfd, 1, -1) == 1 && read(fd, &info, sizeof info) == (ssize_t)sizeof info) say("got", (int)info.ssi_signo);
    }
  }
  if (strcmp(mode, "threaded-open") == 0) usleep(100 * 1000);
  say("ready", getpid());
  if (strcmp(mode, "sigtimedwait") == 0 || strcmp(mode, "threaded-open") == 0) wait_with_sigtimedwait();
  if (strcmp(mode, "sigwait") == 0) wait_with_sigwait();
  if (strcmp(mode, "blocked") == 0) for (;;) pause();
  fprintf(stderr, "unknown mode %s\n", mode);
  return 2;
}
