// Everything one bench run measured: what the tables and the goals are made from.
import type { IdleResult } from './idle';
import type { LatencyResult } from './latency';
import type { LibraryBurstResult, SidecarBurstResult, StartupResult } from './scale';
import type { ThroughputResult } from './throughput';

export interface Results {
  latency: LatencyResult[];
  idle: IdleResult[];
  startup: StartupResult[];
  libraryBurst: LibraryBurstResult | undefined;
  sidecarBurst: SidecarBurstResult | undefined;
  throughput: ThroughputResult[];
  sidecarBuilt: boolean;
}
