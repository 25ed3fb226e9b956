package dev.codebook.server;

import static dev.codebook.server.ServerTestSupport.assertStatus;
import static dev.codebook.server.ServerTestSupport.buildAndWait;
import static dev.codebook.server.ServerTestSupport.create;
import static dev.codebook.server.ServerTestSupport.ids;
import static dev.codebook.server.ServerTestSupport.recall;
import static dev.codebook.server.ServerTestSupport.sample;
import static dev.codebook.server.ServerTestSupport.searchRequest;
import static dev.codebook.server.ServerTestSupport.upsertRows;
import static dev.codebook.server.ServerTestSupport.vector;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.codebook.api.v1.AttributeValue;
import dev.codebook.api.v1.BuildIndexResponse;
import dev.codebook.api.v1.Operation;
import dev.codebook.api.v1.Collection;
import dev.codebook.api.v1.DeleteVectorsRequest;
import dev.codebook.api.v1.DeleteVectorsResponse;
import dev.codebook.api.v1.GetCollectionRequest;
import dev.codebook.api.v1.GetVectorsRequest;
import dev.codebook.api.v1.Metric;
import dev.codebook.api.v1.Neighbor;
import dev.codebook.api.v1.SearchResponse;
import dev.codebook.api.v1.UpsertVectorsRequest;
import dev.codebook.api.v1.UpsertVectorsResponse;
import dev.codebook.api.v1.Vector;
import dev.codebook.index.search.BatchSearch;
import dev.codebook.index.SearchParams;
import dev.codebook.index.flat.FlatIndex;
import dev.codebook.index.search.SearchResults;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.Similarity;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The life of a collection through the real server: upsert 2,000 sample vectors, search them
 * exactly while untrained, build IVF-PQ, search through it, delete and replace vectors.
 */
class SearchEndToEndTest {

  static final int N = 2000;
  static final int K = 10;

  static CodebookServer server;
  static ManagedChannel channel;
  static ServerTestSupport.Stubs stubs;
  static FloatMatrix base;
  static FloatMatrix queries;

  @BeforeAll
  static void start() throws Exception {
    server = CodebookServer.start(ServerTestSupport.testConfig());
    channel = ServerTestSupport.channel(server);
    stubs = ServerTestSupport.Stubs.of(channel);
    base = sample().train().head(N);
    queries = sample().test().head(Math.min(100, sample().test().rows()));
  }

  @AfterAll
  static void stop() throws Exception {
    ServerTestSupport.close(channel);
    server.close();
  }

  /** Exact top-k ids per query over {@code base} without the {@code deleted} rows. */
  static int[][] exact(FloatMatrix q, int k, Set<Integer> deleted) {
    FlatIndex flat = FlatIndex.of(base, Similarity.COSINE);
    SearchResults r = BatchSearch.search(flat, q, k + deleted.size(), SearchParams.DEFAULTS, 1);
    int[][] out = new int[q.rows()][];
    for (int i = 0; i < q.rows(); i++) {
      out[i] = java.util.Arrays.stream(r.idsOf(i)).filter(id -> !deleted.contains(id)).limit(k)
          .toArray();
    }
    return out;
  }

  static int[][] searchIds(String name, FloatMatrix q, Integer nprobe, Integer rerank) {
    var req = searchRequest(name, q, 0, q.rows(), K);
    if (nprobe != null) {
      req.setNprobe(nprobe);
    }
    if (rerank != null) {
      req.setRerank(rerank);
    }
    SearchResponse r = stubs.search().search(req.build());
    assertEquals(q.rows(), r.getResultsCount());
    int[][] out = new int[q.rows()][];
    for (int i = 0; i < q.rows(); i++) {
      out[i] = ids(r, i);
    }
    return out;
  }

  static long vectorCount(String name) {
    return stubs.collections().getCollection(GetCollectionRequest.newBuilder().setName(name)
        .build()).getVectorCount();
  }

