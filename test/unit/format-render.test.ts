import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REFERENCE_DIR } from '../lib/bed';
import {
  displaySize,
  headerFor,
  imagesTableFormat,
  IMAGES_HEADERS,
  isJsonFormat,
  JSON_STYLES,
  normalizeFormat,
  psCommand,
  psStatus,
  psTableFormat,
  PS_HEADERS,
  renderList,
  renderTemplate,
  splitCamelCase,
  timeAgo,
} from '../../core/format';
import { TspodError } from '../../core/errors';

/** podman's recorded outputs (test/reference). */
function reference(name: string): string {
  return fs.readFileSync(path.join(REFERENCE_DIR, name), 'utf8');
}

interface PsJson {
  Id: string;
  Image: string;
  Command: string[];
  Created: number;
  StartedAt: number;
  ExitedAt: number;
  ExitCode: number;
  State: string;
  Names: string[];
  Ports: { host_ip: string; host_port: number; container_port: number; protocol: string }[] | null;
}

// The moment the reference `images` ran: 56 minutes after the newest image was created.
const IMAGES_NOW = (1795332882 + 56 * 60 + 10) * 1000;

function imageRows(digests: boolean) {
  const images = JSON.parse(reference('images.json')) as { Id: string; Digest: string; Size: number; Created: number; Names: string[] }[];
  const byName = new Map<string, (typeof images)[number]>();
  for (const img of images) for (const n of img.Names) byName.set(n, img);
  // images.txt lists one row per name, newest image first.
  return ['localhost:5000/layered:latest', 'localhost:5000/busybox:latest', 'localhost/mybox:dev'].map((name) => {
    const img = byName.get(name)!;
    const colon = name.lastIndexOf(':');
    return {
      Repository: name.slice(0, colon),
      Tag: name.slice(colon + 1),
      ID: img.Id.slice(0, 12),
      Digest: digests ? img.Digest : '',
      Created: timeAgo(img.Created, IMAGES_NOW),
      Size: displaySize(img.Size),
    };
  });
}

test('images.txt is reproduced byte for byte', () => {
  const out = renderList(imageRows(false), { defaultTable: imagesTableFormat(), headers: IMAGES_HEADERS, name: 'images' });
  assert.is(out, reference('images.txt'));
});

test('images-digests.txt is reproduced byte for byte', () => {
  const out = renderList(imageRows(true), {
    defaultTable: imagesTableFormat({ digests: true }),
    headers: IMAGES_HEADERS,
    name: 'images',
  });
  assert.is(out, reference('images-digests.txt'));
});

// The reference ps ran 1.6 s after the containers were created (podman keeps sub-second creation
// times, but the JSON and StartedAt/ExitedAt are whole seconds).
const PS_NOW = 1795336260.5 * 1000;

function psRows(noTrunc: boolean) {
  const list = JSON.parse(reference('ps-a.json')) as PsJson[];
  return list.map((c) => ({
    ID: noTrunc ? c.Id : c.Id.slice(0, 12),
    Image: c.Image,
    Command: psCommand(c.Command, noTrunc),
    CreatedHuman: timeAgo(c.Created + 0.9, PS_NOW),
    Status: psStatus({ state: c.State, startedAt: c.StartedAt, exitedAt: c.ExitedAt, exitCode: c.ExitCode }, PS_NOW),
    Ports: (c.Ports ?? []).map((p) => `${p.host_ip}:${p.host_port}->${p.container_port}/${p.protocol}`).join(', '),
    Names: c.Names[0],
  }));
}

test('ps-a.txt is reproduced byte for byte', () => {
  const out = renderList(psRows(false), { defaultTable: psTableFormat(), headers: PS_HEADERS, name: 'ps' });
  assert.is(out, reference('ps-a.txt'));
});

test('ps-a-no-trunc.txt is reproduced byte for byte', () => {
  const out = renderList(psRows(true), { defaultTable: psTableFormat(), headers: PS_HEADERS, name: 'ps' });
  assert.is(out, reference('ps-a-no-trunc.txt'));
});

