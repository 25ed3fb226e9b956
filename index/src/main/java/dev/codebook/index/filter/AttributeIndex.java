package dev.codebook.index.filter;

import dev.codebook.index.filter.AttributeValue.BoolValue;
import dev.codebook.index.filter.AttributeValue.FloatValue;
import dev.codebook.index.filter.AttributeValue.IntValue;
import dev.codebook.index.filter.AttributeValue.StringListValue;
import dev.codebook.index.filter.AttributeValue.StringValue;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import java.util.TreeMap;
import org.roaringbitmap.BatchIterator;
import org.roaringbitmap.BitSetUtil;
import org.roaringbitmap.FastAggregation;
import org.roaringbitmap.RoaringBitmap;
import org.roaringbitmap.RoaringBitmapWriter;

/**
 * The attributes of a collection's vectors by ordinal, indexed so that a {@link Filter} turns
 * into the {@link RoaringBitmap} of ordinals it accepts without looking at every vector.
 *
 * <p><b>Layout, per attribute name.</b> Strings and string-list elements: inverted postings
 * (value -> bitmap of ordinals), answering {@code Eq}, {@code In} and {@code Contains} with one
 * lookup or one union; booleans: one bitmap per value; integers and doubles: a column indexed
 * by ordinal plus a bitmap of the ordinals that have one, so a range or numeric equality is one
 * branch-free pass over those ordinals (1-3 ns each); integers with at most {@value
 * #MAX_INT_POSTINGS} distinct values also keep sorted postings, so equality, IN and narrow
 * ranges are unions of a few bitmaps. Each kind also keeps a
 * column of the value per ordinal so that {@link #remove} and a replacing {@link #add} update
 * the postings exactly. An attribute may hold different kinds on different vectors.
 *
 * <p><b>Life cycle.</b> Built incrementally ({@link #add}, {@link #remove}) or rebuilt from
 * (ordinal, attributes) pairs by adding them to a new instance. Not thread-safe: the owner locks
 * writers out while {@link #evaluate} runs (concurrent evaluations are fine).
 */
public final class AttributeIndex {

  private static final int STRING = 0, INT = 1, FLOAT = 2, BOOL = 3, LIST = 4;
  /**
   * Distinct integers of one attribute kept as postings (years, counts, categories coded as
   * numbers); past this, postings cost more memory than they save and ranges scan the column.
   */
  static final int MAX_INT_POSTINGS = 65_536;

  /** Most postings a range unions; wider ranges scan the column instead. */
  private static final int MAX_UNION = 512;

  private static final String[] KIND_NAMES = {"string", "int", "float", "bool", "string list"};

  private final HashMap<String, Field> fields = new HashMap<>();
  private final RoaringBitmap universe = new RoaringBitmap();

  /** Ordinals added and not removed: what {@code Not} complements against. */
  public RoaringBitmap ordinals() {
    return universe.clone();
  }

  /** Number of ordinals held. */
  public int size() {
    return universe.getCardinality();
  }

  /**
   * Records ordinal {@code ord}'s attributes, replacing any it had. A float attribute that is
   * NaN is not indexed (no filter can match it).
   */
  public void add(int ord, Map<String, AttributeValue> attributes) {
    if (ord < 0) {
      throw new IllegalArgumentException("ordinal must be non-negative, got " + ord);
    }
    remove(ord);
    universe.add(ord);
    for (Map.Entry<String, AttributeValue> e : attributes.entrySet()) {
      fields.computeIfAbsent(e.getKey(), k -> new Field()).add(ord, e.getValue());
    }
  }

  /** Forgets ordinal {@code ord}; no-op if it is not held. */
  public void remove(int ord) {
    if (!universe.checkedRemove(ord)) {
      return;
    }
    for (Field f : fields.values()) {
      if (f.present.contains(ord)) {
        f.remove(ord);
      }
    }
  }

