// A small typed way to write ONNX graphs and serialise them to bytes.
//
//   const g = new GraphBuilder('scorer');
//   const x = g.input('syscalls', 'int64', ['batch', 'window']);
//   const w = g.constant('weights', 'float32', [vocab], weights);
//   const [e] = g.node('Gather', [w, x], { axis: 0 });
//   const [s] = g.node('ReduceSum', [e, g.constant('axes', 'int64', [1], [1])], { keepdims: 0 });
//   g.output(s, 'float32', ['batch'], 'score');
//   const bytes = g.toBytes({ opset: 17 });
//
// Node outputs get fresh names unless given; `output(name, ...)` with a different
// `as` name adds an Identity node. Tensor data is stored as little-endian raw bytes.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type Onnx = typeof onnx;

/** Element types this builder writes. */
export type ElemType = 'float32' | 'int64' | 'int32' | 'bool' | 'float64' | 'string';

const DATA_TYPE: Record<ElemType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  bool: onnx.TensorProto.DataType.BOOL,
  float64: onnx.TensorProto.DataType.DOUBLE,
  string: onnx.TensorProto.DataType.STRING,
};

/** A dimension: a fixed size, or a symbolic name (`'batch'`). */
export type Dim = number | string;

/** Numeric tensor contents; plain arrays are converted to the element type. */
export type TensorData = ArrayLike<number> | BigInt64Array;

/** A tensor value (for initializers and tensor attributes). */
export interface Tensor {
  type: Exclude<ElemType, 'string'>;
  dims: readonly number[];
  data: TensorData;
}

/** Forces a float attribute (a plain integer number would be written as INT). */
export interface FloatAttr {
  float: number;
}
/** Forces a list of floats (a plain list of integers would be written as INTS). */
export interface FloatsAttr {
  floats: readonly number[];
}
/**
 * Attribute values: an integer number -> INT, other numbers -> FLOAT; a list of integers ->
 * INTS, otherwise FLOATS; a string -> STRING; a list of strings -> STRINGS; `{float}`,
 * `{floats}` force floats; a `Tensor` -> TENSOR.
 */
export type AttrValue = number | string | readonly number[] | readonly string[] | FloatAttr | FloatsAttr | Tensor;

export interface ModelOptions {
  /** Default-domain opset version (ORT 1.30 runs up to 21+; 17 is a safe choice). */
  opset: number;
  /** Also import `ai.onnx.ml` at this version (e.g. 3). */
  mlOpset?: number;
  producer?: string;
  producerVersion?: string;
  docString?: string;
  /** Key/value pairs stored in the model's metadata_props. */
  metadata?: Record<string, string>;
}

/** The ONNX IR version written; 8 is what onnx-proto's schema knows and ORT reads. */
export const IR_VERSION = 8;

export class GraphError extends Error {
  override name = 'GraphError';
}

function isFloatAttr(v: AttrValue): v is FloatAttr {
  return typeof v === 'object' && 'float' in v;
}
function isFloatsAttr(v: AttrValue): v is FloatsAttr {
  return typeof v === 'object' && 'floats' in v;
}
function isTensor(v: AttrValue): v is Tensor {
  return typeof v === 'object' && 'dims' in v && 'data' in v;
}

function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Little-endian raw bytes of numeric tensor data in the given element type. */
export function rawBytes(type: Tensor['type'], data: TensorData): Uint8Array {
  const n = data.length;
  switch (type) {
    case 'float32': {
      const a = new Float32Array(n);
      for (let i = 0; i < n; i++) a[i] = Number(data[i]);
      return new Uint8Array(a.buffer);
    }
    case 'float64': {
      const a = new Float64Array(n);
      for (let i = 0; i < n; i++) a[i] = Number(data[i]);
      return new Uint8Array(a.buffer);
    }
    case 'int32': {
      const a = new Int32Array(n);
      for (let i = 0; i < n; i++) a[i] = Number(data[i]);
      return new Uint8Array(a.buffer);
    }
    case 'int64': {
      const a = data instanceof BigInt64Array ? data : BigInt64Array.from(Array.from(data as ArrayLike<number>, (v) => BigInt(Math.trunc(v))));
      return new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();
    }
    case 'bool': {
      const a = new Uint8Array(n);
      for (let i = 0; i < n; i++) a[i] = Number(data[i]) !== 0 ? 1 : 0;
      return a;
    }
  }
}

export function tensorProto(name: string, t: Tensor): InstanceType<Onnx['TensorProto']> {
  if (elementCount(t.dims) !== t.data.length) {
    throw new GraphError(`tensor "${name}": dims [${t.dims.join(', ')}] hold ${elementCount(t.dims)} values, data has ${t.data.length}`);
  }
  return onnx.TensorProto.create({
    name,
    dims: [...t.dims],
    dataType: DATA_TYPE[t.type],
    rawData: rawBytes(t.type, t.data),
  });
}

