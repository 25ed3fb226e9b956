package dev.codebook.loadtest.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Latency against throughput for a load-test sweep, as one self-contained HTML page with an
 * inline SVG (same style as {@link RecallQpsChart}): achieved QPS on x, latency on a log scale on
 * y, one line per percentile (p50, p99, p99.9), one point per load level, joined in the order
 * the levels ran. Where the p99 line turns up while QPS stops growing, the server is saturated.
 * A sweep over several search settings ({@code params}) gets one colour per setting, the
 * percentiles told apart by their dashes.
 */
public final class LatencyThroughputChart {

  private record Point(double qps, double ms, String label) {}

  /** Percentiles drawn, their JSON keys, colours and (in a sweep of settings) dashes. */
  private static final String[][] LINES = {
    {"p50", "p50_ms", "#1f77b4", ""}, {"p99", "p99_ms", "#d62728", "6,3"},
    {"p99.9", "p999_ms", "#ff7f0e", "2,3"}
  };

  /** One colour per search setting, when a sweep has several. */
  private static final String[] SETTING_COLORS = {
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"
  };

  private final String title;
  private final Map<String, List<Point>> series = new LinkedHashMap<>();
  private final Map<String, String> colors = new LinkedHashMap<>();
  private final Map<String, String> dashes = new LinkedHashMap<>();

  public LatencyThroughputChart(String title) {
    this.title = title;
  }

  /**
   * Adds load-test summary lines (maps with {@code mode}, {@code qps}, {@code p50_ms}, {@code
   * p99_ms}, {@code p999_ms} and {@code concurrency} or {@code rate}, and {@code params}).
   */
  public void addLines(List<Map<String, Object>> lines) {
    List<String> settings = lines.stream().map(l -> String.valueOf(l.getOrDefault("params", "")))
        .distinct().toList();
    boolean bySetting = settings.size() > 1;
    for (Map<String, Object> l : lines) {
      String mode = String.valueOf(l.getOrDefault("mode", ""));
      String level = "open".equals(mode) ? "rate " + l.get("rate") : "c=" + l.get("concurrency");
      String setting = String.valueOf(l.getOrDefault("params", ""));
      for (String[] line : LINES) {
        double ms = num(l.get(line[1]));
        double qps = num(l.get("qps"));
        if (ms > 0 && qps > 0) {
          String name = (bySetting ? setting + " " : "") + mode + " loop " + line[0];
          series.computeIfAbsent(name, x -> new ArrayList<>()).add(new Point(qps, ms, level));
          colors.putIfAbsent(name, bySetting
              ? SETTING_COLORS[settings.indexOf(setting) % SETTING_COLORS.length] : line[2]);
          dashes.putIfAbsent(name, bySetting ? line[3] : "open".equals(mode) ? "6,3" : "");
        }
      }
    }
  }

  private static double num(Object o) {
    return o instanceof Number n ? n.doubleValue() : Double.NaN;
  }

