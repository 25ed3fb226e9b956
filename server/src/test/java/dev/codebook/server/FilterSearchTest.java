package dev.codebook.server;

import static dev.codebook.server.ServerTestSupport.assertStatus;
import static dev.codebook.server.ServerTestSupport.create;
import static dev.codebook.server.ServerTestSupport.sample;
import static dev.codebook.server.ServerTestSupport.searchRequest;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.codebook.api.v1.AttributeValue;
import dev.codebook.api.v1.DeleteVectorsRequest;
import dev.codebook.api.v1.Filter;
import dev.codebook.api.v1.Filter.Comparison.Operator;
import dev.codebook.api.v1.Metric;
import dev.codebook.api.v1.Neighbor;
import dev.codebook.api.v1.SearchResponse;
import dev.codebook.api.v1.StringList;
import dev.codebook.api.v1.UpsertVectorsRequest;
import dev.codebook.api.v1.Vector;
import dev.codebook.index.vector.FloatMatrix;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Search filters through the real server: every operator on every attribute kind, structured
 * and as text, before and after the index is built, with deletes and replacements, and malformed
 * filters answered with INVALID_ARGUMENT naming the field while the server keeps serving.
 */
class FilterSearchTest {

  static final int N = 300;
  static final String[] LANGS = {"en", "de", "fr"};

  static CodebookServer server;
  static ManagedChannel channel;
  static ServerTestSupport.Stubs stubs;
  static final FloatMatrix base = sample().train().head(N);

  @BeforeAll
  static void start() throws Exception {
    server = CodebookServer.start(ServerTestSupport.testConfig());
    channel = ServerTestSupport.channel(server);
    stubs = ServerTestSupport.Stubs.of(channel);
  }

  @AfterAll
  static void stop() throws Exception {
    ServerTestSupport.close(channel);
    server.close();
  }

  // Row r's attributes: lang (absent every tenth row), year (int), score (float), draft (bool),
  // tags (string list, empty for some rows).
  static String lang(int r) {
    return r % 10 == 9 ? null : LANGS[r % 3];
  }

  static long year(int r) {
    return 2000 + r % 25;
  }

  static double score(int r) {
    return (r % 100) / 10.0;
  }

  static boolean draft(int r) {
    return r % 4 == 0;
  }

  static List<String> tags(int r) {
    List<String> t = new ArrayList<>();
    if (r % 2 == 0) {
      t.add("even");
    }
    if (r % 5 == 0) {
      t.add("five");
    }
    return t;
  }

  static Map<String, AttributeValue> attributes(int r) {
    Map<String, AttributeValue> m = new java.util.HashMap<>();
    if (lang(r) != null) {
      m.put("lang", str(lang(r)));
    }
    m.put("year", num(year(r)));
    m.put("score", num(score(r)));
    m.put("draft", AttributeValue.newBuilder().setBoolValue(draft(r)).build());
    m.put("tags", AttributeValue.newBuilder()
        .setStringListValue(StringList.newBuilder().addAllValues(tags(r))).build());
    return m;
  }

  static String populate(String id, String spec) {
    return populate(stubs, id, spec);
  }

  static String populate(ServerTestSupport.Stubs stubs, String id, String spec) {
    String name = create(stubs, id, 384, Metric.COSINE, spec).getName();
    UpsertVectorsRequest.Builder r = UpsertVectorsRequest.newBuilder().setCollection(name);
    for (int i = 0; i < N; i++) {
      Vector.Builder v = ServerTestSupport.vector(Integer.toString(i), base.row(i)).toBuilder();
      r.addVectors(v.putAllAttributes(attributes(i)));
    }
    stubs.vectors().upsertVectors(r.build());
    return name;
  }

  static AttributeValue str(String s) {
    return AttributeValue.newBuilder().setStringValue(s).build();
  }

  static AttributeValue num(long x) {
    return AttributeValue.newBuilder().setIntValue(x).build();
  }

  static AttributeValue num(double x) {
    return AttributeValue.newBuilder().setFloatValue(x).build();
  }

  static Filter cmp(String attribute, Operator op, AttributeValue v) {
    return Filter.newBuilder().setComparison(Filter.Comparison.newBuilder()
        .setAttribute(attribute).setOp(op).setValue(v)).build();
  }

  static Filter range(String attribute, AttributeValue lo, boolean loExcl, AttributeValue hi,
      boolean hiExcl) {
    Filter.Range.Builder r = Filter.Range.newBuilder().setAttribute(attribute)
        .setLowerExclusive(loExcl).setUpperExclusive(hiExcl);
    if (lo != null) {
      r.setLower(lo);
    }
    if (hi != null) {
      r.setUpper(hi);
    }
    return Filter.newBuilder().setRange(r).build();
  }

