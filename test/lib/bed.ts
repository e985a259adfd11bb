// Where the test bed lives and what it is called: the constants of test/setup (see test/README.md).

import * as fs from 'node:fs';
import * as path from 'node:path';

function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'test', 'setup'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no repository root (package.json and test/setup) above ${from}`);
  }
}

/** The checkout; found from this file, so it works from build/test/lib as well as from test/lib. */
export const REPO_ROOT = findRepoRoot(__dirname);
/** test/.work unless TSPOD_TEST_WORK says otherwise: certs, registry data, fixtures.json, logs. */
export const WORK_DIR = process.env.TSPOD_TEST_WORK || path.join(REPO_ROOT, 'test', '.work');
export const TSPOD_BIN = path.join(REPO_ROOT, 'dist', 'tspod');
/** podman 4.3.1's real outputs, to compare with (test/reference/README.md). */
export const REFERENCE_DIR = path.join(REPO_ROOT, 'test', 'reference', 'podman-4.3.1');
/** The helper that `npm run build` makes. */
export const HELPER_BIN = path.join(REPO_ROOT, 'build', 'tspod-helper');
export const CA_CERT = path.join(WORK_DIR, 'certs', 'ca.crt');
export const FIXTURES_JSON = path.join(WORK_DIR, 'fixtures.json');

/** Plain HTTP, no auth; insecure in the test users' registries.conf. */
export const REGISTRY = 'localhost:5000';
/** HTTPS with the test CA and basic auth. */
export const TLS_REGISTRY = 'localhost:5001';
/** HTTPS with the test CA and bearer tokens from TOKEN_SERVER. */
export const TOKEN_REGISTRY = 'localhost:5002';
export const TOKEN_SERVER = 'http://127.0.0.1:5003/token';
export const REGISTRY_USER = 'tester';
export const REGISTRY_PASSWORD = 'secret-pass';

/** Has /etc/subuid and /etc/subgid ranges. */
export const TEST_USER = 'tspod-test';
/** Has no subordinate ranges: the single-uid fallback. */
export const NOSUB_USER = 'tspod-nosub';

export const CLEAN_PATH = '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin';