  /**
   * The ordinals {@code filter} accepts, as a new bitmap the caller owns.
   *
   * @throws FilterException when a comparison's kind does not fit the attribute's values (a
   *     string compared with an attribute holding only numbers, CONTAINS on a non-list)
   */
  public RoaringBitmap evaluate(Filter filter) {
    return switch (filter) {
      case Filter.Eq eq -> equal(eq, eq.attribute(), eq.value());
      case Filter.Ne ne -> notEqual(ne);
      case Filter.In in -> in(in);
      case Filter.Range r -> range(r);
      case Filter.Contains c -> contains(c);
      case Filter.Exists x -> {
        Field f = fields.get(x.attribute());
        yield f == null ? new RoaringBitmap() : f.present.clone();
      }
      case Filter.And and -> and(and);
      case Filter.Or or -> {
        RoaringBitmap[] parts = new RoaringBitmap[or.filters().size()];
        for (int i = 0; i < parts.length; i++) {
          parts[i] = evaluate(or.filters().get(i));
        }
        yield FastAggregation.or(parts);
      }
      case Filter.Not not -> RoaringBitmap.andNot(universe, evaluate(not.filter()));
    };
  }

  private RoaringBitmap and(Filter.And and) {
    // Positive terms intersected smallest first; NOT terms subtracted, never complemented.
    List<RoaringBitmap> plus = new ArrayList<>();
    List<RoaringBitmap> minus = new ArrayList<>();
    for (Filter f : and.filters()) {
      if (f instanceof Filter.Not n) {
        minus.add(evaluate(n.filter()));
      } else {
        plus.add(evaluate(f));
      }
    }
    RoaringBitmap out;
    if (plus.isEmpty()) {
      out = universe.clone();
    } else {
      plus.sort(Comparator.comparingLong(RoaringBitmap::getLongCardinality));
      out = plus.get(0);
      for (int i = 1; i < plus.size() && !out.isEmpty(); i++) {
        out.and(plus.get(i));
      }
    }
    for (int i = 0; i < minus.size() && !out.isEmpty(); i++) {
      out.andNot(minus.get(i));
    }
    return out;
  }

  private RoaringBitmap equal(Filter node, String attribute, AttributeValue value) {
    Field f = fields.get(attribute);
    if (f == null) {
      return new RoaringBitmap();
    }
    return switch (value) {
      case StringValue s -> {
        f.check(node, attribute, STRING, -1, "a string");
        RoaringBitmap b = f.strings.get(s.value());
        yield b == null ? new RoaringBitmap() : b.clone();
      }
      case BoolValue b -> {
        f.check(node, attribute, BOOL, -1, "a bool");
        yield (b.value() ? f.trues : f.falses).clone();
      }
      case IntValue i -> {
        f.check(node, attribute, INT, FLOAT, "a number");
        RoaringBitmap out = ints(f, i.value(), i.value());
        out.or(scanFloats(f.kinds[FLOAT], f.floatCol, i.value(), true, i.value(), true));
        yield out;
      }
      case FloatValue d -> {
        f.check(node, attribute, INT, FLOAT, "a number");
        double x = d.value();
        RoaringBitmap out = x == Math.rint(x) && Math.abs(x) < 0x1p63
            ? ints(f, (long) x, (long) x) : new RoaringBitmap();
        out.or(scanFloats(f.kinds[FLOAT], f.floatCol, x, true, x, true));
        yield out;
      }
      case StringListValue l -> throw new FilterException(node, "cannot compare with a list");
    };
  }

  private RoaringBitmap notEqual(Filter.Ne ne) {
    Field f = fields.get(ne.attribute());
    if (f == null) {
      return new RoaringBitmap();
    }
    RoaringBitmap eq = equal(ne, ne.attribute(), ne.value());
    RoaringBitmap comparable = switch (ne.value()) {
      case StringValue s -> f.kinds[STRING].clone();
      case BoolValue b -> f.kinds[BOOL].clone();
      default -> RoaringBitmap.or(f.kinds[INT], f.kinds[FLOAT]);
    };
    comparable.andNot(eq);
    return comparable;
  }

