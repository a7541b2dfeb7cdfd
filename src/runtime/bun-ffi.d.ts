// The slice of Bun's `bun:ffi` module that the runtime uses (loaded only under Bun).
declare module 'bun:ffi' {
  export const FFIType: {
    readonly i32: number;
    readonly u32: number;
    readonly i64: number;
    readonly u64: number;
    readonly ptr: number;
    readonly cstring: number;
    readonly void: number;
  };
  export type Pointer = number & { readonly __pointer: unique symbol };
  export interface FFIFunction {
    readonly args?: readonly number[];
    readonly returns?: number;
  }
  export interface Library<Fns extends Record<string, FFIFunction>> {
    symbols: { [K in keyof Fns]: (...args: unknown[]) => unknown };
    close(): void;
  }
  export function dlopen<Fns extends Record<string, FFIFunction>>(path: string, symbols: Fns): Library<Fns>;
  export function ptr(view: ArrayBufferView | ArrayBufferLike, byteOffset?: number): Pointer;
}