test('--format json prints the JSON value in the command style, newline-terminated', () => {
  const data = JSON.parse(reference('ps-a.json'));
  const out = renderList(psRows(false), { format: 'json', defaultTable: psTableFormat(), jsonValue: data, jsonStyle: JSON_STYLES.ps });
  assert.is(out, reference('ps-a.json'));
  assert.is(renderList([], { format: 'json', defaultTable: '{{.ID}}', jsonStyle: JSON_STYLES.ps }), '[]\n');
});

test('without a default table the default output is JSON (inspect)', () => {
  const data = JSON.parse(reference('inspect-image.json'));
  assert.is(renderList(data, { jsonStyle: JSON_STYLES.inspect }), reference('inspect-image.json'));
});

test('user table: header row from the header map, --noheading drops it', () => {
  const rows = psRows(false);
  const fmt = 'table {{.ID}}\\t{{.Names}}';
  assert.is(
    renderList(rows, { format: fmt, defaultTable: psTableFormat(), headers: PS_HEADERS }),
    'CONTAINER ID  NAMES\n854f8f91371a  web\ne03f27c27c20  made\n56a8f0690cbd  done\n',
  );
  assert.is(
    renderList(rows, { format: fmt, defaultTable: psTableFormat(), headers: PS_HEADERS, noHeading: true }),
    '854f8f91371a  web\ne03f27c27c20  made\n56a8f0690cbd  done\n',
  );
});

test('table: spaces between actions separate columns, as in podman', () => {
  const rows = [{ ID: 'abc', Repository: 'r', Tag: 't' }];
  assert.is(
    renderList(rows, { format: 'table {{.ID}} {{.Repository}} {{.Tag}}', defaultTable: '', headers: IMAGES_HEADERS }),
    'IMAGE ID    REPOSITORY  TAG\nabc         r           t\n',
  );
});

test('`table` alone prints the default table', () => {
  const rows = [{ ID: 'abc', Names: 'n' }];
  assert.is(renderList(rows, { format: 'table', defaultTable: '{{.ID}}\t{{.Names}}' }), 'ID          NAMES\nabc         n\n');
});

test('plain template: one line per row, no header, no alignment, \\t escapes become tabs', () => {
  const rows = [{ ID: 'a', Names: 'web' }, { ID: 'bbbbbbbbbbbbbbbb', Names: 'db' }];
  assert.is(renderList(rows, { format: '{{.ID}}\\t{{.Names}}', defaultTable: '' }), 'a\tweb\nbbbbbbbbbbbbbbbb\tdb\n');
  assert.is(renderList(rows, { format: '{{.ID}} {{.Names}}\n', defaultTable: '' }), 'a web\nbbbbbbbbbbbbbbbb db\n');
});

test('a template that ranges over . runs once over all rows', () => {
  const rows = [{ ID: 'a' }, { ID: 'b' }];
  assert.is(renderList(rows, { format: '{{range .}}{{.ID}},{{end}}', defaultTable: '' }), 'a,b,\n');
});

test('{{json .}} as a whole format is a template: compact JSON per row', () => {
  const rows = [{ ID: 'a', N: 1 }];
  assert.is(renderList(rows, { format: '{{json .}}', defaultTable: '' }), '{"ID":"a","N":1}\n');
});

test('header titles: nested fields, functions and ranges in a table', () => {
  const rows = [{ State: { Status: 'running' }, Names: ['a', 'b'], Mounts: [{ Source: '/x' }, { Source: '/y' }] }];
  const out = renderList(rows, {
    format: 'table {{.State.Status}}\\t{{join .Names ","}}\\t{{range .Mounts}}{{.Source}},{{end}}\\t{{upper "x"}}',
    defaultTable: '',
  });
  assert.is(out, 'STATUS      NAMES       SOURCE,     X\nrunning     a,b         /x,/y,      X\n');
});

