#include "commit_signal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "arguments.h"
#include "errno_error.h"
#include "signals.h"

namespace config_reloader {
namespace {

// What a commit looks like from the directory it lands in: a rename over
// the name (the kubelet since 1.10) or a first creation of it.
constexpr uint32_t kCommitMask = IN_MOVED_TO | IN_CREATE | IN_ONLYDIR;

// A file's content as far as "did it change" goes. Not cryptographic, and
// need not be: equal digests of different contents would only make the
// thread stand aside, and the event loop would then decide with sha256.
struct Digest {
  uint64_t size = 0;
  uint64_t hash = 0;
  bool operator==(const Digest& other) const { return size == other.size && hash == other.hash; }
};

class ContentHasher {
 public:
  void Update(const unsigned char* data, size_t length) {
    size_ += length;
    for (size_t i = 0; i < length; i++) {
      hash_ ^= data[i];
      hash_ *= 0x100000001b3ULL;  // FNV-1a, 64 bit
    }
  }
  Digest Finish() const { return {size_, hash_}; }

 private:
  uint64_t size_ = 0;
  uint64_t hash_ = 0xcbf29ce484222325ULL;
};

// The digest of a regular file, or nothing when it cannot be read (gone,
// not a regular file, no permission): an unreadable file proves nothing.
std::optional<Digest> DigestFile(const std::string& path) {
  // O_NONBLOCK: a FIFO put in the file's place must not stall the thread.
  int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::optional<Digest> result;
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    ContentHasher hasher;
    unsigned char chunk[16 * 1024];
    for (;;) {
      ssize_t n = read(fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) break;
      if (n == 0) {
        result = hasher.Finish();
        break;
      }
      hasher.Update(chunk, static_cast<size_t>(n));
    }
  }
  close(fd);
  return result;
}

std::optional<std::string> ReadLink(const std::string& path) {
  char target[PATH_MAX];
  ssize_t n = readlink(path.c_str(), target, sizeof target);
  if (n < 0 || static_cast<size_t>(n) == sizeof target) return std::nullopt;
  return std::string(target, static_cast<size_t>(n));
}

// True when the directory holds a name outside `known` (or cannot be read).
bool HasNewName(const std::string& path, const std::vector<std::string>& known) {
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) return true;
  bool found = false;
  while (struct dirent* entry = readdir(dir)) {
    if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
    if (std::find(known.begin(), known.end(), entry->d_name) == known.end()) {
      found = true;
      break;
    }
  }
  closedir(dir);
  return found;
}

// Where a link's target lies: kubelets write a name relative to the
// directory, other writers may give an absolute path.
std::string Resolve(const std::string& dir, const std::string& target) {
  return !target.empty() && target[0] == '/' ? target : dir + "/" + target;
}

int64_t MonotonicNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// The text after "<key>:\t" up to the end of its line, in a status file
// given with a newline in front, so that the first line is found alike.
std::optional<std::string> StatusField(const std::string& status, const char* key) {
  std::string needle = std::string("\n") + key + ":\t";
  size_t at = status.find(needle);
  if (at == std::string::npos) return std::nullopt;
  size_t start = at + needle.size();
  size_t end = status.find('\n', start);
  if (end == std::string::npos) return std::nullopt;
  return status.substr(start, end - start);
}

std::string StringProperty(const Napi::Object& object, const char* name) {
  Napi::Value value = object.Get(name);
  if (!value.IsString()) {
    throw Napi::TypeError::New(object.Env(), std::string("plan.") + name + " must be a string");
  }
  return value.As<Napi::String>().Utf8Value();
}

Napi::Array ArrayProperty(const Napi::Object& object, const char* name, const char* owner = "plan") {
  Napi::Value value = object.Get(name);
  if (!value.IsArray()) {
    throw Napi::TypeError::New(object.Env(), std::string(owner) + "." + name + " must be an array");
  }
  return value.As<Napi::Array>();
}

Napi::Object ObjectAt(const Napi::Array& array, uint32_t index, const char* what) {
  Napi::Value value = array.Get(index);
  if (!value.IsObject()) {
    throw Napi::TypeError::New(array.Env(), std::string(what) + " entries must be objects");
  }
  return value.As<Napi::Object>();
}

}  // namespace

struct PlannedDir {
  std::string path;
  int wd = -1;
  // The payload's top-level names as delivered. A new one means the kubelet
  // is about to create its link beside `..data` (after the commit), which an
  // app signalled now could miss: the thread then stands aside.
  std::vector<std::string> names;
};

struct PlannedFile {
  size_t dir = 0;
  std::string relative;
  Digest baseline;
};

struct PlannedTarget {
  int pidfd = -1;      // our own duplicates: the owner may close its
  int status_fd = -1;  // descriptors, and a reused number must not alias them
  std::string name;
  std::string ppid;
};

