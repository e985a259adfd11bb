import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseNetwork, parseNetworkOptions } from '../../core/container/options';
import { networkArgv } from '../../core/network';

const both = { pasta: true, slirp4netns: true };
const env = { PATH: '/nonexistent' };
const port = { hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'tcp' as const, range: 1 };

test('--network pasta:OPTS and slirp4netns:OPTS: the mode, then the options as podman splits them', () => {
  assert.is(parseNetwork('pasta:-T,8080', both), 'pasta');
  assert.equal(parseNetworkOptions('pasta:-T,8080', 'pasta'), ['-T', '8080']);
  assert.equal(parseNetworkOptions('pasta', 'pasta'), []);
  assert.equal(parseNetworkOptions(undefined, 'pasta'), []);
  assert.equal(parseNetworkOptions('slirp4netns:allow_host_loopback=true', 'slirp4netns'), ['allow_host_loopback=true']);
});

test('network options that mean nothing are refused', () => {
  for (const [value, mode] of [
    ['none:-T,1', 'none'],
    ['host:x', 'host'],
    ['slirp4netns:port_handler=slirp4netns', 'slirp4netns'],
    ['slirp4netns:allow_host_loopback=yes', 'slirp4netns'],
  ] as const) {
    assert.throws(() => parseNetworkOptions(value, mode), /option/, value);
  }
});

test("pasta's argv: defaults, and the user's options replace the defaults they cover", () => {
  const dflt = networkArgv('pasta', [], [], env);
  assert.equal(dflt.slice(1), ['--config-net', '--quiet', '--no-map-gw', '-t', 'none', '-u', 'none', '-T', 'none', '-U', 'none', '{pid}']);
  const withT = networkArgv('pasta', [], ['-T', '8080'], env);
  assert.equal(withT.slice(1), ['--config-net', '--quiet', '--no-map-gw', '-t', 'none', '-u', 'none', '-U', 'none', '-T', '8080', '{pid}']);
  const mapGw = networkArgv('pasta', [port], ['--map-gw'], env);
  assert.equal(mapGw.slice(1), ['--config-net', '--quiet', '-t', '127.0.0.1/8080:80', '-u', 'none', '-T', 'none', '-U', 'none', '{pid}']);
});

test("slirp4netns' argv: the host's loopback only with allow_host_loopback=true", () => {
  assert.ok(networkArgv('slirp4netns', [], [], env).includes('--disable-host-loopback'));
  assert.not.ok(networkArgv('slirp4netns', [], ['allow_host_loopback=true'], env).includes('--disable-host-loopback'));
  assert.ok(networkArgv('slirp4netns', [], ['allow_host_loopback=false'], env).includes('--disable-host-loopback'));
});

test.run();