  private RoaringBitmap in(Filter.In in) {
    Field f = fields.get(in.attribute());
    if (f == null) {
      return new RoaringBitmap();
    }
    List<AttributeValue> values = in.values();
    AttributeValue first = values.get(0);
    if (first instanceof StringValue || first instanceof BoolValue) {
      List<RoaringBitmap> parts = new ArrayList<>(values.size());
      for (AttributeValue v : values) {
        parts.add(equal(in, in.attribute(), v));
      }
      return FastAggregation.or(parts.iterator());
    }
    f.check(in, in.attribute(), INT, FLOAT, "a number");
    // Numbers: one pass over each column, binary search in the sorted value set.
    long[] ints = new long[values.size()];
    double[] all = new double[values.size()];
    int ni = 0;
    for (int i = 0; i < values.size(); i++) {
      AttributeValue v = values.get(i);
      if (v instanceof IntValue iv) {
        ints[ni++] = iv.value();
        all[i] = iv.value();
      } else {
        double x = ((FloatValue) v).value();
        all[i] = x;
        if (x == Math.rint(x) && Math.abs(x) < 0x1p63) {
          ints[ni++] = (long) x;
        }
      }
    }
    ints = Arrays.copyOf(ints, ni);
    Arrays.sort(ints);
    Arrays.sort(all);
    RoaringBitmap out;
    int[] buf = new int[256];
    if (f.intPostings != null) {
      List<RoaringBitmap> parts = new ArrayList<>(ni);
      for (long x : ints) {
        RoaringBitmap b = f.intPostings.get(x);
        if (b != null) {
          parts.add(b);
        }
      }
      out = parts.isEmpty() ? new RoaringBitmap() : FastAggregation.or(parts.iterator());
    } else {
      RoaringBitmapWriter<RoaringBitmap> w = RoaringBitmapWriter.writer().get();
      BatchIterator it = f.kinds[INT].getBatchIterator();
      while (it.hasNext()) {
        int n = it.nextBatch(buf);
        for (int j = 0; j < n; j++) {
          if (Arrays.binarySearch(ints, f.intCol[buf[j]]) >= 0) {
            w.add(buf[j]);
          }
        }
      }
      out = w.get();
    }
    BatchIterator it = f.kinds[FLOAT].getBatchIterator();
    while (it.hasNext()) {
      int n = it.nextBatch(buf);
      for (int j = 0; j < n; j++) {
        if (Arrays.binarySearch(all, f.floatCol[buf[j]]) >= 0) {
          out.add(buf[j]);
        }
      }
    }
    return out;
  }

  private RoaringBitmap range(Filter.Range r) {
    Field f = fields.get(r.attribute());
    if (f == null) {
      return new RoaringBitmap();
    }
    f.check(r, r.attribute(), INT, FLOAT, "a number range");
    // Integers: the bounds as an inclusive long interval.
    long lo = Long.MIN_VALUE, hi = Long.MAX_VALUE;
    boolean empty = false;
    if (r.lower() != null) {
      if (r.lower() instanceof IntValue i) {
        if (!r.lowerInclusive() && i.value() == Long.MAX_VALUE) {
          empty = true;
        }
        lo = r.lowerInclusive() ? i.value() : i.value() + 1;
      } else {
        double x = ((FloatValue) r.lower()).value();
        double c = r.lowerInclusive() ? Math.ceil(x) : Math.floor(x) + 1;
        if (c >= 0x1p63) {
          empty = true;
        }
        lo = c <= -0x1p63 ? Long.MIN_VALUE : (long) c;
      }
    }
    if (r.upper() != null) {
      if (r.upper() instanceof IntValue i) {
        if (!r.upperInclusive() && i.value() == Long.MIN_VALUE) {
          empty = true;
        }
        hi = r.upperInclusive() ? i.value() : i.value() - 1;
      } else {
        double x = ((FloatValue) r.upper()).value();
        double c = r.upperInclusive() ? Math.floor(x) : Math.ceil(x) - 1;
        if (c < -0x1p63) {
          empty = true;
        }
        hi = c >= 0x1p63 ? Long.MAX_VALUE : (long) c;
      }
    }
    RoaringBitmap out = empty || lo > hi ? new RoaringBitmap() : ints(f, lo, hi);
    double dlo = r.lower() == null ? Double.NEGATIVE_INFINITY : toDouble(r.lower());
    double dhi = r.upper() == null ? Double.POSITIVE_INFINITY : toDouble(r.upper());
    out.or(scanFloats(f.kinds[FLOAT], f.floatCol, dlo, r.lower() == null || r.lowerInclusive(),
        dhi, r.upper() == null || r.upperInclusive()));
    return out;
  }

  private RoaringBitmap contains(Filter.Contains c) {
    Field f = fields.get(c.attribute());
    if (f == null) {
      return new RoaringBitmap();
    }
    f.check(c, c.attribute(), LIST, -1, "CONTAINS (which tests string lists)");
    RoaringBitmap b = f.elements.get(c.value());
    return b == null ? new RoaringBitmap() : b.clone();
  }

