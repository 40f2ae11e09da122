// Patch functions on their own: RFC 7386 merge patch (its Appendix A cases), RFC 6902 JSON patch,
// and strategic merge patch for the lists our controllers touch.
import t from 'tap';
import { jsonPatch, mergePatch, PatchApplyError, PatchFormatError, type Json } from '../src/patch.js';
import { strategicMergePatch } from '../src/strategic.js';

t.test('RFC 7386 Appendix A', async (t) => {
  const cases: [Json, Json, Json][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [
      ['a', 'b'],
      ['c', 'd'],
      ['c', 'd'],
    ],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [target, patch, result] of cases)
    t.same(mergePatch(target, patch), result, `${JSON.stringify(target)} + ${JSON.stringify(patch)}`);
});

t.test('RFC 6902 operations', async (t) => {
  const doc: Json = { foo: ['bar', 'baz'], 'a/b': 1, m: { '~x': 2 } };
  t.same(jsonPatch(doc, [{ op: 'add', path: '/foo/1', value: 'qux' }]), {
    foo: ['bar', 'qux', 'baz'],
    'a/b': 1,
    m: { '~x': 2 },
  });
  t.same(jsonPatch(doc, [{ op: 'add', path: '/foo/-', value: 'end' }]), {
    foo: ['bar', 'baz', 'end'],
    'a/b': 1,
    m: { '~x': 2 },
  });
  t.same(
    jsonPatch(doc, [
      { op: 'remove', path: '/a~1b' },
      { op: 'remove', path: '/m/~0x' },
    ]),
    { foo: ['bar', 'baz'], m: {} },
    '~1 and ~0 escapes',
  );
  t.same(jsonPatch(doc, [{ op: 'replace', path: '/foo/0', value: 'BAR' }]), {
    foo: ['BAR', 'baz'],
    'a/b': 1,
    m: { '~x': 2 },
  });
  t.same(jsonPatch(doc, [{ op: 'move', from: '/foo/0', path: '/first' }]), {
    foo: ['baz'],
    'a/b': 1,
    m: { '~x': 2 },
    first: 'bar',
  });
  t.same(jsonPatch(doc, [{ op: 'copy', from: '/m', path: '/n' }]), {
    foo: ['bar', 'baz'],
    'a/b': 1,
    m: { '~x': 2 },
    n: { '~x': 2 },
  });
  t.same(jsonPatch(doc, [{ op: 'test', path: '/foo', value: ['bar', 'baz'] }]), doc);
  t.same(doc, { foo: ['bar', 'baz'], 'a/b': 1, m: { '~x': 2 } }, 'the input is not modified');
  t.throws(() => jsonPatch(doc, [{ op: 'test', path: '/foo/0', value: 'nope' }]), PatchApplyError);
  t.throws(() => jsonPatch(doc, [{ op: 'remove', path: '/missing' }]), PatchApplyError);
  t.throws(() => jsonPatch(doc, [{ op: 'replace', path: '/foo/5', value: 1 }]), PatchApplyError);
  t.throws(() => jsonPatch(doc, { op: 'add' }), PatchFormatError, 'not an array');
  t.throws(() => jsonPatch(doc, [{ op: 'frobnicate', path: '/foo' }]), PatchFormatError);
});

t.test('strategic merge patch', async (t) => {
  const node: Json = {
    metadata: { name: 'n', finalizers: ['a'] },
    status: {
      conditions: [
        { type: 'Ready', status: 'True' },
        { type: 'NetworkUnavailable', status: 'False' },
      ],
      addresses: [{ type: 'InternalIP', address: '192.0.2.10' }],
    },
    spec: { taints: [{ key: 'x', effect: 'NoSchedule' }] },
  };
  const out = strategicMergePatch('Node', node, {
    metadata: { finalizers: ['b', 'a'] },
    status: {
      conditions: [
        { type: 'NetworkUnavailable', status: 'True' },
        { type: 'DiskPressure', status: 'False' },
      ],
    },
    spec: { taints: [] },
  });
  t.same(
    out,
    {
      metadata: { name: 'n', finalizers: ['a', 'b'] },
      status: {
        conditions: [
          { type: 'Ready', status: 'True' },
          { type: 'NetworkUnavailable', status: 'True' },
          { type: 'DiskPressure', status: 'False' },
        ],
        addresses: [{ type: 'InternalIP', address: '192.0.2.10' }],
      },
      spec: { taints: [] },
    },
    'conditions merge by type, finalizers as a set, taints replace',
  );
  t.same(
    strategicMergePatch('Node', node, {
      metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] },
      status: { conditions: [{ type: 'Ready', $patch: 'delete' }] },
    } as unknown as Json),
    {
      ...(node as object),
      metadata: { name: 'n', finalizers: [] },
      status: {
        conditions: [{ type: 'NetworkUnavailable', status: 'False' }],
        addresses: [{ type: 'InternalIP', address: '192.0.2.10' }],
      },
    },
    '$deleteFromPrimitiveList and $patch: delete',
  );
  t.same(
    strategicMergePatch(
      'Service',
      { spec: { selector: { a: '1', b: '2' } } },
      { spec: { selector: { $patch: 'replace', c: '3' } } },
    ),
    { spec: { selector: { c: '3' } } },
    '$patch: replace on a map',
  );
});
