// Everything one bench run measured: what the tables and the goals are made from.
import type { FootprintResult } from './footprint';
import type { IdleResult } from './idle';
import type { ImageResult } from './image';
import type { LatencyResult } from './latency';
import type { LibraryBurstResult, SidecarBurstResult, StartupResult } from './scale';
import type { SoakResult } from './soak';
import type { ThroughputResult } from './throughput';

export interface Results {
  latency: LatencyResult[];
  idle: IdleResult[];
  startup: StartupResult[];
  libraryBurst: LibraryBurstResult | undefined;
  sidecarBurst: SidecarBurstResult | undefined;
  throughput: ThroughputResult[];
  footprint: FootprintResult | undefined;
  soak: SoakResult | undefined;
  /** Optional, unlike the others, so Results built without it (the bench's own tests) stay valid. */
  image?: ImageResult;
  sidecarBuilt: boolean;
}
