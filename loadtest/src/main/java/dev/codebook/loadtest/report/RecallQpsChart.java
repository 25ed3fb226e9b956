package dev.codebook.loadtest.report;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A recall@10 / QPS chart (QPS on a log scale) as one self-contained HTML page with an inline
 * SVG, so a benchmark run can be looked at in any browser with nothing to install. Single-thread
 * points only: ratios between systems are quoted at one thread. Each series is one system and
 * index spec; its points are joined in recall order.
 */
public final class RecallQpsChart {

  private record Point(double recall, double qps, String label) {}

  private static final String[] COLORS = {
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf"
  };

  private final String title;
  private final Map<String, List<Point>> series = new LinkedHashMap<>();

  public RecallQpsChart(String title) {
    this.title = title;
  }

  /** Adds result lines (maps with system, index, params, recall@10, qps, threads). */
  public void addLines(List<Map<String, Object>> lines) {
    for (Map<String, Object> l : lines) {
      add(String.valueOf(l.get("system")), String.valueOf(l.get("index")),
          String.valueOf(l.get("params")), num(l.get("recall@10")), num(l.get("qps")),
          num(l.get("threads")));
    }
  }

  /** Adds every result line of a JSON-lines file (lines without recall@10 are skipped). */
  public void addJsonl(Path file) throws IOException {
    for (String raw : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      if (raw.isBlank()) {
        continue;
      }
      JsonObject o = JsonParser.parseString(raw).getAsJsonObject();
      if (!o.has("recall@10") || !o.has("qps") || o.get("qps").isJsonNull()) {
        continue;
      }
      add(str(o, "system"), str(o, "index"), str(o, "params"), o.get("recall@10").getAsDouble(),
          o.get("qps").getAsDouble(), o.has("threads") ? o.get("threads").getAsDouble() : 1);
    }
  }

  private void add(String system, String index, String params, double recall, double qps,
      double threads) {
    if (threads != 1 || !(qps > 0)) {
      return;
    }
    series.computeIfAbsent(system + " " + index, x -> new ArrayList<>())
        .add(new Point(recall, qps, params));
  }

  private static String str(JsonObject o, String key) {
    return o.has(key) && !o.get(key).isJsonNull()
        ? (o.get(key).isJsonPrimitive() ? o.get(key).getAsString() : o.get(key).toString())
        : "";
  }

  private static double num(Object o) {
    return o instanceof Number n ? n.doubleValue() : Double.NaN;
  }

