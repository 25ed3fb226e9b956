/**
 * The Vector API ({@code jdk.incubator.vector}) implementation of {@link
 * dev.codebook.index.simd.KernelSupport}, and the only code in Codebook that imports the
 * incubator module. {@link dev.codebook.index.simd.KernelProvider} loads it by class name, so a
 * JVM started without {@code --add-modules jdk.incubator.vector} never links it and runs the
 * scalar kernels.
 *
 * <p>Kernels use the preferred species of the CPU, several accumulators to break dependency
 * chains, and a scalar tail; the fast-scan kernels use byte permutes ({@code vpermb} on AVX-512
 * VBMI) to look up 4-bit and 8-bit tables and sum in 16-bit lanes. Every kernel has a scalar twin
 * in {@link dev.codebook.index.simd.ScalarKernelSupport} that the tests compare it against.
 *
 * <p>Threading: stateless; safe from any thread.
 */
package dev.codebook.index.simd.panama;