  @Test
  void untrainedIsExactThenIvfPqKeepsRecallDeletesAndReplacements() {
    Collection c = create(stubs, "e2e", 384, Metric.COSINE, "IVF16,PQ48x4fs,RFlat");
    String name = c.getName();
    assertEquals("collections/e2e", name);
    assertEquals(Collection.State.UNTRAINED, c.getState());
    upsertRows(stubs, name, base, 0, N);
    assertEquals(N, vectorCount(name));

    // Untrained: exact search over the buffer, the same answers and scores as Flat.
    int[][] truth = exact(queries, K, Set.of());
    SearchResponse exactResponse =
        stubs.search().search(searchRequest(name, queries, 0, queries.rows(), K).build());
    int[][] got = new int[queries.rows()][];
    SearchResults reference = BatchSearch.search(FlatIndex.of(base, Similarity.COSINE), queries,
        K, SearchParams.DEFAULTS, 1);
    for (int q = 0; q < queries.rows(); q++) {
      got[q] = ids(exactResponse, q);
      for (int r = 0; r < K; r++) {
        assertEquals(reference.score(q, r), exactResponse.getResults(q).getNeighbors(r).getScore(),
            1e-5f);
      }
    }
    assertEquals(1.0, recall(truth, got, K));

    // Build IVF-PQ and search through it.
    Operation op = buildAndWait(stubs, name, 0);
    assertEquals(Operation.State.SUCCEEDED, op.getState(), op::toString);
    assertEquals(1.0, op.getProgress());
    BuildIndexResponse built = op.getBuildResult();
    assertEquals(Collection.State.READY, built.getCollection().getState());
    assertEquals(N, built.getTrainingVectorCount());
    assertEquals(N, built.getCollection().getVectorCount());
    assertTrue(built.getCollection().hasBuildTime());
    double r10 = recall(truth, searchIds(name, queries, 16, 10), K);
    assertTrue(r10 >= 0.9, "recall@10 through IVF16,PQ48x4fs,RFlat: " + r10);
    assertStatus(Status.Code.INVALID_ARGUMENT, "nprobe", () -> searchIds(name, queries, 17, 10));

    // Delete the two best answers of the first 20 queries: they never come back.
    Set<Integer> deleted = new TreeSet<>();
    for (int q = 0; q < 20; q++) {
      deleted.add(truth[q][0]);
      deleted.add(truth[q][1]);
    }
    DeleteVectorsRequest.Builder del = DeleteVectorsRequest.newBuilder().setCollection(name);
    deleted.forEach(id -> del.addIds(Integer.toString(id)));
    DeleteVectorsResponse dr = stubs.vectors().deleteVectors(del.build());
    assertEquals(deleted.size(), dr.getDeletedCount());
    assertEquals(N - deleted.size(), dr.getVectorCount());
    int[][] afterDelete = searchIds(name, queries, 16, 10);
    for (int[] row : afterDelete) {
      assertEquals(K, row.length);
      for (int id : row) {
        assertFalse(deleted.contains(id), "deleted id " + id + " came back");
      }
    }
    double r10d = recall(exact(queries, K, deleted), afterDelete, K);
    assertTrue(r10d >= 0.9, "recall@10 after deletes: " + r10d);
    int oneDeleted = deleted.iterator().next();
    assertStatus(Status.Code.NOT_FOUND, null, () -> stubs.vectors().getVectors(
        GetVectorsRequest.newBuilder().setCollection(name).addIds(Integer.toString(oneDeleted))
            .build()));

    // Upserting an existing id replaces its vector: id 5 now holds query 0.
    float[] q0 = queries.row(0);
    UpsertVectorsResponse ur = stubs.vectors().upsertVectors(UpsertVectorsRequest.newBuilder()
        .setCollection(name).addVectors(vector("5", q0)).build());
    assertEquals(1, ur.getReplacedCount());
    assertEquals(N - deleted.size(), ur.getVectorCount());
    Vector stored = stubs.vectors().getVectors(GetVectorsRequest.newBuilder()
        .setCollection(name).addIds("5").build()).getVectors(0);
    assertArrayEquals(q0, toArray(stored));
    Neighbor top = stubs.search().search(searchRequest(name, queries, 0, 1, K).setNprobe(16)
        .setRerank(10).build()).getResults(0).getNeighbors(0);
    assertEquals("5", top.getId());
    assertEquals(1.0f, top.getScore(), 1e-4f);
    // Searching for the old vector of id 5 no longer finds it as itself.
    FloatMatrix old5 = new FloatMatrix(1, 384, base.row(5));
    for (Neighbor n : stubs.search().search(searchRequest(name, old5, 0, 1, K).setNprobe(16)
        .setRerank(10).build()).getResults(0).getNeighborsList()) {
      if (n.getId().equals("5")) {
        assertTrue(n.getScore() < 0.999f, "old vector of id 5 still there: " + n.getScore());
      }
    }

    // New ids after the build are encoded with the trained quantizers and found.
    stubs.vectors().upsertVectors(UpsertVectorsRequest.newBuilder().setCollection(name)
        .addVectors(vector("copy-of-10", base.row(10))).build());
    SearchResponse dup = stubs.search().search(searchRequest(name, base, 10, 11, 2).setNprobe(16)
        .setRerank(10).build());
    Set<String> top2 = new TreeSet<>();
    dup.getResults(0).getNeighborsList().forEach(n -> top2.add(n.getId()));
    assertEquals(Set.of("10", "copy-of-10"), top2);
    assertEquals(N - deleted.size() + 1, vectorCount(name));
  }