function attribute(name: string, v: AttrValue): InstanceType<Onnx['AttributeProto']> {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') {
    return Number.isInteger(v) ? onnx.AttributeProto.create({ name, type: T.INT, i: v }) : onnx.AttributeProto.create({ name, type: T.FLOAT, f: v });
  }
  if (typeof v === 'string') return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(v) });
  if (Array.isArray(v)) {
    const list = v as readonly (number | string)[];
    if (list.every((x) => typeof x === 'string')) {
      return onnx.AttributeProto.create({ name, type: T.STRINGS, strings: list.map((s) => new TextEncoder().encode(s as string)) });
    }
    const nums = list as readonly number[];
    if (nums.every((x) => Number.isInteger(x))) return onnx.AttributeProto.create({ name, type: T.INTS, ints: [...nums] });
    return onnx.AttributeProto.create({ name, type: T.FLOATS, floats: [...nums] });
  }
  if (isFloatAttr(v as AttrValue)) return onnx.AttributeProto.create({ name, type: T.FLOAT, f: (v as FloatAttr).float });
  if (isFloatsAttr(v as AttrValue)) return onnx.AttributeProto.create({ name, type: T.FLOATS, floats: [...(v as FloatsAttr).floats] });
  if (isTensor(v as AttrValue)) return onnx.AttributeProto.create({ name, type: T.TENSOR, t: tensorProto(name, v as Tensor) });
  throw new GraphError(`attribute "${name}": unsupported value`);
}

function valueInfo(name: string, type: ElemType, dims: readonly Dim[]): InstanceType<Onnx['ValueInfoProto']> {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: DATA_TYPE[type],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

/** Builds one ONNX graph; `toBytes()` wraps it in a model. */
export class GraphBuilder {
  private readonly nodes: InstanceType<Onnx['NodeProto']>[] = [];
  private readonly inits: InstanceType<Onnx['TensorProto']>[] = [];
  private readonly inputs: InstanceType<Onnx['ValueInfoProto']>[] = [];
  private readonly outputs: InstanceType<Onnx['ValueInfoProto']>[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  constructor(readonly name = 'graph') {}

  /** A name not used yet in this graph, starting with `prefix`. */
  fresh(prefix = 't'): string {
    let n: string;
    do n = `${prefix}_${this.counter++}`;
    while (this.names.has(n));
    this.names.add(n);
    return n;
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new GraphError(`name "${name}" is already used in graph "${this.name}"`);
    this.names.add(name);
    return name;
  }

  /** Declares a graph input; returns its name. */
  input(name: string, type: ElemType, dims: readonly Dim[]): string {
    this.inputs.push(valueInfo(this.claim(name), type, dims));
    return name;
  }

  /** Declares `value` as a graph output, named `as` (an Identity node renames it if needed). */
  output(value: string, type: ElemType, dims: readonly Dim[], as = value): string {
    if (as !== value) this.node('Identity', [value], {}, { outputs: [as] });
    this.outputs.push(valueInfo(as, type, dims));
    return as;
  }

  /** Adds a constant tensor (an initializer); `name` is made unique if taken. Returns its name. */
  constant(name: string, type: Tensor['type'], dims: readonly number[], data: TensorData): string {
    const n = this.names.has(name) ? this.fresh(name) : this.claim(name);
    this.inits.push(tensorProto(n, { type, dims, data }));
    return n;
  }

  /** A float32 scalar constant (rank 0). */
  scalar(value: number, name = 'c'): string {
    return this.constant(this.names.has(name) ? this.fresh(name) : name, 'float32', [], [value]);
  }

  /** An int64 1-D constant, e.g. axes or shapes. */
  ints(values: readonly number[], name = 'i'): string {
    return this.constant(this.names.has(name) ? this.fresh(name) : name, 'int64', [values.length], values);
  }

  /**
   * Adds a node. Returns its output names: `opts.outputs` if given, else `opts.count`
   * (default 1) fresh names. An empty string in `inputs` marks an omitted optional input.
   */
  node(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, opts: { outputs?: readonly string[]; count?: number; domain?: string; name?: string } = {}): string[] {
    const outputs = opts.outputs ? opts.outputs.map((o) => this.claim(o)) : Array.from({ length: opts.count ?? 1 }, () => this.fresh(opType.toLowerCase()));
    for (const i of inputs) {
      if (i !== '' && !this.names.has(i)) throw new GraphError(`${opType}: input "${i}" is not defined yet in graph "${this.name}"`);
    }
    this.nodes.push(
      onnx.NodeProto.create({
        opType,
        input: [...inputs],
        output: outputs,
        name: opts.name ?? `${opType}_${this.nodes.length}`,
        domain: opts.domain ?? '',
        attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
      }),
    );
    return outputs;
  }

  /** One-output shorthand for `node(...)[0]`. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, domain?: string): string {
    return this.node(opType, inputs, attrs, domain === undefined ? {} : { domain })[0];
  }

  /** The graph as an ONNX ModelProto serialised to bytes. */
  toBytes(opts: ModelOptions): Uint8Array {
    if (this.outputs.length === 0) throw new GraphError(`graph "${this.name}" has no outputs`);
    const opsetImport = [{ domain: '', version: opts.opset }];
    if (opts.mlOpset !== undefined) opsetImport.push({ domain: 'ai.onnx.ml', version: opts.mlOpset });
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      opsetImport,
      producerName: opts.producer ?? 'argos-edge',
      producerVersion: opts.producerVersion ?? '',
      docString: opts.docString ?? '',
      metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: onnx.GraphProto.create({
        name: this.name,
        node: this.nodes,
        initializer: this.inits,
        input: this.inputs,
        output: this.outputs,
      }),
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

/** Decodes model bytes (for tests and for reading metadata). Throws on bytes that are not a model. */
export function decodeModel(bytes: Uint8Array): InstanceType<Onnx['ModelProto']> {
  return onnx.ModelProto.decode(bytes);
}
