package dev.codebook.loadtest.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LatencyThroughputChartTest {

  static Map<String, Object> level(String mode, String key, Object value, double qps, double p50,
      double p99) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("mode", mode);
    m.put(key, value);
    m.put("qps", qps);
    m.put("p50_ms", p50);
    m.put("p99_ms", p99);
    m.put("p999_ms", p99 * 2);
    return m;
  }

  @Test
  void drawsOnePointPerLevelAndPercentileWithTheLevelsLabelled(@TempDir Path dir) throws Exception {
    LatencyThroughputChart chart = new LatencyThroughputChart("sweep <test>");
    chart.addLines(List.of(
        level("closed", "concurrency", 1, 900, 1.1, 2.0),
        level("closed", "concurrency", 2, 1700, 1.2, 2.5),
        level("closed", "concurrency", 4, 1800, 2.2, 9.0),
        level("open", "rate", 500, 500, 1.0, 1.9)));
    Path html = dir.resolve("out/chart.html");
    chart.writeHtml(html, "notes & more");
    String page = Files.readString(html);
    assertTrue(page.contains("sweep &lt;test&gt;"), "title escaped");
    assertTrue(page.contains("notes &amp; more"));
    // 4 levels x 3 percentiles
    assertEquals(12, page.split("<circle ", -1).length - 1);
    assertTrue(page.contains("closed loop p99, c=4: 1800 QPS, 9.000 ms"), page);
    assertTrue(page.contains("open loop p50, rate 500: 500 QPS, 1.000 ms"), page);
    assertTrue(page.contains(">c=2</text>"), "p99 points carry their level");
    assertTrue(page.contains("stroke-dasharray"), "open loop drawn dashed");
  }

  @Test
  void aSweepOfSearchSettingsDrawsEachSettingAsLinesOfItsOwn() {
    List<Map<String, Object>> lines = new java.util.ArrayList<>();
    for (String params : List.of("nprobe=1,rerank=1", "nprobe=16,rerank=1")) {
      for (int c : new int[] {1, 2}) {
        Map<String, Object> l = level("closed", "concurrency", c, 1000 * c, 1.0 * c, 2.0 * c);
        l.put("params", params);
        lines.add(l);
      }
    }
    LatencyThroughputChart chart = new LatencyThroughputChart("nprobe sweep");
    chart.addLines(lines);
    String svg = chart.svg();
    // two settings x 3 percentiles, each line through its own 2 levels
    assertEquals(6, svg.split("<path ", -1).length - 1);
    assertEquals(12, svg.split("<circle ", -1).length - 1);
    assertTrue(svg.contains("nprobe=1,rerank=1 closed loop p99, c=2: 2000 QPS, 4.000 ms"), svg);
    assertTrue(svg.contains("nprobe=16,rerank=1 closed loop p99, c=2: 2000 QPS, 4.000 ms"), svg);
  }

  @Test
  void levelsWithoutAnswersAreLeftOut() {
    LatencyThroughputChart chart = new LatencyThroughputChart("empty");
    Map<String, Object> none = level("closed", "concurrency", 1, 0, Double.NaN, Double.NaN);
    chart.addLines(List.of(none));
    assertEquals(0, chart.svg().split("<circle ", -1).length - 1);
  }
}