  @Test
  void untrainedDeletesReplacementsAttributesAndReturnedFields() {
    String name = create(stubs, "untrained", 384, Metric.COSINE, "IVF16,PQ48x4fs,RFlat")
        .getName();
    upsertRows(stubs, name, base, 0, N);
    int[][] truth = exact(queries, K, Set.of());
    Set<Integer> deleted = new TreeSet<>();
    for (int q = 0; q < 20; q++) {
      deleted.add(truth[q][0]);
    }
    DeleteVectorsRequest.Builder del = DeleteVectorsRequest.newBuilder().setCollection(name);
    deleted.forEach(id -> del.addIds(Integer.toString(id)));
    stubs.vectors().deleteVectors(del.build());
    // Still exact, over what is left.
    assertEquals(1.0, recall(exact(queries, K, deleted), searchIds(name, queries, null, null), K));

    // Deleting again: NOT_FOUND, unless allow_missing.
    assertStatus(Status.Code.NOT_FOUND, null, () -> stubs.vectors().deleteVectors(del.build()));
    assertEquals(0, stubs.vectors().deleteVectors(del.setAllowMissing(true).build())
        .getDeletedCount());

    // A deleted id upserted again is live again, with its attributes.
    int back = deleted.iterator().next();
    Vector v = vector(Integer.toString(back), base.row(back)).toBuilder()
        .putAttributes("package", AttributeValue.newBuilder().setStringValue("9mount").build())
        .putAttributes("popcon", AttributeValue.newBuilder().setIntValue(42).build())
        .build();
    assertEquals(0, stubs.vectors().upsertVectors(UpsertVectorsRequest.newBuilder()
        .setCollection(name).addVectors(v).build()).getReplacedCount());
    FloatMatrix q = new FloatMatrix(1, 384, base.row(back));
    SearchResponse r = stubs.search().search(searchRequest(name, q, 0, 1, 3)
        .setIncludeVectors(true).setIncludeAttributes(true).build());
    Neighbor top = r.getResults(0).getNeighbors(0);
    assertEquals(Integer.toString(back), top.getId());
    assertEquals(v.getAttributesMap(), top.getAttributesMap());
    assertArrayEquals(base.row(back), toArray(top.getValuesList()));
    Neighbor second = r.getResults(0).getNeighbors(1);
    assertEquals(384, second.getValuesCount());
    assertTrue(second.getAttributesMap().isEmpty());
    // Without the flags, neither is sent.
    Neighbor bare = stubs.search().search(searchRequest(name, q, 0, 1, 1).build())
        .getResults(0).getNeighbors(0);
    assertEquals(0, bare.getValuesCount());
    assertEquals(0, bare.getAttributesCount());

    // A later entry for the same id in one request wins.
    UpsertVectorsResponse twice = stubs.vectors().upsertVectors(UpsertVectorsRequest.newBuilder()
        .setCollection(name).addVectors(vector("twice", base.row(1)))
        .addVectors(vector("twice", base.row(2))).build());
    assertEquals(1, twice.getReplacedCount());
    assertArrayEquals(base.row(2), toArray(stubs.vectors().getVectors(GetVectorsRequest
        .newBuilder().setCollection(name).addIds("twice").build()).getVectors(0)));
    assertEquals(N - deleted.size() + 2, vectorCount(name));
  }

  @Test
  void fewerVectorsThanTopK() {
    String name = create(stubs, "tiny", 384, Metric.EUCLIDEAN, "Flat").getName();
    upsertRows(stubs, name, base, 0, 3);
    SearchResponse r = stubs.search().search(searchRequest(name, queries, 0, 2, 10).build());
    assertEquals(3, r.getResults(0).getNeighborsCount());
    assertEquals(3, r.getResults(1).getNeighborsCount());
    // An empty collection answers with empty results.
    String empty = create(stubs, "empty", 384, Metric.DOT_PRODUCT, "Flat").getName();
    assertEquals(0, stubs.search().search(searchRequest(empty, queries, 0, 1, 10).build())
        .getResults(0).getNeighborsCount());
  }

  static float[] toArray(Vector v) {
    return toArray(v.getValuesList());
  }

  static float[] toArray(java.util.List<Float> values) {
    float[] out = new float[values.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = values.get(i);
    }
    return out;
  }
}