struct Plan {
  std::string commit_name;
  std::vector<PlannedDir> dirs;
  std::vector<PlannedFile> files;
  std::vector<PlannedTarget> targets;
  int signal = 0;
  bool require_handler = true;
};

struct Report {
  int64_t woke_ns = 0;
  int64_t sent_ns = 0;
  std::string changed;             // the first planned file that read differently
  std::vector<std::string> links;  // where each directory's commit name pointed
  // Per target: 0 sent, -1 left alone (its status no longer matched), or
  // the errno of pidfd_send_signal.
  std::vector<int> results;
};

class CommitSignalCore {
 public:
  CommitSignalCore() {
    inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (inotify_fd_ < 0) throw Failure{errno, "inotify_init1", {}};
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) {
      int err = errno;
      close(inotify_fd_);
      throw Failure{err, "eventfd", {}};
    }
    try {
      thread_ = std::thread([this] { Run(); });
    } catch (const std::system_error& error) {
      // EAGAIN at a thread or pid limit (a Pod's pids.max): the caller goes
      // on without the thread, so nothing may be left open.
      close(wake_fd_);
      close(inotify_fd_);
      throw Failure{error.code().value(), "pthread_create", {}};
    }
  }

  ~CommitSignalCore() {
    uint64_t one = 1;
    while (write(wake_fd_, &one, sizeof one) < 0 && errno == EINTR) {
    }
    thread_.join();
    ClosePlan();
    close(wake_fd_);
    close(inotify_fd_);
  }

  struct Failure {
    int err;
    const char* syscall;
    std::string path;
  };

  // Watches the plan's directories, checks that each commit name still
  // points where the plan's baselines were read, and takes the plan over.
  // Returns how many files have a baseline; with none, nothing is armed.
  size_t Arm(Plan plan, const std::vector<std::string>& payloads) {
    std::lock_guard<std::mutex> lock(mutex_);
    ClosePlan();
    report_.reset();
    for (PlannedDir& dir : plan.dirs) {
      dir.wd = inotify_add_watch(inotify_fd_, dir.path.c_str(), kCommitMask);
      if (dir.wd < 0) throw Failure{errno, "inotify_add_watch", dir.path};
    }
    // The watches come first: a commit after this check is then seen.
    for (size_t i = 0; i < plan.dirs.size(); i++) {
      if (ReadLink(plan.dirs[i].path + "/" + plan.commit_name) != payloads[i]) return 0;
    }
    size_t baselines = 0;
    std::vector<PlannedFile> readable;
    for (PlannedFile& file : plan.files) {
      // Read from the payload directory itself, which the writer never
      // changes once committed: the baseline is exactly what was delivered.
      std::optional<Digest> digest = DigestFile(Resolve(plan.dirs[file.dir].path, payloads[file.dir]) + "/" + file.relative);
      if (!digest) continue;
      file.baseline = *digest;
      readable.push_back(std::move(file));
      baselines++;
    }
    if (baselines == 0) return 0;
    plan.files = std::move(readable);
    std::vector<PlannedTarget> owned;
    for (const PlannedTarget& target : plan.targets) {
      PlannedTarget copy = target;
      copy.pidfd = fcntl(target.pidfd, F_DUPFD_CLOEXEC, 0);
      copy.status_fd = copy.pidfd < 0 ? -1 : fcntl(target.status_fd, F_DUPFD_CLOEXEC, 0);
      if (copy.status_fd < 0) {
        Failure failure{errno, "fcntl", {}};
        if (copy.pidfd >= 0) close(copy.pidfd);
        CloseTargets(owned);
        throw failure;
      }
      owned.push_back(std::move(copy));
    }
    plan.targets = std::move(owned);
    plan_ = std::move(plan);
    return baselines;
  }

  std::optional<Report> Disarm() {
    std::lock_guard<std::mutex> lock(mutex_);
    ClosePlan();
    std::optional<Report> report = std::move(report_);
    report_.reset();
    return report;
  }

 private:
  void Run() {
    // Signals are Node's to handle, on its own threads.
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);
    pthread_setname_np(pthread_self(), "commit-signal");
    for (;;) {
      try {
        if (!WaitAndFire()) return;
      } catch (...) {
        // bad_alloc, say: an exception must not end the process from here.
        usleep(100 * 1000);
      }
    }
  }

  // One wake-up; false when it is time to stop.
  bool WaitAndFire() {
    struct pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      // Only the wake-up below ends the thread. A failure here (ENOMEM)
      // is waited out; meanwhile the event loop sends every reload.
      if (errno != EINTR) usleep(100 * 1000);
      return true;
    }
    if (fds[1].revents != 0) return false;
    bool commit = false;
    int64_t woke = 0;
    for (;;) {
      ssize_t n = read(inotify_fd_, buffer_, sizeof buffer_);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      if (woke == 0) woke = MonotonicNs();
      commit = ContainsCommit(static_cast<size_t>(n)) || commit;
    }
    if (commit) Fire(woke);
    return true;
  }

  bool ContainsCommit(size_t length) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!plan_) return false;
    for (size_t offset = 0; offset < length;) {
      auto* event = reinterpret_cast<const struct inotify_event*>(buffer_ + offset);
      offset += sizeof(struct inotify_event) + event->len;
      // An overflow may have swallowed the commit: the content check decides.
      if (event->mask & IN_Q_OVERFLOW) return true;
      if ((event->mask & (IN_MOVED_TO | IN_CREATE)) == 0 || event->len == 0) continue;
      if (plan_->commit_name != event->name) continue;
      for (const PlannedDir& dir : plan_->dirs) {
        if (dir.wd == event->wd) return true;
      }
    }
    return false;
  }

  void Fire(int64_t woke) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!plan_) return;
    Report report;
    report.woke_ns = woke;
    for (const PlannedDir& dir : plan_->dirs) {
      report.links.push_back(ReadLink(dir.path + "/" + plan_->commit_name).value_or(""));
    }
    for (size_t i = 0; i < plan_->dirs.size(); i++) {
      const std::string& link = report.links[i];
      if (!link.empty() && HasNewName(Resolve(plan_->dirs[i].path, link), plan_->dirs[i].names)) return;
    }
    for (const PlannedFile& file : plan_->files) {
      const std::string& link = report.links[file.dir];
      if (link.empty()) continue;
      std::optional<Digest> now = DigestFile(Resolve(plan_->dirs[file.dir].path, link) + "/" + file.relative);
      if (now && !(*now == file.baseline)) {
        report.changed = plan_->dirs[file.dir].path + "/" + file.relative;
        break;
      }
    }
    // Nothing provably changed (the same bytes, or only files added or
    // removed): the event loop decides, as it would without this thread.
    if (report.changed.empty()) return;
    for (const PlannedTarget& target : plan_->targets) report.results.push_back(Send(target));
    report.sent_ns = MonotonicNs();
    report_ = std::move(report);
    ClosePlan();
  }

  int Send(const PlannedTarget& target) {
    char text[8192];
    ssize_t n = pread(target.status_fd, text, sizeof text, 0);
    if (n <= 0) return -1;
    std::string status = "\n" + std::string(text, static_cast<size_t>(n));
    if (StatusField(status, "Name") != target.name || StatusField(status, "PPid") != target.ppid) return -1;
    // A zombie takes a pidfd signal and drops it: that is no reload.
    std::optional<std::string> state = StatusField(status, "State");
    if (!state || state->empty() || (*state)[0] == 'Z' || (*state)[0] == 'X') return -1;
    if (plan_->require_handler) {
      uint64_t bit = 1ULL << (plan_->signal - 1);
      std::optional<std::string> caught = StatusField(status, "SigCgt");
      std::optional<std::string> ignored = StatusField(status, "SigIgn");
      if (!caught || !ignored) return -1;
      uint64_t mask = strtoull(caught->c_str(), nullptr, 16) | strtoull(ignored->c_str(), nullptr, 16);
      if ((mask & bit) == 0) return -1;
    }
    return SendThroughPidfd(target.pidfd, plan_->signal);
  }

  static void CloseTargets(std::vector<PlannedTarget>& targets) {
    for (PlannedTarget& target : targets) {
      if (target.pidfd >= 0) close(target.pidfd);
      if (target.status_fd >= 0) close(target.status_fd);
      target.pidfd = target.status_fd = -1;
    }
  }

  void ClosePlan() {
    if (!plan_) return;
    CloseTargets(plan_->targets);
    plan_.reset();
  }

  int inotify_fd_ = -1;
  int wake_fd_ = -1;
  std::thread thread_;
  std::mutex mutex_;  // guards plan_ and report_, and makes a firing atomic for disarm()
  std::optional<Plan> plan_;
  std::optional<Report> report_;
  alignas(struct inotify_event) char buffer_[8 * (sizeof(struct inotify_event) + NAME_MAX + 1)];
};

