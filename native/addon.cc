// Module entry. Everything per environment lives in the Addon instance, so the
// module can be loaded by several Workers at once.
#include <napi.h>
#include <sys/inotify.h>

#include "inotify_handle.h"
#include "signals.h"

namespace config_reloader {

class Addon : public Napi::Addon<Addon> {
 public:
  Addon(Napi::Env env, Napi::Object exports) {
    Napi::Function inotify = InotifyHandle::Define(env);
    inotify_constructor_ = Napi::Persistent(inotify);
    DefineAddon(exports, {
        InstanceValue("InotifyHandle", inotify, napi_enumerable),
        InstanceValue("kill", Napi::Function::New<Kill>(env, "kill"), napi_enumerable),
        InstanceValue("pidfdOpen", Napi::Function::New<PidfdOpen>(env, "pidfdOpen"), napi_enumerable),
        InstanceValue("pidfdSendSignal",
                      Napi::Function::New<PidfdSendSignal>(env, "pidfdSendSignal"),
                      napi_enumerable),
        InstanceValue("closeFd", Napi::Function::New<CloseFd>(env, "closeFd"), napi_enumerable),
        InstanceValue("constants", Constants(env), napi_enumerable),
    });
  }

 private:
  // The flag values come from the headers this addon was built against, so
  // test/inotify-flags.test.ts can hold lib/'s table to the kernel ABI.
  static Napi::Object Constants(Napi::Env env) {
    Napi::Object c = Napi::Object::New(env);
#define CR_EXPORT(name) c.Set(#name, Napi::Number::New(env, name))
    CR_EXPORT(IN_ACCESS); CR_EXPORT(IN_MODIFY); CR_EXPORT(IN_ATTRIB);
    CR_EXPORT(IN_CLOSE_WRITE); CR_EXPORT(IN_CLOSE_NOWRITE); CR_EXPORT(IN_OPEN);
    CR_EXPORT(IN_MOVED_FROM); CR_EXPORT(IN_MOVED_TO); CR_EXPORT(IN_CREATE);
    CR_EXPORT(IN_DELETE); CR_EXPORT(IN_DELETE_SELF); CR_EXPORT(IN_MOVE_SELF);
    CR_EXPORT(IN_UNMOUNT); CR_EXPORT(IN_Q_OVERFLOW); CR_EXPORT(IN_IGNORED);
    CR_EXPORT(IN_ONLYDIR); CR_EXPORT(IN_DONT_FOLLOW); CR_EXPORT(IN_EXCL_UNLINK);
    CR_EXPORT(IN_MASK_ADD); CR_EXPORT(IN_ISDIR); CR_EXPORT(IN_ONESHOT);
    CR_EXPORT(IN_CLOSE); CR_EXPORT(IN_MOVE); CR_EXPORT(IN_ALL_EVENTS);
#ifdef IN_MASK_CREATE
    CR_EXPORT(IN_MASK_CREATE);
#else
    c.Set("IN_MASK_CREATE", Napi::Number::New(env, 0x10000000));
#endif
#undef CR_EXPORT
    return c;
  }

  Napi::FunctionReference inotify_constructor_;
};

}  // namespace config_reloader

using ConfigReloaderAddon = config_reloader::Addon;
NODE_API_ADDON(ConfigReloaderAddon)
