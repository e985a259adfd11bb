// Every benchmark, in the order `sh test/bench/run.sh` with no name runs them. A new one is a
// module in this directory exporting a Benchmark (lib/contest.ts), added to this list.

import type { Benchmark } from '../lib/contest';
import { lifecycle } from './lifecycle';
import { pull } from './pull';
import { run } from './run';
import { startup } from './startup';

export const BENCHMARKS: Benchmark[] = [pull, run, lifecycle, startup];