Napi::Function CommitSignal::Define(Napi::Env env) {
  return DefineClass(env, "CommitSignal",
                     {
                         InstanceMethod<&CommitSignal::Arm>("arm"),
                         InstanceMethod<&CommitSignal::Disarm>("disarm"),
                         InstanceMethod<&CommitSignal::Close>("close"),
                     });
}

CommitSignal::CommitSignal(const Napi::CallbackInfo& info) : Napi::ObjectWrap<CommitSignal>(info) {
  try {
    core_ = std::make_unique<CommitSignalCore>();
  } catch (const CommitSignalCore::Failure& failure) {
    throw ErrnoError(info.Env(), failure.err, failure.syscall);
  }
  env_ = info.Env();
  // At teardown the thread must be joined while the process still exists
  // around it; a finalizer may never run.
  napi_add_env_cleanup_hook(env_, OnEnvironmentCleanup, this);
}

CommitSignal::~CommitSignal() { Shutdown(); }

void CommitSignal::OnEnvironmentCleanup(void* data) {
  auto* self = static_cast<CommitSignal*>(data);
  self->core_.reset();
  self->env_ = nullptr;
}

void CommitSignal::Shutdown() {
  if (env_ != nullptr) napi_remove_env_cleanup_hook(env_, OnEnvironmentCleanup, this);
  env_ = nullptr;
  core_.reset();
}