  static Filter in(String attribute, AttributeValue... values) {
    return Filter.newBuilder().setInList(Filter.In.newBuilder().setAttribute(attribute)
        .addAllValues(List.of(values))).build();
  }

  static Filter contains(String attribute, String value) {
    return Filter.newBuilder().setContains(Filter.Contains.newBuilder().setAttribute(attribute)
        .setValue(value)).build();
  }

  static Filter exists(String attribute) {
    return Filter.newBuilder().setExists(Filter.Exists.newBuilder().setAttribute(attribute)).build();
  }

  static Filter all(Filter... f) {
    return Filter.newBuilder().setAll(Filter.FilterList.newBuilder().addAllFilters(List.of(f))).build();
  }

  static Filter any(Filter... f) {
    return Filter.newBuilder().setAny(Filter.FilterList.newBuilder().addAllFilters(List.of(f))).build();
  }

  static Filter negate(Filter f) {
    return Filter.newBuilder().setNegate(f).build();
  }

  static Filter expr(String text) {
    return Filter.newBuilder().setExpression(text).build();
  }

  /** Every id the filter lets through (top_k = N, query row 0), sorted. */
  static int[] matching(String name, Filter f) {
    return matching(stubs, name, f);
  }

  static int[] matching(ServerTestSupport.Stubs stubs, String name, Filter f) {
    SearchResponse r = stubs.search().search(
        searchRequest(name, base, 0, 1, N).setNprobe(4).setFilter(f).build());
    return r.getResults(0).getNeighborsList().stream().mapToInt(n -> Integer.parseInt(n.getId()))
        .sorted().toArray();
  }

  static int[] expected(IntPredicate p) {
    return java.util.stream.IntStream.range(0, N).filter(p).toArray();
  }

  /** The cases: each filter in structured form, as text where it has one, and its predicate. */
  record Case(String what, Filter structured, String text, IntPredicate p) {}

  static List<Case> cases() {
    return List.of(
        new Case("eq string", cmp("lang", Operator.EQ, str("en")), "lang = en",
            r -> "en".equals(lang(r))),
        new Case("ne string", cmp("lang", Operator.NE, str("en")), "lang != 'en'",
            r -> lang(r) != null && !"en".equals(lang(r))),
        new Case("not eq", negate(cmp("lang", Operator.EQ, str("en"))), "NOT lang = \"en\"",
            r -> !"en".equals(lang(r))),
        new Case("eq int", cmp("year", Operator.EQ, num(2003L)), "year = 2003",
            r -> year(r) == 2003),
        new Case("eq int as float", cmp("year", Operator.EQ, num(2003.0)), "year == 2003.0",
            r -> year(r) == 2003),
        new Case("eq float", cmp("score", Operator.EQ, num(4.2)), "score = 4.2",
            r -> score(r) == 4.2),
        new Case("eq bool", cmp("draft", Operator.EQ,
            AttributeValue.newBuilder().setBoolValue(true).build()), "draft = true", r -> draft(r)),
        new Case("lt int", cmp("year", Operator.LT, num(2005L)), "year < 2005",
            r -> year(r) < 2005),
        new Case("le int", cmp("year", Operator.LE, num(2005L)), "year <= 2005",
            r -> year(r) <= 2005),
        new Case("gt float", cmp("score", Operator.GT, num(9.5)), "score > 9.5",
            r -> score(r) > 9.5),
        new Case("ge float with int", cmp("score", Operator.GE, num(9L)), "score >= 9",
            r -> score(r) >= 9),
        new Case("range inclusive", range("year", num(2010L), false, num(2012L), false), null,
            r -> year(r) >= 2010 && year(r) <= 2012),
        new Case("range exclusive", range("score", num(1.0), true, num(2.0), true), null,
            r -> score(r) > 1.0 && score(r) < 2.0),
        new Case("range open above", range("year", num(2020.5), false, null, false), null,
            r -> year(r) >= 2021),
        new Case("in strings", in("lang", str("de"), str("fr"), str("xx")), "lang IN (de, fr, xx)",
            r -> "de".equals(lang(r)) || "fr".equals(lang(r))),
        new Case("in numbers", in("year", num(2001L), num(2002.0)), "year in (2001, 2002.0)",
            r -> year(r) == 2001 || year(r) == 2002),
        new Case("contains", contains("tags", "five"), "tags CONTAINS five",
            r -> tags(r).contains("five")),
        new Case("exists", exists("lang"), "lang EXISTS", r -> lang(r) != null),
        new Case("exists missing attribute", exists("nope"), "nope exists", r -> false),
        new Case("all", all(contains("tags", "even"), cmp("lang", Operator.EQ, str("de")),
            negate(cmp("draft", Operator.EQ, AttributeValue.newBuilder().setBoolValue(true).build()))),
            "tags contains even AND lang = de AND NOT draft = true",
            r -> tags(r).contains("even") && "de".equals(lang(r)) && !draft(r)),
        new Case("any nested", any(cmp("year", Operator.EQ, num(2024L)),
            all(cmp("lang", Operator.EQ, str("fr")), cmp("score", Operator.LT, num(1L)))),
            "year = 2024 OR (lang = fr AND score < 1)",
            r -> year(r) == 2024 || ("fr".equals(lang(r)) && score(r) < 1)));
  }

