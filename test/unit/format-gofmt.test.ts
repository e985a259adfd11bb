import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { asStruct, formatFloat, quote, sprint, sprintf, sprintln, sprintValue } from '../../core/format/gofmt';

// [format, args, what Go's fmt.Sprintf prints]
const printfCases: [string, unknown[], string][] = [
  // integers
  ['%d', [12345], '12345'],
  ['%v', [-12345], '-12345'],
  ['%x', [255], 'ff'],
  ['%X', [255], 'FF'],
  ['%#x', [255], '0xff'],
  ['%x', [-255], '-ff'],
  ['%o', [8], '10'],
  ['%#o', [8], '010'],
  ['%O', [8], '0o10'],
  ['%b', [5], '101'],
  ['%#b', [5], '0b101'],
  ['%5d', [12], '   12'],
  ['%-5d|', [12], '12   |'],
  ['%05d', [12], '00012'],
  ['%05d', [-12], '-0012'],
  ['%-05d|', [12], '12   |'],
  ['%+d', [12], '+12'],
  ['% d', [12], ' 12'],
  ['%.3d', [7], '007'],
  ['%8.3d', [7], '     007'],
  ['%.0d', [0], ''],
  ['%d', [12345678901234567890n], '12345678901234567890'],
  ['%c', [65], 'A'],
  ['%c', [0x1f600], '😀'],
  ['%q', [65], "'A'"],
  ['%q', [0x27], "'\\''"],
  ['%U', [0x1f600], 'U+1F600'],
  ['%#U', [65], "U+0041 'A'"],
  // strings
  ['%s', ['hello'], 'hello'],
  ['%10s|', ['hello'], '     hello|'],
  ['%-10s|', ['hello'], 'hello     |'],
  ['%-10s|', ['日本語'], '日本語       |'],
  ['%.3s', ['hello'], 'hel'],
  ['%.1s', ['日本語'], '日'],
  ['%05s', ['abc'], '00abc'],
  ['%q', ['hello\n'], '"hello\\n"'],
  ['%q', ['日本語'], '"日本語"'],
  ['%+q', ['日本語'], '"\\u65e5\\u672c\\u8a9e"'],
  ['%#q', ['abc'], '`abc`'],
  ['%#q', ['a`b'], '"a`b"'],
  ['%x', ['hi'], '6869'],
  ['%X', ['hi'], '6869'],
  ['% x', ['hi'], '68 69'],
  ['%#x', ['hi'], '0x6869'],
  ['%# x', ['hi'], '0x68 0x69'],
  ['%x', ['é'], 'c3a9'],
  ['%v', ['plain'], 'plain'],
  ['%#v', ['q'], '"q"'],
  ['%t', [true], 'true'],
  ['%v', [false], 'false'],
  // floats
  ['%f', [3.14159], '3.141590'],
  ['%.2f', [3.14159], '3.14'],
  ['%8.3f|', [3.14159], '   3.142|'],
  ['%-8.3f|', [3.14159], '3.142   |'],
  ['%08.3f', [-3.14159], '-003.142'],
  ['%+.1f', [2.5], '+2.5'],
  ['%e', [1234.5678], '1.234568e+03'],
  ['%E', [1234.5678], '1.234568E+03'],
  ['%.3e', [0.5], '5.000e-01'],
  ['%g', [1234.5678], '1234.5678'],
  ['%g', [0.000012345], '1.2345e-05'],
  ['%.3g', [1234.5678], '1.23e+03'],
  ['%v', [0.5], '0.5'],
  ['%v', [1234567.5], '1.2345675e+06'],
  ['%v', [100000.5], '100000.5'],
  ['%v', [0.0001], '0.0001'],
  ['%v', [0.000015], '1.5e-05'],
  ['%v', [1e21], '1e+21'],
  ['%v', [NaN], 'NaN'],
  ['%v', [Infinity], '+Inf'],
  ['%5.1f', [-Infinity], ' -Inf'],
  ['%+f', [NaN], '+NaN'],
  ['%.2f', [2], '2.00'],
  // Go rounds exact ties to even; JavaScript's toFixed would not.
  ['%.0f', [0.5], '0'],
  ['%.0f', [1.5], '2'],
  ['%.0f', [2.5], '2'],
  ['%.1f', [0.25], '0.2'],
  ['%.1f', [0.35], '0.3'],
  ['%.2g', [0.125], '0.12'],
  ['%.20f', [0.1], '0.10000000000000000555'],
  // collections
  ['%v', [[1, 2]], '[1 2]'],
  ['%d', [[1, 2]], '[1 2]'],
  ['%s', [['a', 'b']], '[a b]'],
  ['%q', [['a', 'b']], '["a" "b"]'],
  ['%5v', [[1, 2]], '[    1     2]'],
  ['%v', [[]], '[]'],
  ['%v', [[[1], ['x', null]]], '[[1] [x <nil>]]'],
  ['%v', [{ b: 2, a: 'x' }], 'map[a:x b:2]'],
  ['%v', [new Map<unknown, unknown>([[10, 'x'], [9, 'y']])], 'map[9:y 10:x]'],
  ['%v', [{}], 'map[]'],
  ['%v', [asStruct({ Name: 'a', N: 1 }, 'T')], '{a 1}'],
  ['%+v', [asStruct({ Name: 'a', N: 1 }, 'T')], '{Name:a N:1}'],
  ['%v', [new Date(Date.UTC(2026, 10, 22, 7, 34, 42))], '2026-11-22 07:34:42 +0000 UTC'],
  // types
  ['%T %T %T %T %T %T %T', ['s', 1, 1.5, true, [], {}, null], 'string int float64 bool []interface {} map[string]interface {} <nil>'],
  // width and precision from arguments
  ['%*d', [5, 12], '   12'],
  ['%-*d|', [5, 12], '12   |'],
  ['%*d|', [-5, 12], '12   |'],
  ['%.*f', [2, 3.14159], '3.14'],
  ['%*d', ['x', 12], '%!(BADWIDTH)12'],
  // errors, printed inline as Go does
  ['%d', ['hi'], '%!d(string=hi)'],
  ['%s', [5], '%!s(int=5)'],
  ['%t', [1], '%!t(int=1)'],
  ['%s', [null], '%!s(<nil>)'],
  ['%v', [null], '<nil>'],
  ['%v', [undefined], '<nil>'],
  ['%z', [1], '%!z(int=1)'],
  ['%d', [], '%!d(MISSING)'],
  ['%d %d', [1], '1 %!d(MISSING)'],
  ['%d', [1, 3], '1%!(EXTRA int=3)'],
  ['x', ['a', 2], 'x%!(EXTRA string=a, int=2)'],
  ['%', [], '%!(NOVERB)'],
  ['100%%', [], '100%'],
  ['%s', [['a', 1]], '[a %!s(int=1)]'],
];