CommitSignalCore* CommitSignal::RequireOpen(Napi::Env env) {
  if (!core_) {
    Napi::Error error = Napi::Error::New(env, "the commit signal is closed");
    error.Set("code", Napi::String::New(env, "ERR_CLOSED"));
    throw error;
  }
  return core_.get();
}

Napi::Value CommitSignal::Arm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CommitSignalCore* core = RequireOpen(env);
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "plan must be an object");
  Napi::Object object = info[0].As<Napi::Object>();
  Plan plan;
  plan.commit_name = StringProperty(object, "commitName");
  plan.signal = static_cast<int>(IntProperty(object, "signal", 1, SIGRTMAX, "plan"));
  plan.require_handler = object.Get("requireHandler").ToBoolean();
  std::vector<std::string> payloads;
  Napi::Array dirs = ArrayProperty(object, "dirs");
  for (uint32_t i = 0; i < dirs.Length(); i++) {
    Napi::Object dir = ObjectAt(dirs, i, "plan.dirs");
    std::vector<std::string> names;
    Napi::Array known = ArrayProperty(dir, "names", "plan.dirs[]");
    for (uint32_t j = 0; j < known.Length(); j++) {
      Napi::Value name = known.Get(j);
      if (!name.IsString()) throw Napi::TypeError::New(env, "plan.dirs[].names must hold strings");
      names.push_back(name.As<Napi::String>().Utf8Value());
    }
    plan.dirs.push_back({StringProperty(dir, "path"), -1, std::move(names)});
    payloads.push_back(StringProperty(dir, "payload"));
  }
  Napi::Array files = ArrayProperty(object, "files");
  for (uint32_t i = 0; i < files.Length(); i++) {
    Napi::Object file = ObjectAt(files, i, "plan.files");
    size_t dir = static_cast<size_t>(IntProperty(file, "dir", 0, static_cast<int64_t>(plan.dirs.size()) - 1, "plan.files[]"));
    plan.files.push_back({dir, StringProperty(file, "relative"), {}});
  }
  Napi::Array targets = ArrayProperty(object, "targets");
  for (uint32_t i = 0; i < targets.Length(); i++) {
    Napi::Object target = ObjectAt(targets, i, "plan.targets");
    plan.targets.push_back({static_cast<int>(IntProperty(target, "pidfd", 0, INT32_MAX, "plan.targets[]")),
                            static_cast<int>(IntProperty(target, "statusFd", 0, INT32_MAX, "plan.targets[]")),
                            StringProperty(target, "name"),
                            std::to_string(IntProperty(target, "ppid", 0, INT32_MAX, "plan.targets[]"))});
  }
  try {
    return Napi::Number::New(env, static_cast<double>(core->Arm(std::move(plan), payloads)));
  } catch (const CommitSignalCore::Failure& failure) {
    if (failure.path.empty()) throw ErrnoError(env, failure.err, failure.syscall);
    throw ErrnoError(env, failure.err, failure.syscall, failure.path);
  }
}

Napi::Value CommitSignal::Disarm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::optional<Report> report = RequireOpen(env)->Disarm();
  if (!report) return env.Null();
  Napi::Object result = Napi::Object::New(env);
  result.Set("wokeAtNs", Napi::BigInt::New(env, report->woke_ns));
  result.Set("sentAtNs", Napi::BigInt::New(env, report->sent_ns));
  result.Set("changed", Napi::String::New(env, report->changed));
  Napi::Array links = Napi::Array::New(env, report->links.size());
  for (uint32_t i = 0; i < report->links.size(); i++) links.Set(i, Napi::String::New(env, report->links[i]));
  result.Set("links", links);
  Napi::Array results = Napi::Array::New(env, report->results.size());
  for (uint32_t i = 0; i < report->results.size(); i++) results.Set(i, Napi::Number::New(env, report->results[i]));
  result.Set("results", results);
  return result;
}

Napi::Value CommitSignal::Close(const Napi::CallbackInfo& info) {
  Shutdown();
  return info.Env().Undefined();
}

}  // namespace config_reloader
