"""Builds the benchmark images from files of this machine and pushes them to the loopback registry.

  python3 build.py --work DIR [--registry 127.0.0.1:5000] [--rebuild]

Writes DIR/oci (an OCI layout) and DIR/images.json (per image: reference, manifest digest, layers
with digest, size, diff_id and entry count). Nothing comes from the network: the layers are tars of
host directories (/usr/lib, /usr/share, ...) walked in sorted order with fixed owners and mtimes and
gzip without a timestamp, so the same machine yields the same digests every time.

Cached at two levels: when images.json has this RECIPE and the registry already serves every
recorded manifest digest, nothing happens; when only the registry lacks them (it was wiped), the
layout is pushed again without rebuilding. --rebuild forces both.
"""

import argparse
import hashlib
import io
import json
import multiprocessing
import os
import stat
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
import zlib

# Bump when a recipe below changes, so cached layouts are rebuilt.
RECIPE = 2
EPOCH = 1704067200  # 2024-01-01T00:00:00Z: every entry's mtime
CREATED = '2024-01-01T00:00:00Z'
MT_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
MT_INDEX = 'application/vnd.oci.image.index.v1+json'
MT_CONFIG = 'application/vnd.oci.image.config.v1+json'
MT_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip'
PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
MIB = 1024 * 1024

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..'))


def say(msg):
    print('bench images: ' + msg, flush=True)


# --- what goes into a layer --------------------------------------------------------------------
# A layer recipe is a list of sources; each source walks host roots in sorted order and keeps
# regular files (and symlinks) until a byte or file budget is spent. Parent directories of every
# kept path are added, as a real image has them.

def walk_sorted(root):
    """Yields (host path, lstat) for the non-directory entries under root, depth first, sorted."""
    try:
        names = sorted(os.listdir(root))
    except OSError:
        return
    for name in names:
        p = os.path.join(root, name)
        try:
            st = os.lstat(p)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode):
            yield from walk_sorted(p)
        elif stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode):
            yield p, st


def pick(roots, max_bytes=None, max_files=None, max_file_size=None, skip=0):
    """Host paths from roots: the first max_files entries (after `skip`) whose sizes fit."""
    out = []
    total = 0
    seen = 0
    for root in roots:
        for p, st in walk_sorted(root):
            size = st.st_size if stat.S_ISREG(st.st_mode) else 0
            if max_file_size is not None and size > max_file_size:
                continue
            if max_bytes is not None and total + size > max_bytes:
                continue
            seen += 1
            if seen <= skip:
                continue
            out.append(p)
            total += size
            if max_files is not None and len(out) >= max_files:
                return out
    return out


