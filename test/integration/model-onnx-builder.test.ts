import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { decodeModel, GraphBuilder, GraphError } from '../../src/model/onnx/builder.js';

void test('a built graph runs in ONNX Runtime and gives the expected values', async () => {
  const g = new GraphBuilder('lookup-sum');
  const x = g.input('syscalls', 'int64', ['batch', 'window']);
  const w = g.constant('weights', 'float32', [4], [0, 0.5, 1.25, -2]);
  const e = g.op('Gather', [w, x], { axis: 0 });
  const s = g.op('ReduceSum', [e, g.ints([1], 'axes')], { keepdims: 0 });
  const scaled = g.op('Mul', [s, g.scalar(2)]);
  g.output(scaled, 'float32', ['batch'], 'score');
  const bytes = g.toBytes({ opset: 17, metadata: { family: 'test' } });
  assert.equal(decodeModel(bytes).metadataProps[0].value, 'test');

  const session = await ort.InferenceSession.create(bytes);
  try {
    const input = new ort.Tensor('int64', BigInt64Array.from([1n, 2n, 0n, 3n, 3n, 0n]), [2, 3]);
    const out = await session.run({ syscalls: input });
    const score = out.score.data as Float32Array;
    assert.deepEqual(Array.from(score), [2 * 1.75, 2 * -4]);
  } finally {
    await session.release();
  }
});

void test('attributes: integers, forced floats, lists and tensors', async () => {
  const g = new GraphBuilder();
  const x = g.input('x', 'float32', [3]);
  const clipped = g.op('LeakyRelu', [x], { alpha: { float: 1 } });
  const c = g.op('Constant', [], { value: { type: 'float32', dims: [3], data: [1, 2, 3] } });
  const y = g.op('Add', [clipped, c]);
  g.output(y, 'float32', [3], 'y');
  const session = await ort.InferenceSession.create(g.toBytes({ opset: 17 }));
  try {
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([-1, 0, 1]), [3]) });
    assert.deepEqual(Array.from(out.y.data as Float32Array), [0, 2, 4]);
  } finally {
    await session.release();
  }
});

void test('errors name the problem: unknown input, reused name, wrong data length, no outputs', () => {
  const g = new GraphBuilder('g');
  g.input('x', 'float32', [1]);
  assert.throws(() => g.op('Relu', ['nope']), (e: unknown) => e instanceof GraphError && /input "nope"/.test(e.message));
  assert.throws(() => g.input('x', 'float32', [1]), /already used/);
  assert.throws(() => g.constant('w', 'float32', [2, 2], [1, 2, 3]), /hold 4 values, data has 3/);
  assert.throws(() => g.toBytes({ opset: 17 }), /no outputs/);
});
