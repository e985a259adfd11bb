import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Tabwriter, tabulate, type TabwriterOptions } from '../../core/format/tabwriter';

// Cases from Go's text/tabwriter tests, limited to the modes implemented (space-like padding,
// AlignRight, DiscardEmptyColumns). Each is also written in small pieces, as Go's test does.
const AR = { alignRight: true };
const DE = { discardEmptyColumns: true };
const cases: [string, number, number, string, object, string, string][] = [
  ['1a', 8, 1, '.', {}, '', ''],
  ['2', 8, 1, '.', {}, '\n\n\n', '\n\n\n'],
  ['3', 8, 1, '.', {}, 'a\nb\nc', 'a\nb\nc'],
  ['4a', 8, 1, '.', {}, '\t', ''],
  ['4b', 8, 1, '.', AR, '\t', ''],
  ['5', 8, 1, '.', {}, '*\t*', '*.......*'],
  ['5b', 8, 1, '.', {}, '*\t*\n', '*.......*\n'],
  ['5c', 8, 1, '.', {}, '*\t*\t', '*.......*'],
  ['5d', 8, 1, '.', AR, '*\t*\t', '.......**'],
  ['6', 8, 1, '.', {}, '\t\n', '........\n'],
  ['7a', 8, 1, '.', {}, 'a) foo', 'a) foo'],
  ['7b', 8, 1, ' ', {}, 'b) foo\tbar', 'b) foo  bar'],
  ['7c', 8, 1, '.', {}, 'c) foo\tbar\t', 'c) foo..bar'],
  ['7d', 8, 1, '.', {}, 'd) foo\tbar\n', 'd) foo..bar\n'],
  ['7e', 8, 1, '.', {}, 'e) foo\tbar\t\n', 'e) foo..bar.....\n'],
  ['8', 8, 1, '*', {}, 'Hello, world!\n', 'Hello, world!\n'],
  ['9a', 1, 0, '.', {}, '1\t2\t3\t4\n11\t222\t3333\t44444\n', '1.2..3...4\n11222333344444\n'],
  ['9c', 1, 0, '.', {}, '1\t2\t3\t4\f11\t222\t3333\t44444\n', '1234\n11222333344444\n'],
  ['10a', 5, 0, '.', {}, '1\t2\t3\t4\n', '1....2....3....4\n'],
  ['10b', 5, 0, '.', {}, '1\t2\t3\t4\t\n', '1....2....3....4....\n'],
  [
    '11',
    8,
    1,
    '.',
    {},
    '本\tb\tc\naa\t本本本\tcccc\tddddd\naaa\tbbbb\n',
    '本.......b.......c\naa......本本本.....cccc....ddddd\naaa.....bbbb\n',
  ],
  [
    '12a',
    8,
    1,
    ' ',
    AR,
    'a\tè\tc\t\naa\tèèè\tcccc\tddddd\t\naaa\tèèèè\t\n',
    '       a       è       c\n      aa     èèè    cccc   ddddd\n     aaa    èèèè\n',
  ],
  ['12b', 2, 0, ' ', {}, 'a\tb\tc\naa\tbbb\tcccc\naaa\tbbbb\n', 'a  b  c\naa bbbcccc\naaabbbb\n'],
  ['12c', 8, 1, '_', {}, 'a\tb\tc\naa\tbbb\tcccc\naaa\tbbbb\n', 'a_______b_______c\naa______bbb_____cccc\naaa_____bbbb\n'],
  [
    '13a',
    4,
    1,
    '-',
    {},
    '4444\t日本語\t22\t1\t333\n999999999\t22\n7\t22\n\t\t\t88888888\n\n666666\t666666\t666666\t4444\n1\t1\t999999999\t0000000000\n',
    '4444------日本語-22--1---333\n999999999-22\n7---------22\n------------------88888888\n\n666666-666666-666666----4444\n1------1------999999999-0000000000\n',
  ],
  [
    '13b',
    4,
    3,
    '.',
    {},
    '4444\t333\t22\t1\t333\n999999999\t22\n7\t22\n\t\t\t88888888\n\n666666\t666666\t666666\t4444\n1\t1\t999999999\t0000000000\n',
    '4444........333...22...1...333\n999999999...22\n7...........22\n....................88888888\n\n666666...666666...666666......4444\n1........1........999999999...0000000000\n',
  ],
  [
    '14',
    1,
    2,
    ' ',
    AR,
    '.0\t.3\t2.4\t-5.1\t\n23.0\t12345678.9\t2.4\t-989.4\t\n5.1\t12.0\t2.4\t-7.0\t\n.0\t0.0\t332.0\t8908.0\t\n.0\t-.3\t456.4\t22.1\t\n.0\t1.2\t44.4\t-13.3\t\t',
    '    .0          .3    2.4    -5.1\n  23.0  12345678.9    2.4  -989.4\n   5.1        12.0    2.4    -7.0\n    .0         0.0  332.0  8908.0\n    .0         -.3  456.4    22.1\n    .0         1.2   44.4   -13.3',
  ],
  ['15a', 4, 0, '.', {}, 'a\t\tb', 'a.......b'],
  ['15b', 4, 0, '.', DE, 'a\t\tb', 'a.......b'],
  ['15c', 4, 0, '.', DE, 'a\v\vb', 'a...b'],
  ['15d', 4, 0, '.', { ...AR, ...DE }, 'a\v\vb', '...ab'],
];

for (const [name, minwidth, padding, padchar, flags, src, expected] of cases) {
  const opts: TabwriterOptions = { minwidth, padding, padchar, ...flags };
  test(`go tabwriter case ${name}`, () => {
    assert.is(tabulate(src, opts), expected);
  });
  test(`go tabwriter case ${name}, written in growing pieces`, () => {
    const tw = new Tabwriter(opts);
    for (let i = 0, d = 1; i < src.length; i += d, d++) tw.write(src.slice(i, i + d));
    assert.is(tw.flush(), expected);
  });
}

test('podman settings: minimum width 12, two spaces of padding, no trailing spaces', () => {
  assert.is(tabulate('TAG\tIMAGE ID\tSIZE\nlatest\td33885d90108\t121 MB\n'), 'TAG         IMAGE ID      SIZE\nlatest      d33885d90108  121 MB\n');
});

test('an empty cell is padded to its column, the last cell never is', () => {
  assert.is(tabulate('A\tB\tC\nx\t\tz\n'), 'A           B           C\nx                       z\n');
});

test('a line without tabs ends the columns above it', () => {
  assert.is(tabulate('aaaaaaaaaaaaaaaa\tb\nplain\nc\td\n'), 'aaaaaaaaaaaaaaaa  b\nplain\nc           d\n');
});

test('widths count code points, not UTF-16 units', () => {
  assert.is(tabulate('😀😀\tx\nab\ty\n', { minwidth: 0, padding: 1, padchar: '.' }), '😀😀.x\nab.y\n');
});

test('flush returns only new output and the writer can be reused', () => {
  const tw = new Tabwriter();
  tw.write('a\tb\n');
  assert.is(tw.flush(), 'a           b\n');
  assert.is(tw.flush(), '');
  tw.write('ccccccccccccc\td\n');
  assert.is(tw.flush(), 'ccccccccccccc  d\n');
});

test.run();