  /**
   * Ordinals of {@code ords} whose integer lies in {@code [lo, hi]}: the postings' union when
   * few distinct values fall in the range, else one pass over the column.
   */
  private static RoaringBitmap ints(Field f, long lo, long hi) {
    if (f.intPostings != null) {
      var sub = f.intPostings.subMap(lo, true, hi, true);
      if (sub.size() <= MAX_UNION) {
        return sub.isEmpty() ? new RoaringBitmap() : FastAggregation.or(sub.values().iterator());
      }
    }
    return scanInts(f.kinds[INT], f.intCol, lo, hi);
  }

  // The scans set bits branch-free in a word array, then convert it in one go: about twice as
  // fast as adding matches to a bitmap writer.
  private static RoaringBitmap scanInts(RoaringBitmap ords, long[] col, long lo, long hi) {
    if (ords.isEmpty()) {
      return new RoaringBitmap();
    }
    long[] words = new long[(ords.last() >>> 6) + 1];
    if (isPrefix(ords)) {
      for (int o = 0, end = ords.last(); o <= end; o++) {
        long x = col[o];
        words[o >>> 6] |= ((x >= lo) & (x <= hi) ? 1L : 0L) << o;
      }
      return BitSetUtil.bitmapOf(words);
    }
    int[] buf = new int[256];
    BatchIterator it = ords.getBatchIterator();
    while (it.hasNext()) {
      int n = it.nextBatch(buf);
      for (int j = 0; j < n; j++) {
        int o = buf[j];
        long x = col[o];
        long hit = (x >= lo) & (x <= hi) ? 1L : 0L;
        words[o >>> 6] |= hit << o;
      }
    }
    return BitSetUtil.bitmapOf(words);
  }

  private static RoaringBitmap scanFloats(RoaringBitmap ords, double[] col, double lo,
      boolean loInclusive, double hi, boolean hiInclusive) {
    if (ords.isEmpty()) {
      return new RoaringBitmap();
    }
    // Exclusive bounds as the next inclusive double, so the loop has two plain comparisons.
    double min = loInclusive ? lo : Math.nextUp(lo);
    double max = hiInclusive ? hi : Math.nextDown(hi);
    long[] words = new long[(ords.last() >>> 6) + 1];
    if (isPrefix(ords)) {
      for (int o = 0, end = ords.last(); o <= end; o++) {
        double x = col[o];
        words[o >>> 6] |= ((x >= min) & (x <= max) ? 1L : 0L) << o;
      }
      return BitSetUtil.bitmapOf(words);
    }
    int[] buf = new int[256];
    BatchIterator it = ords.getBatchIterator();
    while (it.hasNext()) {
      int n = it.nextBatch(buf);
      for (int j = 0; j < n; j++) {
        int o = buf[j];
        double x = col[o];
        boolean in = (x >= min) & (x <= max);
        words[o >>> 6] |= (in ? 1L : 0L) << o;
      }
    }
    return BitSetUtil.bitmapOf(words);
  }

  /** Whether {@code ords} is exactly {@code 0..last}: every row has the attribute. */
  private static boolean isPrefix(RoaringBitmap ords) {
    return ords.first() == 0 && ords.getLongCardinality() == ords.last() + 1L;
  }

  private static double toDouble(AttributeValue v) {
    return v instanceof IntValue i ? i.value() : ((FloatValue) v).value();
  }

  /** Numeric comparison of two numbers (int or float); exact for two ints. */
  static int compare(AttributeValue a, AttributeValue b) {
    if (a instanceof IntValue x && b instanceof IntValue y) {
      return Long.compare(x.value(), y.value());
    }
    return Double.compare(toDouble(a), toDouble(b));
  }

  /** A value as filter text would write it. */
  static String text(AttributeValue v) {
    return switch (v) {
      case StringValue s -> '"' + s.value() + '"';
      case IntValue i -> Long.toString(i.value());
      case FloatValue f -> Double.toString(f.value());
      case BoolValue b -> Boolean.toString(b.value());
      case StringListValue l -> l.values().toString();
    };
  }

  /** Everything held for one attribute name. */
  private static final class Field {
    final RoaringBitmap present = new RoaringBitmap();
    final RoaringBitmap[] kinds = {
        new RoaringBitmap(), new RoaringBitmap(), new RoaringBitmap(), new RoaringBitmap(),
        new RoaringBitmap()};
    final HashMap<String, RoaringBitmap> strings = new HashMap<>();
    final HashMap<String, RoaringBitmap> elements = new HashMap<>();
    final RoaringBitmap trues = new RoaringBitmap();
    final RoaringBitmap falses = new RoaringBitmap();
    String[] stringCol = new String[0];
    String[][] listCol = new String[0][];
    long[] intCol = new long[0];
    /** Integer postings while there are at most {@link #MAX_INT_POSTINGS} distinct values. */
    TreeMap<Long, RoaringBitmap> intPostings = new TreeMap<>();
    double[] floatCol = new double[0];