  /** The SVG alone. */
  public String svg() {
    int w = 960, h = 600, left = 80, right = 220, top = 40, bottom = 60;
    int pw = w - left - right, ph = h - top - bottom;
    double maxQ = 1, minMs = Double.MAX_VALUE, maxMs = 0;
    for (List<Point> ps : series.values()) {
      for (Point p : ps) {
        maxQ = Math.max(maxQ, p.qps());
        minMs = Math.min(minMs, p.ms());
        maxMs = Math.max(maxMs, p.ms());
      }
    }
    if (maxMs == 0) {
      minMs = 0.1;
      maxMs = 1;
    }
    double lo = Math.pow(10, Math.floor(Math.log10(minMs)));
    double hi = Math.pow(10, Math.ceil(Math.log10(maxMs)));
    if (hi <= lo) {
      hi = lo * 10;
    }
    double xMax = niceCeil(maxQ * 1.05);
    final double fLo = lo, fHi = hi, fX = xMax;
    java.util.function.DoubleUnaryOperator x = q -> left + q / fX * pw;
    java.util.function.DoubleUnaryOperator y =
        ms -> top + ph - (Math.log10(ms) - Math.log10(fLo)) / (Math.log10(fHi) - Math.log10(fLo)) * ph;

    StringBuilder s = new StringBuilder();
    s.append(String.format(Locale.ROOT,
        "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' font-family='sans-serif' font-size='12'>\n", w, h));
    s.append("<rect width='100%' height='100%' fill='white'/>\n");
    s.append(String.format(Locale.ROOT, "<text x='%d' y='24' font-size='16'>%s</text>\n", left, esc(title)));
    for (double ms = lo; ms <= hi * 1.0001; ms *= 10) {
      for (int m = 1; m < 10 && ms * m <= hi * 1.0001; m++) {
        double yy = y.applyAsDouble(ms * m);
        s.append(String.format(Locale.ROOT, "<line x1='%d' x2='%d' y1='%.1f' y2='%.1f' stroke='%s'/>\n",
            left, left + pw, yy, yy, m == 1 ? "#ccc" : "#f0f0f0"));
        if (m == 1) {
          s.append(String.format(Locale.ROOT, "<text x='%d' y='%.1f' text-anchor='end'>%s</text>\n",
              left - 6, yy + 4, fmtMs(ms)));
        }
      }
    }
    for (int i = 0; i <= 10; i++) {
      double q = xMax * i / 10.0;
      double xx = x.applyAsDouble(q);
      s.append(String.format(Locale.ROOT,
          "<line x1='%.1f' x2='%.1f' y1='%d' y2='%d' stroke='#eee'/><text x='%.1f' y='%d' text-anchor='middle'>%s</text>\n",
          xx, xx, top, top + ph, xx, top + ph + 18, fmtQps(q)));
    }
    s.append(String.format(Locale.ROOT,
        "<rect x='%d' y='%d' width='%d' height='%d' fill='none' stroke='black'/>\n", left, top, pw, ph));
    s.append(String.format(Locale.ROOT,
        "<text x='%d' y='%d' text-anchor='middle'>achieved queries per second</text>\n", left + pw / 2, h - 16));
    s.append(String.format(Locale.ROOT,
        "<text transform='translate(20,%d) rotate(-90)' text-anchor='middle'>latency, ms (log)</text>\n",
        top + ph / 2));
    int i = 0;
    for (Map.Entry<String, List<Point>> e : series.entrySet()) {
      String color = colors.get(e.getKey());
      String dash = dashes.get(e.getKey()).isEmpty() ? ""
          : " stroke-dasharray='" + dashes.get(e.getKey()) + "'";
      // joined in sweep order, not QPS order: past saturation the curve bends back (more
      // callers, no more throughput, more latency), which is the point of the chart
      List<Point> ps = e.getValue();
      StringBuilder path = new StringBuilder();
      for (Point p : ps) {
        path.append(path.isEmpty() ? "M" : "L").append(String.format(Locale.ROOT, "%.1f,%.1f ",
            x.applyAsDouble(p.qps()), y.applyAsDouble(p.ms())));
      }
      s.append(String.format(Locale.ROOT,
          "<path d='%s' fill='none' stroke='%s' stroke-width='1.5'%s/>\n", path, color, dash));
      for (Point p : ps) {
        double cx = x.applyAsDouble(p.qps()), cy = y.applyAsDouble(p.ms());
        s.append(String.format(Locale.ROOT,
            "<circle cx='%.1f' cy='%.1f' r='3.5' fill='%s'><title>%s, %s: %.0f QPS, %.3f ms</title></circle>\n",
            cx, cy, color, esc(e.getKey()), esc(p.label()), p.qps(), p.ms()));
        if (e.getKey().endsWith("p99")) {
          s.append(String.format(Locale.ROOT, "<text x='%.1f' y='%.1f' font-size='10' fill='#555'>%s</text>\n",
              cx + 5, cy - 5, esc(p.label())));
        }
      }
      int ly = top + 12 + i * 16;
      s.append(String.format(Locale.ROOT,
          "<line x1='%d' x2='%d' y1='%d' y2='%d' stroke='%s' stroke-width='2'%s/><text x='%d' y='%d'>%s</text>\n",
          left + pw + 12, left + pw + 32, ly - 4, ly - 4, color, dash, left + pw + 38, ly, esc(e.getKey())));
      i++;
    }
    s.append("</svg>\n");
    return s.toString();
  }

  /** Writes the chart as an HTML page, with {@code notes} (plain text) under it. */
  public void writeHtml(Path file, String notes) throws IOException {
    String html = "<!doctype html>\n<html><head><meta charset='utf-8'><title>" + esc(title)
        + "</title></head>\n<body>\n" + svg()
        + "<p style='font-family:sans-serif;font-size:12px'>One point per load level (hover for"
        + " the numbers). Closed loop: N concurrent callers; open loop (dashed): a fixed rate,"
        + " latency measured from each call's scheduled start. "
        + esc(notes == null ? "" : notes) + "</p>\n</body></html>\n";
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Files.writeString(file, html, StandardCharsets.UTF_8);
  }

  private static double niceCeil(double v) {
    double p = Math.pow(10, Math.floor(Math.log10(v)));
    for (double m : new double[] {1, 2, 2.5, 5, 10}) {
      if (m * p >= v) {
        return m * p;
      }
    }
    return 10 * p;
  }

  private static String fmtMs(double ms) {
    return ms >= 1 ? String.format(Locale.ROOT, "%.0f", ms) : String.format(Locale.ROOT, "%s", ms);
  }

  private static String fmtQps(double q) {
    return q >= 1e3 ? String.format(Locale.ROOT, "%.1fk", q / 1e3).replace(".0k", "k")
        : String.format(Locale.ROOT, "%.0f", q);
  }

  private static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;");
  }
}
