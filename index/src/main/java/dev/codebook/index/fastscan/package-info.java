/**
 * Fast-scan: product-quantization codes laid out in blocks of 64 vectors so that one SIMD
 * register holds one sub-quantizer's codes of a whole block, and ADC tables quantized to bytes so
 * that a table lookup is a byte permute (FAISS's {@code IndexPQFastScan} / {@code
 * IndexIVFPQFastScan} family). This package holds the layouts and the tables; the kernels that
 * read them are {@code KernelSupport.fastScan4} and {@code KernelSupport.fastScan8} in {@code
 * dev.codebook.index.simd}, and the scanners that drive them live in {@code
 * dev.codebook.index.ivf}.
 *
 * <h2>Block layout, 4-bit codes ({@link dev.codebook.index.fastscan.FastScanLayout})</h2>
 *
 * <p>A block is {@code ceil(m / 2)} slabs of 64 bytes, {@code pairs * 64} bytes in all. Slab
 * {@code p} holds sub-quantizers {@code 2p} (low nibble) and {@code 2p + 1} (high nibble) of all
 * 64 vectors; an odd {@code m} leaves the last high nibble zero. Inside a slab:
 *
 * <pre>
 * byte  0   1    2   3    ...  62  63
 * vec   0   32   1   33   ...  31  63
 * </pre>
 *
 * that is byte {@code 2j} is vector {@code j} and byte {@code 2j + 1} vector {@code 32 + j}
 * ({@link dev.codebook.index.fastscan.FastScanLayout#position}). Read as 32 16-bit lanes, the low
 * bytes are vectors 0..31 and the high bytes vectors 32..63: the kernel sums looked-up bytes as
 * whole lanes plus their high bytes, and the two halves of its 64-bit result mask line up with
 * vector numbers without a shuffle. A list of {@code n} vectors is {@code ceil(n / 64)} blocks
 * back to back; the slots past {@code n} in the last block hold zeros and are masked off by the
 * scanner.
 *
 * <h2>Block layout, 8-bit codes ({@link dev.codebook.index.fastscan.FastScan8Layout})</h2>
 *
 * <p>A block is {@code m} slabs of 64 bytes; slab {@code s} holds sub-quantizer {@code s}'s code
 * of all 64 vectors, in the same byte order as above. Before version 2 of the IVF file format,
 * 8-bit codes were stored contiguously ({@code m} bytes a vector) and are re-blocked on load
 * ({@link dev.codebook.index.fastscan.FastScan8Layout#fromContiguous}).
 *
 * <h2>Byte tables ({@link dev.codebook.index.fastscan.QuantizedLut})</h2>
 *
 * <p>The float ADC table ({@code m x ksub} scores, higher is better) becomes unsigned bytes:
 * entry {@code (s, c)} is {@code round((lut[s][c] - min_s) * a)} with one scale {@code a} for
 * all sub-quantizers, chosen so the largest entry is {@code E = min(255, floor(32767 / m))}: a
 * sum of {@code m} entries then fits a signed 16-bit lane and never overflows. For 4-bit codes
 * the tables are grouped by four sub-quantizers (group {@code g} is 64 bytes, entry {@code (j,
 * c)} at {@code g * 64 + j * 16 + c}, one 64-byte permute serving four sub-quantizers); for 8-bit
 * codes they are {@code m x 256}, sub-quantizer {@code s}'s at {@code s * 256}.
 *
 * <h2>Error bound</h2>
 *
 * <p>With {@code offset = sum_s min_s}, a vector's float table score is {@code offset + S / a}
 * for the exact scaled sum {@code S}; each entry was rounded by at most half a step, so its byte
 * sum {@code B} satisfies {@code |B - S| <= m / 2}. {@link
 * dev.codebook.index.fastscan.QuantizedLut#lowerBound} and {@link
 * dev.codebook.index.fastscan.QuantizedLut#upperBound} widen that by one more step (and one ulp)
 * for float rounding, and {@link dev.codebook.index.fastscan.QuantizedLut#threshold} subtracts
 * the same slack from the byte threshold, so the byte scan is a filter that never drops a vector
 * the float table would keep: re-scoring its survivors with the float table gives exactly the
 * results of plain float ADC over the same codes.
 *
 * <h2>Threading</h2>
 *
 * <p>The layouts are stateless. A {@code QuantizedLut} is mutable scratch for one query at a
 * time, owned by whoever scans (a scanner, owned by a search context); it is never shared
 * between threads.
 */
package dev.codebook.index.fastscan;