def busybox_tree():
    """A busybox image's files: the static binary, a symlink per applet, passwd and group."""
    applets = subprocess.run(['/bin/busybox', '--list'], stdout=subprocess.PIPE, check=True, text=True).stdout.split()
    extra = [
        ('bin/' + a, 'symlink', 'busybox') for a in sorted(set(applets) - {'busybox'})
    ] + [
        ('etc/passwd', 'data', 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n'),
        ('etc/group', 'data', 'root:x:0:\nnogroup:x:65534:\n'),
        ('tmp', 'dir', 0o1777),
        ('root', 'dir', 0o700),
    ]
    return {'host': [('/bin/busybox', 'bin/busybox')], 'extra': extra}


def host_layer(paths):
    """A layer of host files kept at their own paths."""
    return {'host': [(p, p.lstrip('/')) for p in paths], 'extra': []}


def recipes():
    """name -> (layers, command): the bench images. Budgets are tuned to the sizes the issue names."""
    share_small = ['/usr/share/doc', '/usr/share/man', '/usr/share/locale', '/usr/share/i18n', '/usr/share/zoneinfo']
    many = []
    for k in range(20):
        many.append(lambda k=k: host_layer(pick(share_small, max_files=300, max_file_size=64 * 1024, skip=300 * k)))
    # A Debian base image: 49 MB gzip, ~125 MB and ~8,000 entries unpacked; mostly shared libraries,
    # executables and /usr/share data (no man pages: docker images have none) in about those proportions.
    debian = [lambda: host_layer(
        pick(['/etc'], max_bytes=2 * MIB, max_file_size=MIB)
        + pick(['/usr/bin', '/usr/sbin'], max_bytes=34 * MIB, max_file_size=8 * MIB)
        + pick(['/usr/lib/x86_64-linux-gnu'], max_bytes=62 * MIB, max_file_size=8 * MIB)
        + pick(['/usr/share/perl', '/usr/share/perl5', '/usr/share/zoneinfo', '/usr/share/i18n', '/usr/share/doc',
                '/usr/share/common-licenses', '/usr/share/bash-completion', '/usr/share/locale'],
               max_bytes=26 * MIB, max_files=7000))]
    # ~300 MB gzip in four layers: system libraries, a compiler tree, a JDK and /usr/share data.
    big = [
        lambda: host_layer(pick(['/usr/lib/x86_64-linux-gnu'], max_bytes=330 * MIB)),
        lambda: host_layer(pick(['/usr/lib/llvm-14', '/usr/lib/gcc'], max_bytes=260 * MIB)),
        lambda: host_layer(pick(['/usr/lib/jvm', '/usr/lib/python3.11'], max_bytes=240 * MIB)),
        lambda: host_layer(pick(['/usr/share'], max_bytes=160 * MIB, max_file_size=16 * MIB)),
    ]
    return {
        'small': ([busybox_tree], ['sh']),
        'many-layers': (many, ['sh']),
        'debian-like': (debian, ['bash']),
        'big': (big, ['bash']),
    }


# --- writing a layer ---------------------------------------------------------------------------

class HashingGzipWriter:
    """A file-like sink for tarfile: hashes the tar (diff_id), gzips it (no name, mtime 0, level 6
    like Go's default) and writes and hashes the blob, all streaming."""

    def __init__(self, path):
        self.out = open(path, 'wb')
        self.tar_hash = hashlib.sha256()
        self.blob_hash = hashlib.sha256()
        self.gz = zlib.compressobj(6, zlib.DEFLATED, 31)
        self.size = 0

    def _emit(self, data):
        if data:
            self.blob_hash.update(data)
            self.out.write(data)
            self.size += len(data)

    def write(self, data):
        self.tar_hash.update(data)
        self._emit(self.gz.compress(data))
        return len(data)

    def close(self):
        self._emit(self.gz.flush())
        self.out.close()


def normalize(ti):
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = ''
    ti.mtime = EPOCH
    return ti


def write_layer(args):
    """Builds one layer blob in blob_dir; returns its descriptor facts."""
    image, layer, blob_dir, index = args
    spec = recipes()[image][0][layer]()
    tmp = os.path.join(blob_dir, '.layer-%d-%d.tmp' % (os.getpid(), index))
    sink = HashingGzipWriter(tmp)
    entries = 0
    with tarfile.open(fileobj=sink, mode='w|', format=tarfile.PAX_FORMAT) as tar:
        items = {}  # archive name -> (host path or None, extra)
        for host, name in spec['host']:
            items[name] = (host, None)
        for name, kind, arg in spec['extra']:
            items[name] = (None, (kind, arg))
        dirs = set()
        for name in items:
            parts = name.split('/')[:-1]
            for i in range(1, len(parts) + 1):
                dirs.add('/'.join(parts[:i]))
        for name in sorted(set(items) | dirs):
            host, extra = items.get(name, (None, None))
            if host is not None:
                ti = normalize(tar.gettarinfo(host, name))
                if ti.isreg():
                    with open(host, 'rb') as f:
                        tar.addfile(ti, f)
                else:
                    tar.addfile(ti)
            else:
                ti = tarfile.TarInfo(name)
                kind, arg = extra or ('dir', 0o755)
                if kind == 'dir':
                    ti.type, ti.mode = tarfile.DIRTYPE, arg
                elif kind == 'symlink':
                    ti.type, ti.mode, ti.linkname = tarfile.SYMTYPE, 0o777, arg
                else:
                    data = arg.encode()
                    ti.size, ti.mode = len(data), 0o644
                normalize(ti)
                if kind == 'data':
                    tar.addfile(ti, io.BytesIO(data))
                else:
                    tar.addfile(ti)
            entries += 1
    sink.close()
    digest = 'sha256:' + sink.blob_hash.hexdigest()
    os.rename(tmp, os.path.join(blob_dir, digest[7:]))
    return {'mediaType': MT_LAYER_GZIP, 'digest': digest, 'size': sink.size,
            'diffId': 'sha256:' + sink.tar_hash.hexdigest(), 'entries': entries}


def put_json(blob_dir, obj):
    data = json.dumps(obj, separators=(',', ':'), sort_keys=True).encode()
    digest = 'sha256:' + hashlib.sha256(data).hexdigest()
    with open(os.path.join(blob_dir, digest[7:]), 'wb') as f:
        f.write(data)
    return digest, len(data)


def build(layout):
    blob_dir = os.path.join(layout, 'blobs', 'sha256')
    subprocess.run(['rm', '-rf', layout], check=True)
    os.makedirs(blob_dir)
    jobs = []
    rs = recipes()
    for name, (layers, _) in rs.items():
        for i, r in enumerate(layers):
            jobs.append((name, i, r))
    # The big layers first, so the pool does not end on one of them alone.
    jobs.sort(key=lambda j: j[0] != 'big')
    t0 = time.time()
    # Two cores: gzip of ~1 GB of host files is the slow part, one layer per process.
    with multiprocessing.Pool(max(1, min(4, os.cpu_count() or 1))) as pool:
        results = pool.map(write_layer, [(name, i, blob_dir, n) for n, (name, i, _) in enumerate(jobs)], chunksize=1)
    say('wrote %d layers in %.1fs' % (len(results), time.time() - t0))
    by_image = {}
    for (name, i, _), res in zip(jobs, results):
        by_image.setdefault(name, []).append(res)
    images = {}
    manifests = []
    for name, (_, cmd) in rs.items():
        layers = by_image[name]
        config = {
            'architecture': 'amd64', 'os': 'linux', 'created': CREATED,
            'config': {'Env': [PATH_ENV], 'Cmd': cmd},
            'rootfs': {'type': 'layers', 'diff_ids': [l['diffId'] for l in layers]},
            'history': [{'created': CREATED, 'created_by': 'tspod bench: layer %d of %s' % (i + 1, name)}
                        for i in range(len(layers))],
        }
        cdigest, csize = put_json(blob_dir, config)
        manifest = {
            'schemaVersion': 2, 'mediaType': MT_MANIFEST,
            'config': {'mediaType': MT_CONFIG, 'digest': cdigest, 'size': csize},
            'layers': [{'mediaType': l['mediaType'], 'digest': l['digest'], 'size': l['size']} for l in layers],
        }
        mdigest, msize = put_json(blob_dir, manifest)
        manifests.append({'mediaType': MT_MANIFEST, 'digest': mdigest, 'size': msize,
                          'annotations': {'org.opencontainers.image.ref.name': name}})
        images[name] = {'repository': 'bench/' + name, 'tag': 'latest', 'manifestDigest': mdigest,
                        'configDigest': cdigest, 'layers': layers,
                        'compressedSize': sum(l['size'] for l in layers),
                        'entries': sum(l['entries'] for l in layers)}
    with open(os.path.join(layout, 'oci-layout'), 'w') as f:
        json.dump({'imageLayoutVersion': '1.0.0'}, f)
    with open(os.path.join(layout, 'index.json'), 'w') as f:
        json.dump({'schemaVersion': 2, 'mediaType': MT_INDEX, 'manifests': manifests}, f)
    return images


# --- the registry ------------------------------------------------------------------------------

def served_digest(registry, repo, tag):
    req = urllib.request.Request('http://%s/v2/%s/manifests/%s' % (registry, repo, tag), method='HEAD',
                                 headers={'Accept': MT_MANIFEST})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.headers.get('Docker-Content-Digest')
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return None
        raise


def push(layout, registry, name, facts):
    argv = ['skopeo', '--insecure-policy', 'copy', '--quiet', '--preserve-digests', '--dest-tls-verify=false',
            'oci:%s:%s' % (layout, name), 'docker://%s/%s:%s' % (registry, facts['repository'], facts['tag'])]
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        sys.exit('bench images: %s failed:\n%s' % (' '.join(argv), r.stdout.strip()))
    got = served_digest(registry, facts['repository'], facts['tag'])
    if got != facts['manifestDigest']:
        sys.exit('bench images: %s serves %s for %s after the push, expected %s' % (
            registry, got, name, facts['manifestDigest']))


def main():
    p = argparse.ArgumentParser(description='Build and push the benchmark images (see test/bench/README.md).')
    p.add_argument('--work', required=True, help='directory for the layout and images.json')
    p.add_argument('--registry', default='127.0.0.1:5000', help='plain-HTTP registry to push to')
    p.add_argument('--rebuild', action='store_true', help='build and push even when cached')
    a = p.parse_args()
    layout = os.path.join(a.work, 'oci')
    facts_path = os.path.join(a.work, 'images.json')
    doc = None
    if not a.rebuild and os.path.isfile(facts_path):
        with open(facts_path) as f:
            doc = json.load(f)
        if doc.get('recipe') != RECIPE or not os.path.isfile(os.path.join(layout, 'index.json')):
            doc = None
    if doc is None:
        t0 = time.time()
        doc = {'recipe': RECIPE, 'registry': a.registry, 'images': build(layout)}
        say('built %d images in %.1fs' % (len(doc['images']), time.time() - t0))
        stale = list(doc['images'])
    else:
        stale = [n for n, f in doc['images'].items()
                 if served_digest(a.registry, f['repository'], f['tag']) != f['manifestDigest']]
    for name in stale:
        t0 = time.time()
        push(layout, a.registry, name, doc['images'][name])
        say('pushed bench/%s in %.1fs' % (name, time.time() - t0))
    tmp = facts_path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(doc, f, indent=1)
        f.write('\n')
    os.rename(tmp, facts_path)
    for name, f in doc['images'].items():
        say('%-12s %3d layers %7.1f MB gzip %6d entries%s' % (
            name, len(f['layers']), f['compressedSize'] / 1e6, f['entries'],
            '' if name in stale else ' (cached)'))


if __name__ == '__main__':
    main()
