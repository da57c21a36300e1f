/**
 * @adalora/wasm-simd: one-function WebAssembly SIMD modules assembled from their bytes (see
 * wasm-simd.ts), and the fixed memory they can share with the data they read (wasm-arena.ts).
 * Depends on no other workspace project, so that both the adapter maths
 * (adalora-core) and the wire (protocol) can run their per-value passes through it.
 */
export * from './wasm-simd';
export * from './wasm-arena';