for (const [format, args, want] of printfCases) {
  test(`sprintf ${JSON.stringify(format)} ${JSON.stringify(args, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))}`, () => {
    assert.is(sprintf(format, args), want);
  });
}

test('strconv.FormatFloat', () => {
  const cases: [number, 'e' | 'E' | 'f' | 'g' | 'G', number, string][] = [
    [1e6, 'g', -1, '1e+06'],
    [123456, 'g', -1, '123456'],
    [1e-5, 'g', -1, '1e-05'],
    [0, 'e', 3, '0.000e+00'],
    [0, 'g', -1, '0'],
    [-0, 'g', -1, '-0'],
    [0.5, 'f', 0, '0'],
    [999.5, 'g', 3, '1e+03'],
    [1, 'g', 4, '1'],
    [1.024, 'g', 3, '1.02'],
    [2.131619, 'g', 3, '2.13'],
    [121.460583, 'g', 3, '121'],
    [1234.5, 'e', -1, '1.2345e+03'],
    [0.1, 'f', -1, '0.1'],
    [5e-324, 'g', -1, '5e-324'],
    [1.7976931348623157e308, 'g', -1, '1.7976931348623157e+308'],
    [1e100, 'e', 2, '1.00e+100'],
    [1e21, 'f', 2, '1000000000000000000000.00'],
    [123.456, 'G', 2, '1.2E+02'],
    [0.00001234, 'g', 2, '1.2e-05'],
    [0.0001234, 'g', 2, '0.00012'],
    [9.9999, 'g', 3, '10'],
    [99.99, 'f', 1, '100.0'],
  ];
  for (const [x, fmt, prec, want] of cases) assert.is(formatFloat(x, fmt, prec), want, `${x} ${fmt} ${prec}`);
});

test('strconv.Quote', () => {
  assert.is(quote('a"b\\c\n\t\u0000\u007f'), '"a\\"b\\\\c\\n\\t\\x00\\x7f"');
  assert.is(quote('日本 😀'), '"日本 😀"');
  assert.is(quote('\u200b'), '"\\u200b"');
  assert.is(quote('\u{e0001}'), '"\\U000e0001"');
  assert.is(quote('\x07\x08\x0b\x0c\r'), '"\\a\\b\\v\\f\\r"');
  assert.is(quote('é', true), '"\\u00e9"');
});

test('Sprint and Sprintln spacing rules', () => {
  assert.is(sprint(['a', 1, 2, 'b']), 'a1 2b');
  assert.is(sprint([1, 2]), '1 2');
  assert.is(sprint(['a', 'b']), 'ab');
  assert.is(sprintln(['a', 1, 'b']), 'a 1 b\n');
  assert.is(sprintln([]), '\n');
});

test('%v of values as templates print them', () => {
  assert.is(sprintValue(1795332882), '1795332882');
  assert.is(sprintValue(2 ** 53 + 2), '9007199254740994');
  assert.is(sprintValue(true), 'true');
  assert.is(sprintValue({ 'io.x': 'y', a: [1, 'b'] }), 'map[a:[1 b] io.x:y]');
  assert.is(sprintValue(new Map([['é', 1], ['z', 2]])), 'map[z:2 é:1]');
  assert.is(sprintValue(() => 1), '0x0');
});

test.run();
