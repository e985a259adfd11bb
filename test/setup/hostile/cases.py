"""The hostile fixture images: one image per case, pushed as localhost:5000/hostile/<name>:latest.

Every file an attack would plant outside the rootfs is named tspod-escape-*, mostly aimed at /tmp
(which the unprivileged test user can write), so a test can look for such names on the host after
a pull. Entry names are written into the tar exactly as given here.
See README.md beside this file for what a correct unpacker does with each case.
"""

import sys
import os

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures'))
from oci import Entry as E  # noqa: E402

DEEP_UP = '../' * 12

GOOD_PAYLOAD = b'GOOD-PAYLOAD-the-registry-should-serve-this\n'
EVIL_PAYLOAD = GOOD_PAYLOAD.replace(b'GOOD', b'EVIL')  # same length: the blob keeps its size


def cases():
    return [
        {
            'name': 'dotdot',
            'description': '../ in entry names, alone, after ./, inside a path, and for a directory',
            'layers': [[
                E('ok.txt', data='inside\n'),
                E('../tspod-escape-dotdot', data='escaped\n'),
                E('./../tspod-escape-dotdot2', data='escaped\n'),
                E('a/', kind='dir'),
                E('a/../../tspod-escape-dotdot3', data='escaped\n'),
                E(DEEP_UP + 'tmp/tspod-escape-dotdot4', data='escaped\n'),
                E('../tspod-escape-dotdot-dir/', kind='dir'),
            ]],
        },
        {
            'name': 'absolute',
            'description': '/-prefixed names: they belong inside the rootfs, never at the host path',
            'layers': [[
                E('/tmp/', kind='dir', mode=0o1777),
                E('/tmp/tspod-escape-absolute', data='absolute\n'),
                E('//tmp/tspod-escape-absolute2', data='absolute\n'),
                E('/tspod-escape-absolute-dir/', kind='dir'),
                E('/tspod-escape-absolute-dir/file', data='absolute\n'),
            ]],
        },
        {
            'name': 'symlink-escape',
            'description': 'symlinks to /tmp, / and a deep ../, then writes through them, '
                           'in the same layer and in the next one',
            'layers': [
                [
                    E('evil', kind='symlink', link='/tmp'),
                    E('root', kind='symlink', link='/'),
                    E('up', kind='symlink', link=DEEP_UP + 'tmp'),
                    E('evil/tspod-escape-symlink', data='escaped\n'),
                    E('root/tmp/tspod-escape-symlink-root', data='escaped\n'),
                ],
                [
                    E('evil/tspod-escape-symlink-next-layer', data='escaped\n'),
                    E('up/tspod-escape-symlink-up', data='escaped\n'),
                    E('root/tmp/', kind='dir', mode=0o1777),
                ],
            ],
        },
        {
            'name': 'hardlink-escape',
            'description': 'hardlinks to ../../etc/passwd, to /etc/passwd, and through a symlink to /etc',
            'layers': [[
                E('passwd-rel', kind='hardlink', link='../../etc/passwd'),
                E('passwd-abs', kind='hardlink', link='/etc/passwd'),
                E('etc-link', kind='symlink', link='/etc'),
                E('passwd-via-symlink', kind='hardlink', link='etc-link/passwd'),
            ]],
        },
        {
            'name': 'root-not-dir',
            'description': 'a ./ entry that is a symlink to /tmp followed by a file under it; '
                           'then (second layer) a . entry that is a regular file',
            'layers': [
                [
                    E('./', kind='symlink', link='/tmp'),
                    E('tspod-escape-rootlink', data='escaped\n'),
                ],
                [
                    E('.', data='not a directory\n'),
                ],
            ],
        },
        {
            'name': 'bad-digest',
            'description': 'the registry serves the layer blob with other bytes (same size, valid gzip '
                           'and tar) than its digest names',
            'layers': [[E('payload.txt', data=GOOD_PAYLOAD)]],
            'compression': 'gzip-stored',
            'corrupt': (GOOD_PAYLOAD, EVIL_PAYLOAD),
        },
        {
            'name': 'bad-diffid',
            'description': "the config's rootfs.diff_ids[0] is not the sha256 of the uncompressed layer",
            'layers': [[E('payload.txt', data='diff id mismatch\n')]],
            'diff_ids': ['sha256:' + '0' * 63 + '1'],
        },
    ]