  @Test
  void everyOperatorOnEveryKindMatchesExactlyTheRowsItDescribes() {
    String name = populate("filter-semantics", "Flat");
    checkAll(name);
  }

  @Test
  void filtersKeepTheirMeaningAfterBuildDeleteAndReplace() {
    String name = populate("filter-ivf", "IVF4,PQ48x4fs,RFlat");
    ServerTestSupport.buildAndWait(stubs, name, 0);
    checkAll(name);

    // Replace row 7's attributes and delete row 3: the filter sees the change at once.
    Vector replaced = ServerTestSupport.vector("7", base.row(7)).toBuilder()
        .putAttributes("lang", str("xx")).build();
    stubs.vectors().upsertVectors(UpsertVectorsRequest.newBuilder().setCollection(name)
        .addVectors(replaced).build());
    assertArrayEquals(new int[] {7}, matching(name, cmp("lang", Operator.EQ, str("xx"))));
    assertArrayEquals(expected(r -> year(r) == 2007 && "de".equals(lang(r)) && r != 7),
        matching(name, expr("year = 2007 AND lang = de")), "row 7 no longer has year or lang de");
    stubs.vectors().deleteVectors(DeleteVectorsRequest.newBuilder().setCollection(name)
        .addIds("3").build());
    assertArrayEquals(expected(r -> year(r) == 2003 && r != 3),
        matching(name, cmp("year", Operator.EQ, num(2003L))));
    // After a rebuild the ordinals are compacted and the attributes follow them.
    ServerTestSupport.buildAndWait(stubs, name, 0);
    assertArrayEquals(new int[] {7}, matching(name, expr("lang = xx")));
    assertArrayEquals(expected(r -> year(r) == 2003 && r != 3),
        matching(name, expr("year = 2003")));
  }

  private static void checkAll(String name) {
    checkAll(stubs, name, "");
  }

  /** Every case, structured and as text, matches exactly its rows; {@code when} names the state. */
  static void checkAll(ServerTestSupport.Stubs stubs, String name, String when) {
    for (Case c : cases()) {
      int[] want = expected(c.p());
      assertArrayEquals(want, matching(stubs, name, c.structured()), c.what() + when);
      if (c.text() != null) {
        assertArrayEquals(want, matching(stubs, name, expr(c.text())),
            c.what() + ": " + c.text() + when);
      }
    }
  }

  @Test
  void returnedAttributesAndValuesComeWithFilteredHits() {
    String name = populate("filter-fields", "Flat");
    SearchResponse r = stubs.search().search(searchRequest(name, base, 0, 1, 5)
        .setFilter(expr("lang = de AND draft = false")).setIncludeAttributes(true)
        .setIncludeVectors(true).build());
    List<Neighbor> hits = r.getResults(0).getNeighborsList();
    assertEquals(5, hits.size());
    for (Neighbor n : hits) {
      int row = Integer.parseInt(n.getId());
      assertEquals(attributes(row), n.getAttributesMap());
      assertEquals("de", n.getAttributesMap().get("lang").getStringValue());
      float[] values = new float[n.getValuesCount()];
      for (int i = 0; i < values.length; i++) {
        values[i] = n.getValues(i);
      }
      assertArrayEquals(base.row(row), values);
    }
    SearchResponse bare = stubs.search().search(searchRequest(name, base, 0, 1, 5)
        .setFilter(expr("lang = de AND draft = false")).build());
    assertTrue(bare.getResults(0).getNeighbors(0).getAttributesMap().isEmpty());
    assertEquals(0, bare.getResults(0).getNeighbors(0).getValuesCount());
  }