test('an unknown field of a row is an error naming the field and the row type', () => {
  try {
    renderList([{ ID: 'a' }], { format: '{{.Foo}}', defaultTable: '', name: 'ps', typeName: 'containers.psReporter' });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, TspodError);
    assert.is((err as Error).message, 'template: ps:1:2: executing "ps" at <.Foo>: can\'t evaluate field Foo in type containers.psReporter');
  }
});

test('a syntax error in --format is a TspodError', () => {
  assert.throws(() => renderList([{ ID: 'a' }], { format: '{{.ID', defaultTable: '', name: 'images' }), /template: images:1: unclosed action/);
});

test('isJsonFormat follows podman: json and {{json}} but not {{json .}}', () => {
  for (const s of ['json', ' json ', '{{json}}', '{{json }}', '{{json.}}', '{{ json. }}']) assert.ok(isJsonFormat(s), s);
  for (const s of ['{{ json .}}', '{{ json . }}', '{{ json .', 'json . }}', '{{.ID }} json .', 'json .', 'JSON']) assert.not.ok(isJsonFormat(s), s);
});

test('normalizeFormat: escapes outside actions only, table spaces become tabs, one newline', () => {
  assert.is(normalizeFormat('{{.ID}}\\t{{.ID}}', false), '{{.ID}}\t{{.ID}}\n');
  assert.is(normalizeFormat('{{.ID}} {{.ID}}', false), '{{.ID}} {{.ID}}\n');
  assert.is(normalizeFormat('{{.ID}} {{.ID}}', true), '{{.ID}}\t{{.ID}}\n');
  assert.is(normalizeFormat('{{printf "%s %s" .A .B}}', true), '{{printf "%s %s" .A .B}}\n');
  assert.is(normalizeFormat('{{"}}"}} x', true), '{{"}}"}}\tx\n');
  assert.is(normalizeFormat('a\n', false), 'a\n');
});

test('header titles follow podman: camel case split, overrides upper-cased', () => {
  assert.equal(splitCamelCase('FieldA'), ['Field', 'A']);
  assert.equal(splitCamelCase('Fieldb'), ['Fieldb']);
  assert.equal(splitCamelCase('fieldC'), ['field', 'C']);
  assert.equal(splitCamelCase('PDFLoader'), ['PDF', 'Loader']);
  assert.equal(splitCamelCase('ImageID'), ['Image', 'ID']);
  assert.equal(splitCamelCase('Field2'), ['Field', '2']);
  assert.is(headerFor(['CreatedHuman']), 'CREATED HUMAN');
  assert.is(headerFor(['CreatedHuman'], PS_HEADERS), 'CREATED');
  assert.is(headerFor(['Namespaces', 'PIDNS'], PS_HEADERS), 'PIDNS');
  assert.is(headerFor(['Labels', 'com.example']), 'COM.EXAMPLE');
});

test('psCommand truncates to 17 bytes and ..., unless --no-trunc', () => {
  assert.is(psCommand(['sh', '-c', 'echo out; echo err >&2; exit 3']), 'sh -c echo out; e...');
  assert.is(psCommand(['httpd', '-f', '-p', '80']), 'httpd -f -p 80');
  assert.is(psCommand(['12345678901234567']), '12345678901234567');
  assert.is(psCommand(['123456789012345678']), '12345678901234567...');
  assert.is(psCommand(['sh', '-c', 'echo out; echo err >&2; exit 3'], true), 'sh -c echo out; echo err >&2; exit 3');
});

test('renderTemplate renders one value without adding a newline', () => {
  assert.is(renderTemplate('{{.Host.Arch}}\\t{{.Version}}', { Host: { Arch: 'amd64' }, Version: '0.1.0' }), 'amd64\t0.1.0');
  assert.is(renderTemplate('{{.A}}\\n', { A: 1 }), '1\n');
});

test.run();
