// The application a reloader signals. It stamps CLOCK_MONOTONIC inside the
// SIGHUP handler itself, so the stamp is the moment the kernel delivered the
// signal to user space, not the moment a loop got round to noticing it.
//
// Protocol (stdout, one line each, written with write(2) so the handler may
// use it: stdio is not async-signal-safe):
//   ready <ns>    the handler is installed; <ns> lets the bench check that its
//                 own clock (process.hrtime.bigint) is CLOCK_MONOTONIC too
//   signal <ns>   one line per handler invocation
//   total <n>     at exit (SIGTERM): how many times the handler ran
//
// Standard signals do not queue: two SIGHUPs sent while one is pending arrive
// as one. That is what a real application sees too, so "extra" signals are
// counted as the application experiences them.
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stopping;
static volatile sig_atomic_t handled;

static uint64_t monotonic_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

// snprintf is not async-signal-safe, so numbers are formatted by hand.
static void write_line(const char* label, uint64_t value) {
  char line[64];
  size_t n = strlen(label);
  memcpy(line, label, n);
  line[n++] = ' ';
  char digits[24];
  size_t d = 0;
  do {
    digits[d++] = (char)('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (d > 0) line[n++] = digits[--d];
  line[n++] = '\n';
  ssize_t ignored = write(STDOUT_FILENO, line, n);
  (void)ignored;
}

static void on_reload(int signo) {
  (void)signo;
  uint64_t stamp = monotonic_ns();
  handled++;
  write_line("signal", stamp);
}

static void on_stop(int signo) {
  (void)signo;
  stopping = 1;
}

int main(void) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  action.sa_handler = on_reload;
  sigaction(SIGHUP, &action, NULL);
  action.sa_handler = on_stop;
  sigaction(SIGTERM, &action, NULL);
  sigaction(SIGINT, &action, NULL);

  // SIGTERM stays blocked except inside sigsuspend, so a stop request cannot
  // slip in between the check of `stopping` and going to sleep.
  sigset_t stop_signals, waiting;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigprocmask(SIG_BLOCK, &stop_signals, &waiting);
  sigdelset(&waiting, SIGTERM);
  sigdelset(&waiting, SIGINT);

  write_line("ready", monotonic_ns());
  while (!stopping) sigsuspend(&waiting);
  write_line("total", (uint64_t)handled);
  return 0;
}