  /** The SVG alone. */
  public String svg() {
    int w = 960, h = 600, left = 80, right = 320, top = 40, bottom = 60;
    int pw = w - left - right, ph = h - top - bottom;
    double minR = 1, maxQ = 1, minQ = Double.MAX_VALUE;
    for (List<Point> ps : series.values()) {
      for (Point p : ps) {
        minR = Math.min(minR, p.recall());
        maxQ = Math.max(maxQ, p.qps());
        minQ = Math.min(minQ, p.qps());
      }
    }
    minR = Math.max(0, Math.floor(minR * 10) / 10);
    if (minR >= 1) {
      minR = 0.9;
    }
    double lo = Math.pow(10, Math.floor(Math.log10(Math.max(1, minQ == Double.MAX_VALUE ? 1 : minQ))));
    double hi = Math.pow(10, Math.ceil(Math.log10(maxQ)));
    if (hi <= lo) {
      hi = lo * 10;
    }
    final double fMinR = minR, fLo = lo, fHi = hi;
    java.util.function.DoubleUnaryOperator x = r -> left + (r - fMinR) / (1 - fMinR) * pw;
    java.util.function.DoubleUnaryOperator y =
        q -> top + ph - (Math.log10(q) - Math.log10(fLo)) / (Math.log10(fHi) - Math.log10(fLo)) * ph;

    StringBuilder s = new StringBuilder();
    s.append(String.format(Locale.ROOT,
        "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' font-family='sans-serif' font-size='12'>\n", w, h));
    s.append("<rect width='100%' height='100%' fill='white'/>\n");
    s.append(String.format(Locale.ROOT, "<text x='%d' y='24' font-size='16'>%s</text>\n", left, esc(title)));
    // grid and axes
    for (double q = lo; q <= hi * 1.0001; q *= 10) {
      double yy = y.applyAsDouble(q);
      s.append(String.format(Locale.ROOT,
          "<line x1='%d' x2='%d' y1='%.1f' y2='%.1f' stroke='#ddd'/><text x='%d' y='%.1f' text-anchor='end'>%s</text>\n",
          left, left + pw, yy, yy, left - 6, yy + 4, fmtQps(q)));
    }
    for (int i = 0; i <= 10; i++) {
      double r = minR + (1 - minR) * i / 10.0;
      double xx = x.applyAsDouble(r);
      s.append(String.format(Locale.ROOT,
          "<line x1='%.1f' x2='%.1f' y1='%d' y2='%d' stroke='#eee'/><text x='%.1f' y='%d' text-anchor='middle'>%.2f</text>\n",
          xx, xx, top, top + ph, xx, top + ph + 18, r));
    }
    s.append(String.format(Locale.ROOT,
        "<rect x='%d' y='%d' width='%d' height='%d' fill='none' stroke='black'/>\n", left, top, pw, ph));
    s.append(String.format(Locale.ROOT,
        "<text x='%d' y='%d' text-anchor='middle'>recall@10</text>\n", left + pw / 2, h - 16));
    s.append(String.format(Locale.ROOT,
        "<text transform='translate(20,%d) rotate(-90)' text-anchor='middle'>queries per second, 1 thread (log)</text>\n",
        top + ph / 2));
    int i = 0;
    for (Map.Entry<String, List<Point>> e : series.entrySet()) {
      String color = COLORS[i % COLORS.length];
      String dash = (i / COLORS.length) % 2 == 1 ? " stroke-dasharray='5,3'" : "";
      List<Point> ps = new ArrayList<>(e.getValue());
      ps.sort(Comparator.comparingDouble(Point::recall));
      StringBuilder path = new StringBuilder();
      for (Point p : pareto(ps)) {
        path.append(path.isEmpty() ? "M" : "L").append(String.format(Locale.ROOT, "%.1f,%.1f ",
            x.applyAsDouble(Math.max(minR, p.recall())), y.applyAsDouble(p.qps())));
      }
      s.append(String.format(Locale.ROOT,
          "<path d='%s' fill='none' stroke='%s' stroke-width='1.5'%s/>\n", path, color, dash));
      for (Point p : ps) {
        s.append(String.format(Locale.ROOT,
            "<circle cx='%.1f' cy='%.1f' r='3' fill='%s' fill-opacity='0.8'><title>%s %s: recall@10 %.4f, %.0f QPS</title></circle>\n",
            x.applyAsDouble(Math.max(minR, p.recall())), y.applyAsDouble(p.qps()), color,
            esc(e.getKey()), esc(p.label()), p.recall(), p.qps()));
      }
      int ly = top + 12 + i * 16;
      if (ly < h - 10) {
        s.append(String.format(Locale.ROOT,
            "<line x1='%d' x2='%d' y1='%d' y2='%d' stroke='%s' stroke-width='2'%s/><text x='%d' y='%d'>%s</text>\n",
            left + pw + 12, left + pw + 32, ly - 4, ly - 4, color, dash, left + pw + 38, ly,
            esc(e.getKey())));
      }
      i++;
    }
    s.append("</svg>\n");
    return s.toString();
  }

  /**
   * The points no other point beats on both recall and QPS, in recall order: the line a user can
   * pick a setting from. Dominated points are still drawn, as dots off the line.
   */
  static List<Point> pareto(List<Point> byRecall) {
    List<Point> front = new ArrayList<>();
    double bestQps = Double.NEGATIVE_INFINITY;
    for (int i = byRecall.size() - 1; i >= 0; i--) {
      Point p = byRecall.get(i);
      if (p.qps() > bestQps) {
        front.add(0, p);
        bestQps = p.qps();
      }
    }
    return front;
  }

  /** Writes the chart as an HTML page. */
  public void writeHtml(Path file) throws IOException {
    String html = "<!doctype html>\n<html><head><meta charset='utf-8'><title>" + esc(title)
        + "</title></head>\n<body>\n" + svg()
        + "<p style='font-family:sans-serif;font-size:12px'>Hover a point for its parameters."
        + " One thread; lines join each series' Pareto-optimal settings; higher and further right"
        + " is better.</p>\n</body></html>\n";
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Files.writeString(file, html, StandardCharsets.UTF_8);
  }

  private static String fmtQps(double q) {
    return q >= 1e6 ? String.format(Locale.ROOT, "%.0fM", q / 1e6)
        : q >= 1e3 ? String.format(Locale.ROOT, "%.0fk", q / 1e3)
        : String.format(Locale.ROOT, "%.0f", q);
  }

  private static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;");
  }
}