  @Test
  void malformedFiltersAreInvalidArgumentNamingTheFieldAndTheServerKeepsServing() {
    String name = populate("filter-bad", "Flat");
    Filter deep = cmp("lang", Operator.EQ, str("en"));
    StringBuilder deepPath = new StringBuilder("filter");
    for (int i = 0; i < 40; i++) {
      deep = negate(deep);
      if (i < 32) {
        deepPath.append(".negate");
      }
    }
    Map<String, Filter> bad = new java.util.LinkedHashMap<>();
    bad.put("filter", Filter.getDefaultInstance());
    bad.put("filter.comparison.op", Filter.newBuilder().setComparison(Filter.Comparison
        .newBuilder().setAttribute("lang").setValue(str("en"))).build());
    bad.put("filter.all.filters[1].comparison.op", all(exists("lang"), Filter.newBuilder()
        .setComparison(Filter.Comparison.newBuilder().setAttribute("lang").setOpValue(42)
            .setValue(str("en"))).build()));
    bad.put("filter.comparison.value", Filter.newBuilder().setComparison(Filter.Comparison
        .newBuilder().setAttribute("lang").setOp(Operator.EQ)).build());
    bad.put("filter.exists.attribute", exists(""));
    bad.put("filter.in_list.values", in("lang"));
    bad.put("filter.in_list.values", in("lang", str("en"), num(1L)));
    bad.put("filter.range.lower", range("score", num(Double.NaN), false, null, false));
    bad.put("filter.range.upper", range("score", null, false, str("high"), false));
    bad.put("filter.range", range("score", null, false, null, false));
    bad.put("filter.any.filters[0].range", any(range("year", num(5L), false, num(4L), false)));
    bad.put("filter.comparison.value", cmp("year", Operator.GT, str("2020")));
    bad.put(deepPath.toString(), deep);
    bad.put("filter.any.filters", any());
    bad.put("filter.expression", expr("lang = = en"));
    // Well formed, but the kind can never match the attribute's values: found at search time.
    bad.put("filter.all.filters[1].comparison", all(exists("lang"),
        cmp("year", Operator.EQ, str("2020"))));
    bad.put("filter.contains", contains("lang", "en"));
    bad.put("filter.negate.comparison", negate(cmp("tags", Operator.EQ, str("even"))));
    bad.put("filter.expression", expr("draft = 1"));
    for (Map.Entry<String, Filter> e : bad.entrySet()) {
      assertStatus(Status.Code.INVALID_ARGUMENT, e.getKey(), () -> stubs.search().search(
          searchRequest(name, base, 0, 1, 5).setFilter(e.getValue()).build()));
    }
    // Each case overwritten in the map above is checked here too.
    assertStatus(Status.Code.INVALID_ARGUMENT, "filter.in_list.values", () -> stubs.search()
        .search(searchRequest(name, base, 0, 1, 5).setFilter(in("lang")).build()));
    assertStatus(Status.Code.INVALID_ARGUMENT, "filter.comparison.value", () -> stubs.search()
        .search(searchRequest(name, base, 0, 1, 5).setFilter(Filter.newBuilder().setComparison(
            Filter.Comparison.newBuilder().setAttribute("lang").setOp(Operator.EQ))).build()));
    assertStatus(Status.Code.INVALID_ARGUMENT, "filter.expression", () -> stubs.search()
        .search(searchRequest(name, base, 0, 1, 5).setFilter(expr("lang = = en")).build()));
    Filter veryDeep = cmp("lang", Operator.EQ, str("en"));
    for (int i = 0; i < 150; i++) {
      veryDeep = negate(veryDeep);
    }
    // Past the API's depth limit but within the parser's: the filter checks name the level.
    Filter deepButParsed = veryDeep;
    assertStatus(Status.Code.INVALID_ARGUMENT, deepPath.toString(), () -> stubs.search().search(
        searchRequest(name, base, 0, 1, 5).setFilter(deepButParsed).build()));
    for (int i = 150; i < 600; i++) {
      veryDeep = negate(veryDeep);
    }
    // Past protobuf's recursion limit: grpc-java would answer UNKNOWN; we answer the filter.
    Filter tooDeepToParse = veryDeep;
    assertStatus(Status.Code.INVALID_ARGUMENT, "filter", () -> stubs.search().search(
        searchRequest(name, base, 0, 1, 5).setFilter(tooDeepToParse).build()));
    // Still serving, same answers.
    assertArrayEquals(expected(r -> "en".equals(lang(r))),
        matching(name, cmp("lang", Operator.EQ, str("en"))));
  }
}
