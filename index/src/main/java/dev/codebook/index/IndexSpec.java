package dev.codebook.index;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An index described by a FAISS {@code index_factory} string, so Codebook and its peers are
 * compared like for like: {@code Flat}, {@code PQ32}, {@code PQ32x4fs}, {@code IVF256,PQ32},
 * {@code IVF4096,PQ48x4fs}, {@code OPQ32,IVF256,PQ32}, each optionally ending in {@code ,RFlat}
 * (exact re-ranking of the best {@code k * rerank} candidates from full vectors).
 *
 * <p>Grammar: {@code [OPQ<m>[_<d>],][IVF<nlist>,](Flat | PQ<m>[x<nbits>][fs[r]])[,RFlat]}. With
 * IVF, 8-bit PQ encodes residuals against the coarse centroid (FAISS's default); fast-scan
 * encodes residuals only with the {@code r} suffix ({@code x4fsr}), as in FAISS.
 *
 * @param opqM OPQ rotation trained for {@code opqM} sub-spaces, 0 for none
 * @param nlist inverted lists (coarse centroids), 0 for none
 * @param pqM PQ sub-quantizers, 0 for a {@code Flat} (exact) encoding
 * @param nbits bits per PQ code: 8, or 4 for fast-scan
 * @param fastScan 4-bit codes in the blocked fast-scan layout
 * @param residual PQ encodes the residual against the coarse centroid
 * @param refineFlat re-rank candidates with exact distances from the full vectors
 */
public record IndexSpec(
    int opqM, int nlist, int pqM, int nbits, boolean fastScan, boolean residual,
    boolean refineFlat) {

  private static final Pattern OPQ = Pattern.compile("OPQ(\\d+)(?:_(\\d+))?");
  private static final Pattern IVF = Pattern.compile("IVF(\\d+)");
  private static final Pattern PQ = Pattern.compile("PQ(\\d+)(?:x(\\d+))?(fs(r)?)?");

  public IndexSpec {
    if (opqM < 0 || nlist < 0 || pqM < 0) {
      throw new IllegalArgumentException("negative size in index spec");
    }
    if (pqM > 0 && nbits != 8 && nbits != 4) {
      throw new IllegalArgumentException("PQ nbits must be 4 or 8, got " + nbits);
    }
    if (fastScan && nbits != 4) {
      throw new IllegalArgumentException("fast-scan (fs) needs 4-bit codes, got x" + nbits);
    }
    if (opqM > 0 && pqM == 0) {
      throw new IllegalArgumentException("OPQ needs a PQ encoding after it");
    }
  }

  /** The exact brute-force index. */
  public static IndexSpec flat() {
    return new IndexSpec(0, 0, 0, 0, false, false, false);
  }

  public boolean isFlat() {
    return pqM == 0;
  }

  public boolean hasIvf() {
    return nlist > 0;
  }

  /** Bytes of code per vector ({@code 4 * d} floats for Flat). */
  public int codeSize(int dimension) {
    return isFlat() ? 4 * dimension : (pqM * nbits + 7) / 8;
  }

  /**
   * Parses a factory string; the error names the bad component and the expected grammar.
   *
   * @throws IllegalArgumentException for anything that is not a valid spec
   */
  public static IndexSpec parse(String spec) {
    if (spec == null || spec.isBlank()) {
      throw new IllegalArgumentException("index spec is empty; e.g. Flat, IVF256,PQ32, IVF1024,PQ48x4fs,RFlat");
    }
    String[] parts = spec.replace(" ", "").split(",", -1);
    int opqM = 0, nlist = 0, pqM = 0, nbits = 0;
    boolean fastScan = false, fsResidual = false, refine = false, sawEncoding = false;
    for (int i = 0; i < parts.length; i++) {
      String p = parts[i];
      Matcher m;
      if (sawEncoding) {
        if (p.equals("RFlat") && i == parts.length - 1 && !refine) {
          refine = true;
          continue;
        }
        throw bad(spec, p, "only ',RFlat' may follow the encoding");
      }
      if ((m = OPQ.matcher(p)).matches() && i == 0) {
        opqM = positive(spec, p, m.group(1));
        if (m.group(2) != null) {
          throw bad(spec, p, "OPQ with a dimension reduction (_d) is not supported");
        }
      } else if ((m = IVF.matcher(p)).matches() && nlist == 0) {
        nlist = positive(spec, p, m.group(1));
      } else if (p.equals("Flat")) {
        sawEncoding = true;
      } else if ((m = PQ.matcher(p)).matches()) {
        pqM = positive(spec, p, m.group(1));
        nbits = m.group(2) == null ? 8 : positive(spec, p, m.group(2));
        fastScan = m.group(3) != null;
        fsResidual = m.group(4) != null;
        if (nbits != 4 && nbits != 8) {
          throw bad(spec, p, "nbits must be 4 or 8, got " + nbits);
        }
        if (fastScan && nbits != 4) {
          throw bad(spec, p, "fast-scan needs 4-bit codes: write PQ" + pqM + "x4fs");
        }
        sawEncoding = true;
      } else {
        throw bad(spec, p, "unknown component");
      }
    }
    if (!sawEncoding) {
      throw bad(spec, parts[parts.length - 1], "missing the encoding (Flat or PQ<m>[x4fs])");
    }
    if (opqM > 0 && pqM == 0) {
      throw bad(spec, "OPQ" + opqM, "OPQ needs a PQ encoding");
    }
    if (pqM == 0 && refine) {
      throw bad(spec, "RFlat", "re-ranking a Flat index changes nothing");
    }
    boolean residual = nlist > 0 && (fastScan ? fsResidual : true);
    if (fsResidual && nlist == 0) {
      throw bad(spec, "PQ" + pqM + "x4fsr", "residual fast-scan needs IVF");
    }
    return new IndexSpec(opqM, nlist, pqM, nbits, fastScan, residual, refine);
  }

  /** Checks the spec against a dimension: M must divide d, OPQ's M too. */
  public void validateFor(int dimension) {
    if (pqM > 0 && dimension % pqM != 0) {
      throw new IllegalArgumentException(
          "PQ" + pqM + ": m=" + pqM + " does not divide the dimension " + dimension);
    }
    if (opqM > 0 && dimension % opqM != 0) {
      throw new IllegalArgumentException(
          "OPQ" + opqM + ": m=" + opqM + " does not divide the dimension " + dimension);
    }
  }

  private static int positive(String spec, String part, String digits) {
    try {
      int v = Integer.parseInt(digits);
      if (v > 0) {
        return v;
      }
    } catch (NumberFormatException e) {
      // fall through
    }
    throw bad(spec, part, "'" + digits + "' is not a positive integer");
  }

  private static IllegalArgumentException bad(String spec, String part, String why) {
    return new IllegalArgumentException(
        String.format(Locale.ROOT,
            "bad index spec '%s' at '%s': %s (grammar: [OPQ<m>,][IVF<nlist>,](Flat|PQ<m>[x4fs[r]])[,RFlat])",
            spec, part, why));
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    if (opqM > 0) {
      sb.append("OPQ").append(opqM).append(',');
    }
    if (nlist > 0) {
      sb.append("IVF").append(nlist).append(',');
    }
    if (pqM == 0) {
      sb.append("Flat");
    } else {
      sb.append("PQ").append(pqM);
      if (nbits != 8 || fastScan) {
        sb.append('x').append(nbits);
      }
      if (fastScan) {
        sb.append(residual ? "fsr" : "fs");
      }
    }
    if (refineFlat) {
      sb.append(",RFlat");
    }
    return sb.toString();
  }
}
