/**
 * The hot loops behind one service provider interface, after Lucene's {@code
 * VectorUtilSupport}: {@link dev.codebook.index.simd.KernelSupport} lists every kernel (dot
 * products and squared distances, their transposed many-at-once forms, PQ table building and
 * encoding, fast-scan block scans), {@link dev.codebook.index.simd.ScalarKernelSupport} is the
 * plain-Java reference, and the Vector API twin lives in {@code
 * dev.codebook.index.simd.panama}, the only package that imports {@code jdk.incubator.vector}.
 *
 * <p>{@link dev.codebook.index.simd.KernelProvider} picks one provider per JVM from {@code
 * -Dcodebook.kernels=auto|scalar|panama}: {@code auto} falls back to scalar with one logged
 * warning when the module is absent, {@code panama} fails loudly. {@link
 * dev.codebook.index.simd.VectorKernels} is the checked façade: it validates offsets and lengths
 * once per call, so the kernels themselves only {@code assert}; hot loops that validated their
 * layout up front call {@link dev.codebook.index.simd.VectorKernels#support()} directly.
 *
 * <p>Rules every provider keeps: no allocation, boxing or streams in a kernel; a vector body and
 * a scalar tail; results the tests compare against the scalar provider on odd sizes. The whole
 * index test suite runs once per provider.
 *
 * <p>Threading: providers are stateless singletons, safe from any thread; scratch arrays belong
 * to the caller.
 */
package dev.codebook.index.simd;
