// The reload actions a configuration asks for, in the order they run
// (config.ts: ACTION_ORDER says why that order).
import { actionsOf, type Config } from './config';
import type { ReloadAction } from './reload-action';

/** The actions `config` asks for, in order. */
export function createActions(config: Config): ReloadAction[] {
  // Required here, not imported at the top: each action loads only when configured.
  return actionsOf(config).map((name): ReloadAction => {
    switch (name) {
      case 'command': {
        const { CommandAction } = require('./command-action') as typeof import('./command-action');
        if (config.reloadCommand === undefined) throw new Error('createActions: the command action without RELOAD_COMMAND');
        return new CommandAction(config.reloadCommand, config.reloadTimeoutMs);
      }
      case 'signal': {
        const { SignalAction } = require('./signal-action') as typeof import('./signal-action');
        if (config.processName === undefined) throw new Error('createActions: the signal action without PROCESS_NAME');
        return new SignalAction({
          processName: config.processName,
          signal: config.signal,
          signalAll: config.signalAll,
          handlerWaitMs: config.handlerWaitMs,
          handlerCheck: config.handlerCheck,
        });
      }
      case 'url': {
        const { UrlAction } = require('./url-action') as typeof import('./url-action');
        if (config.reloadUrl === undefined) throw new Error('createActions: the url action without RELOAD_URL');
        return new UrlAction(config.reloadUrl, config.reloadTimeoutMs);
      }
    }
  });
}
