// A signal prepared in advance and sent from a thread of its own the moment
// a commit name (the kubelet's `..data`) appears in a watched directory.
//
// Why a thread: the kernel wakes a reader on the CPU of the task that woke
// it (the kubelet), and under EEVDF the reader preempts that task only if it
// has done little work lately. The event-loop thread does the sidecar's
// bookkeeping after every update, so it usually waits for the writer to
// block (0.3-0.5 ms); a thread that only sleeps and signals runs at once.
// docs/benchmarks.md ("Latency") has the traces.
//
// Why it is still thin: every decision is made in lib/sidecar/commit-signal.ts
// and handed over as a plan (which directories, which files and their
// content as last delivered, which processes, which signal, what each
// process's status must show). The thread only carries the plan out: it
// sends when at least one planned file now reads differently from its
// baseline, no new top-level name appeared, and the target's status still
// matches, and otherwise does nothing, leaving the update to the event loop. It fires at most once per
// arm(); the event loop takes the report with disarm() before it decides
// anything itself, so the two never both signal for one update.
#pragma once

#include <napi.h>

#include <memory>

namespace config_reloader {

class CommitSignalCore;

class CommitSignal : public Napi::ObjectWrap<CommitSignal> {
 public:
  static Napi::Function Define(Napi::Env env);

  explicit CommitSignal(const Napi::CallbackInfo& info);
  ~CommitSignal() override;

 private:
  // arm(plan) -> number of planned files with a baseline (0: not armed).
  Napi::Value Arm(const Napi::CallbackInfo& info);
  // disarm() -> the report of a firing since arm(), or null.
  Napi::Value Disarm(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  CommitSignalCore* RequireOpen(Napi::Env env);
  void Shutdown();
  static void OnEnvironmentCleanup(void* data);

  std::unique_ptr<CommitSignalCore> core_;
  napi_env env_ = nullptr;
};

}  // namespace config_reloader