    void add(int ord, AttributeValue v) {
      switch (v) {
        case StringValue s -> {
          stringCol = grow(stringCol, ord);
          stringCol[ord] = s.value();
          strings.computeIfAbsent(s.value(), k -> new RoaringBitmap()).add(ord);
          kinds[STRING].add(ord);
        }
        case IntValue i -> {
          intCol = grow(intCol, ord);
          intCol[ord] = i.value();
          kinds[INT].add(ord);
          if (intPostings != null) {
            intPostings.computeIfAbsent(i.value(), k -> new RoaringBitmap()).add(ord);
            if (intPostings.size() > MAX_INT_POSTINGS) {
              intPostings = null; // too many distinct values: the column scan serves them
            }
          }
        }
        case FloatValue d -> {
          if (Double.isNaN(d.value())) {
            return;
          }
          floatCol = grow(floatCol, ord);
          floatCol[ord] = d.value();
          kinds[FLOAT].add(ord);
        }
        case BoolValue b -> {
          (b.value() ? trues : falses).add(ord);
          kinds[BOOL].add(ord);
        }
        case StringListValue l -> {
          listCol = grow(listCol, ord);
          String[] elems = l.values().toArray(new String[0]);
          listCol[ord] = elems;
          for (String e : elems) {
            elements.computeIfAbsent(e, k -> new RoaringBitmap()).add(ord);
          }
          kinds[LIST].add(ord);
        }
      }
      present.add(ord);
    }

    void remove(int ord) {
      present.remove(ord);
      if (kinds[STRING].checkedRemove(ord)) {
        unpost(strings, stringCol[ord], ord);
        stringCol[ord] = null;
      }
      if (kinds[LIST].checkedRemove(ord)) {
        for (String e : listCol[ord]) {
          unpost(elements, e, ord);
        }
        listCol[ord] = null;
      }
      if (kinds[INT].checkedRemove(ord) && intPostings != null) {
        RoaringBitmap b = intPostings.get(intCol[ord]);
        if (b != null) {
          b.remove(ord);
          if (b.isEmpty()) {
            intPostings.remove(intCol[ord]);
          }
        }
      }
      kinds[FLOAT].remove(ord);
      if (kinds[BOOL].checkedRemove(ord)) {
        trues.remove(ord);
        falses.remove(ord);
      }
    }

    /**
     * Throws if the attribute has values but none of kind {@code a} or {@code b} (-1: none), so
     * a comparison that can never match because of a type mix-up is reported, not silently empty.
     */
    void check(Filter node, String attribute, int a, int b, String what) {
      if (present.isEmpty() || !kinds[a].isEmpty() || (b >= 0 && !kinds[b].isEmpty())) {
        return;
      }
      StringJoiner held = new StringJoiner(", ");
      for (int k = 0; k < kinds.length; k++) {
        if (!kinds[k].isEmpty()) {
          held.add(KIND_NAMES[k]);
        }
      }
      String hint = !kinds[LIST].isEmpty() && a == STRING ? "; test list membership with CONTAINS" : "";
      throw new FilterException(node, "attribute '" + attribute + "' holds " + held
          + " values, which cannot match " + what + hint);
    }

    private static void unpost(HashMap<String, RoaringBitmap> postings, String value, int ord) {
      RoaringBitmap b = postings.get(value);
      if (b != null) {
        b.remove(ord);
        if (b.isEmpty()) {
          postings.remove(value);
        }
      }
    }

    private static long[] grow(long[] a, int ord) {
      return ord < a.length ? a : Arrays.copyOf(a, newLength(a.length, ord));
    }

    private static double[] grow(double[] a, int ord) {
      return ord < a.length ? a : Arrays.copyOf(a, newLength(a.length, ord));
    }

    private static <T> T[] grow(T[] a, int ord) {
      return ord < a.length ? a : Arrays.copyOf(a, newLength(a.length, ord));
    }

    private static int newLength(int length, int ord) {
      return (int) Math.min(Integer.MAX_VALUE - 8L, Math.max(ord + 1L, length * 3L / 2 + 16));
    }
  }
}
