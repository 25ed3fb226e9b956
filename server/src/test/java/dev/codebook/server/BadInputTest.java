package dev.codebook.server;

import static dev.codebook.server.ServerTestSupport.assertStatus;
import static dev.codebook.server.ServerTestSupport.create;
import static dev.codebook.server.ServerTestSupport.query;
import static dev.codebook.server.ServerTestSupport.sample;
import static dev.codebook.server.ServerTestSupport.searchRequest;
import static dev.codebook.server.ServerTestSupport.unpack;
import static dev.codebook.server.ServerTestSupport.upsertRows;
import static dev.codebook.server.ServerTestSupport.vector;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.ErrorInfo;
import com.google.rpc.ResourceInfo;
import com.google.rpc.RetryInfo;
import dev.codebook.api.v1.BuildIndexRequest;
import dev.codebook.api.v1.Collection;
import dev.codebook.api.v1.CreateCollectionRequest;
import dev.codebook.api.v1.DeleteCollectionRequest;
import dev.codebook.api.v1.DeleteVectorsRequest;
import dev.codebook.api.v1.GetCollectionRequest;
import dev.codebook.api.v1.GetVectorsRequest;
import dev.codebook.api.v1.ListCollectionsRequest;
import dev.codebook.api.v1.Metric;
import dev.codebook.api.v1.Query;
import dev.codebook.api.v1.SearchRequest;
import dev.codebook.api.v1.SearchResponse;
import dev.codebook.api.v1.UpsertVectorsRequest;
import dev.codebook.api.v1.Vector;
import dev.codebook.index.vector.FloatMatrix;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.StatusProto;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Bad input through the API gets the right status, a message naming the problem, the field in a
 * BadRequest where there is one, and changes nothing: after every test the collection still
 * holds exactly what it held and answers the same search the same way.
 */
class BadInputTest {

  static final int N = 500;
  static final String NAME = "collections/bad";

  static CodebookServer server;
  static ManagedChannel channel;
  static ServerTestSupport.Stubs stubs;
  static FloatMatrix base;
  static SearchRequest probe;
  static SearchResponse expected;

  @BeforeAll
  static void start() throws Exception {
    server = CodebookServer.start(ServerTestSupport.testConfig());
    channel = ServerTestSupport.channel(server);
    stubs = ServerTestSupport.Stubs.of(channel);
    base = sample().train().head(N);
    create(stubs, "bad", 384, Metric.COSINE, "IVF16,PQ48x4fs,RFlat");
    upsertRows(stubs, NAME, base, 0, N);
    probe = searchRequest(NAME, sample().test(), 0, 5, 10).build();
    expected = stubs.search().search(probe);
  }

  @AfterAll
  static void stop() throws Exception {
    ServerTestSupport.close(channel);
    server.close();
  }

  /** The server still serves, and nothing was lost or added. */
  @AfterEach
  void nothingLost() {
    assertEquals(N, stubs.collections().getCollection(
        GetCollectionRequest.newBuilder().setName(NAME).build()).getVectorCount());
    assertSameResults(expected, stubs.search().search(probe));
    assertEquals(HealthCheckResponse.ServingStatus.SERVING, HealthGrpc.newBlockingStub(channel)
        .check(HealthCheckRequest.getDefaultInstance()).getStatus());
  }

  /**
   * Same ids in the same order, scores equal within float rounding: the check should not depend
   * on the kernels summing in one fixed order (cosine normalization once moved the last bits
   * between JIT tiers).
   */
  static void assertSameResults(SearchResponse want, SearchResponse got) {
    assertEquals(want.getResultsCount(), got.getResultsCount());
    for (int q = 0; q < want.getResultsCount(); q++) {
      assertEquals(ServerTestSupport.ids(want, q).length, ServerTestSupport.ids(got, q).length);
      assertArrayEquals(ServerTestSupport.ids(want, q), ServerTestSupport.ids(got, q));
      for (int r = 0; r < want.getResults(q).getNeighborsCount(); r++) {
        assertEquals(want.getResults(q).getNeighbors(r).getScore(),
            got.getResults(q).getNeighbors(r).getScore(), 1e-5f);
      }
    }
  }

  static float[] row(int i) {
    return base.row(i);
  }

  static SearchRequest.Builder search(Query... queries) {
    return SearchRequest.newBuilder().setCollection(NAME).setTopK(10)
        .addAllQueries(Arrays.asList(queries));
  }

  static Executable upsert(Vector... vectors) {
    return () -> stubs.vectors().upsertVectors(UpsertVectorsRequest.newBuilder()
        .setCollection(NAME).addAllVectors(Arrays.asList(vectors)).build());
  }

  static String reason(StatusRuntimeException e) {
    return unpack(StatusProto.fromThrowable(e), ErrorInfo.class).getReason();
  }

  @Test
  void wrongDimension() {
    float[] short383 = Arrays.copyOf(row(0), 383);
    StatusRuntimeException e = assertStatus(Status.Code.INVALID_ARGUMENT, "queries[3].vector",
        () -> stubs.search().search(search(query(row(0)), query(row(1)), query(row(2)),
            query(short383)).build()));
    assertTrue(e.getStatus().getDescription().contains("vector dimensions differ: 383!=384"),
        e.getStatus().getDescription());
    assertEquals("DIMENSION_MISMATCH", reason(e));
    assertStatus(Status.Code.INVALID_ARGUMENT, "vectors[1].values",
        upsert(vector("new-0", row(0)), vector("new-1", Arrays.copyOf(row(1), 768))));
  }

  @Test
  void nanAndInfinity() {
    float[] nan = row(0);
    nan[17] = Float.NaN;
    StatusRuntimeException e = assertStatus(Status.Code.INVALID_ARGUMENT, "queries[0].vector",
        () -> stubs.search().search(search(query(nan)).build()));
    assertTrue(e.getStatus().getDescription().contains("NaN at dimension 17"));
    assertEquals("NON_FINITE_VALUE", reason(e));
    // One bad vector in a batch of ten: none of the ten is written.
    Vector[] batch = new Vector[10];
    for (int i = 0; i < batch.length; i++) {
      float[] v = row(i);
      if (i == 6) {
        v[0] = Float.POSITIVE_INFINITY;
      }
      batch[i] = vector("batch-" + i, v);
    }
    assertStatus(Status.Code.INVALID_ARGUMENT, "vectors[6].values", upsert(batch));
    assertStatus(Status.Code.NOT_FOUND, null, () -> stubs.vectors().getVectors(
        GetVectorsRequest.newBuilder().setCollection(NAME).addIds("batch-0").build()));
  }

  @Test
  void valuesWhoseSquaresOverflowAreRejectedUnderDotProductAndL2() {
    for (Metric metric : new Metric[] {Metric.DOT_PRODUCT, Metric.EUCLIDEAN}) {
      String id = "huge-" + metric.name().toLowerCase().replace('_', '-');
      String name = create(stubs, id, 4, metric, "Flat").getName();
      Executable hugeUpsert = () -> stubs.vectors().upsertVectors(UpsertVectorsRequest
          .newBuilder().setCollection(name).addVectors(vector("ok", new float[] {1, 2, 3, 4}))
          .addVectors(vector("huge", new float[] {3e38f, 0, 0, 0})).build());
      StatusRuntimeException e = assertStatus(Status.Code.INVALID_ARGUMENT, "vectors[1].values",
          hugeUpsert);
      assertTrue(e.getStatus().getDescription().contains("too large"), e.getStatus()
          .getDescription());
      assertEquals("OUT_OF_RANGE", reason(e));
      StatusRuntimeException q = assertStatus(Status.Code.INVALID_ARGUMENT, "queries[0].vector",
          () -> stubs.search().search(SearchRequest.newBuilder().setCollection(name).setTopK(1)
              .addQueries(query(new float[] {0, 0, -3e38f, 0})).build()));
      assertEquals("OUT_OF_RANGE", reason(q));
      // Large but scorable: accepted, with a finite score.
      stubs.vectors().upsertVectors(UpsertVectorsRequest.newBuilder().setCollection(name)
          .addVectors(vector("big", new float[] {1e18f, 0, 0, 0})).build());
      float score = stubs.search().search(SearchRequest.newBuilder().setCollection(name)
          .setTopK(1).addQueries(query(new float[] {1e18f, 0, 0, 0})).build()).getResults(0)
          .getNeighbors(0).getScore();
      assertTrue(Float.isFinite(score), metric + ": score " + score);
      assertEquals(1, stubs.collections().getCollection(GetCollectionRequest.newBuilder()
          .setName(name).build()).getVectorCount(), "the rejected batch wrote nothing");
      stubs.collections().deleteCollection(dev.codebook.api.v1.DeleteCollectionRequest
          .newBuilder().setName(name).build());
    }
  }

  @Test
  void emptyAndZeroVectors() {
    StatusRuntimeException e = assertStatus(Status.Code.INVALID_ARGUMENT, "queries[1].vector",
        () -> stubs.search().search(search(query(row(0)), Query.getDefaultInstance()).build()));
    assertEquals("EMPTY_VECTOR", reason(e));
    assertStatus(Status.Code.INVALID_ARGUMENT, "vectors[0].values",
        upsert(Vector.newBuilder().setId("empty").build()));
    e = assertStatus(Status.Code.INVALID_ARGUMENT, "queries[0].vector",
        () -> stubs.search().search(search(query(new float[384])).build()));
    assertEquals("ZERO_VECTOR", reason(e));
    assertStatus(Status.Code.INVALID_ARGUMENT, "queries",
        () -> stubs.search().search(search().build()));
    assertStatus(Status.Code.INVALID_ARGUMENT, "vectors", upsert());
    assertStatus(Status.Code.INVALID_ARGUMENT, "vectors[0].id", upsert(vector("", row(0))));
  }

  @Test
  void searchParameters() {
    for (int k : new int[] {0, -1, 10_001, 1_000_000}) {
      StatusRuntimeException e = assertStatus(Status.Code.INVALID_ARGUMENT, "top_k",
          () -> stubs.search().search(search(query(row(0))).setTopK(k).build()));
      assertTrue(e.getStatus().getDescription().contains("top_k must be 1 to 10000"));
    }
    Query[] many = new Query[200];
    Arrays.fill(many, query(row(0)));
    assertStatus(Status.Code.INVALID_ARGUMENT, "top_k",
        () -> stubs.search().search(search(many).setTopK(10_000).build()));
    assertStatus(Status.Code.INVALID_ARGUMENT, "nprobe",
        () -> stubs.search().search(search(query(row(0))).setNprobe(0).build()));
    assertStatus(Status.Code.INVALID_ARGUMENT, "nprobe",
        () -> stubs.search().search(search(query(row(0))).setNprobe(-3).build()));
    assertStatus(Status.Code.INVALID_ARGUMENT, "rerank",
        () -> stubs.search().search(search(query(row(0))).setRerank(0).build()));
    assertStatus(Status.Code.INVALID_ARGUMENT, "rerank",
        () -> stubs.search().search(search(query(row(0))).setTopK(1000).setRerank(1000).build()));
  }

  @Test
  void unknownCollection() {
    String nope = "collections/nope";
    StatusRuntimeException e = assertStatus(Status.Code.NOT_FOUND, null,
        () -> stubs.search().search(search(query(row(0))).setCollection(nope).build()));
    assertTrue(e.getStatus().getDescription().contains(nope));
    assertEquals(nope,
        unpack(StatusProto.fromThrowable(e), ResourceInfo.class).getResourceName());
    assertStatus(Status.Code.NOT_FOUND, null, () -> stubs.vectors().upsertVectors(
        UpsertVectorsRequest.newBuilder().setCollection(nope).addVectors(vector("x", row(0)))
            .build()));
    assertStatus(Status.Code.NOT_FOUND, null, () -> stubs.vectors().getVectors(
        GetVectorsRequest.newBuilder().setCollection(nope).addIds("x").build()));
    assertStatus(Status.Code.NOT_FOUND, null, () -> stubs.vectors().deleteVectors(
        DeleteVectorsRequest.newBuilder().setCollection(nope).addIds("x").build()));
    assertStatus(Status.Code.NOT_FOUND, null, () -> stubs.collections().getCollection(
        GetCollectionRequest.newBuilder().setName(nope).build()));
    assertStatus(Status.Code.NOT_FOUND, null, () -> stubs.collections().deleteCollection(
        DeleteCollectionRequest.newBuilder().setName(nope).build()));
    assertStatus(Status.Code.NOT_FOUND, null, () -> stubs.collections().buildIndex(
        BuildIndexRequest.newBuilder().setName(nope).build()));
    // Not a collection name at all.
    assertStatus(Status.Code.INVALID_ARGUMENT, "collection",
        () -> stubs.search().search(search(query(row(0))).setCollection("bad").build()));
    assertStatus(Status.Code.INVALID_ARGUMENT, "name", () -> stubs.collections().getCollection(
        GetCollectionRequest.newBuilder().setName("collections/Not_An_Id").build()));
    // Missing ids in a get or delete name the first one.
    e = assertStatus(Status.Code.NOT_FOUND, null, () -> stubs.vectors().getVectors(
        GetVectorsRequest.newBuilder().setCollection(NAME).addIds("0").addIds("no-such-id")
            .build()));
    assertTrue(e.getStatus().getDescription().contains("'no-such-id'"));
  }

  @Test
  void duplicateCreate() {
    StatusRuntimeException e = assertStatus(Status.Code.ALREADY_EXISTS, null,
        () -> create(stubs, "bad", 384, Metric.COSINE, "Flat"));
    assertTrue(e.getStatus().getDescription().contains(NAME));
  }

  @Test
  void badCreateRequests() {
    StatusRuntimeException e = assertStatus(Status.Code.INVALID_ARGUMENT, "collection.index_spec",
        () -> create(stubs, "spec-1", 384, Metric.COSINE, "IVF256,PQ32x5"));
    assertTrue(e.getStatus().getDescription().contains("nbits must be 4 or 8"),
        e.getStatus().getDescription());
    assertEquals("INVALID_INDEX_SPEC", reason(e));
    e = assertStatus(Status.Code.INVALID_ARGUMENT, "collection.index_spec",
        () -> create(stubs, "spec-2", 384, Metric.COSINE, "IVF16,PQ7"));
    assertTrue(e.getStatus().getDescription().contains("does not divide the dimension 384"));
    e = assertStatus(Status.Code.INVALID_ARGUMENT, "collection.index_spec",
        () -> create(stubs, "spec-3", 384, Metric.COSINE, "IVF16,Flat"));
    assertTrue(e.getStatus().getDescription().contains("not available"));
    assertStatus(Status.Code.INVALID_ARGUMENT, "collection.index_spec",
        () -> create(stubs, "spec-4", 384, Metric.COSINE, ""));
    assertStatus(Status.Code.INVALID_ARGUMENT, "collection.dimension",
        () -> create(stubs, "dim-0", 0, Metric.COSINE, "Flat"));
    assertStatus(Status.Code.INVALID_ARGUMENT, "collection.metric",
        () -> create(stubs, "no-metric", 8, Metric.METRIC_UNSPECIFIED, "Flat"));
    assertStatus(Status.Code.INVALID_ARGUMENT, "collection_id",
        () -> create(stubs, "Bad_Name", 8, Metric.COSINE, "Flat"));
    assertStatus(Status.Code.INVALID_ARGUMENT, "collection",
        () -> stubs.collections().createCollection(
            CreateCollectionRequest.newBuilder().setCollectionId("no-body").build()));
    // None of them was created.
    assertEquals(1, stubs.collections().listCollections(ListCollectionsRequest.getDefaultInstance())
        .getCollectionsCount());
    assertStatus(Status.Code.INVALID_ARGUMENT, "page_token", () -> stubs.collections()
        .listCollections(ListCollectionsRequest.newBuilder().setPageToken("garbage!").build()));
    assertStatus(Status.Code.INVALID_ARGUMENT, "page_size", () -> stubs.collections()
        .listCollections(ListCollectionsRequest.newBuilder().setPageSize(-1).build()));
  }

  @Test
  void buildWithTooFewVectors() {
    String name = create(stubs, "too-few", 384, Metric.COSINE, "IVF16,PQ48x4fs").getName();
    try {
      upsertRows(stubs, name, base, 0, 10);
      StatusRuntimeException e = assertStatus(Status.Code.FAILED_PRECONDITION, null,
          () -> stubs.collections().buildIndex(BuildIndexRequest.newBuilder().setName(name)
              .build()));
      assertTrue(e.getStatus().getDescription().contains("needs at least 16"),
          e.getStatus().getDescription());
      assertEquals("TOO_FEW_VECTORS", reason(e));
      // Still untrained and searchable.
      Collection c = stubs.collections().getCollection(
          GetCollectionRequest.newBuilder().setName(name).build());
      assertEquals(Collection.State.UNTRAINED, c.getState());
      assertEquals(10, stubs.search().search(searchRequest(name, base, 0, 1, 10).build())
          .getResults(0).getNeighborsCount());
    } finally {
      stubs.collections().deleteCollection(DeleteCollectionRequest.newBuilder().setName(name)
          .build());
    }
  }

  @Test
  void oversizedMessage() {
    // 50,000 sample vectors (about 77 MB): valid content, but over the 64 MiB limit.
    UpsertVectorsRequest.Builder big = UpsertVectorsRequest.newBuilder().setCollection(NAME);
    for (int i = 0; i < 50_000; i++) {
      big.addVectors(vector("big-" + i, base.row(i % N)));
    }
    UpsertVectorsRequest request = big.build();
    assertTrue(request.getSerializedSize() > 64 << 20);
    StatusRuntimeException e = assertThrowsStatus(
        () -> stubs.vectors().upsertVectors(request));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode(), e.getStatus().toString());
    assertTrue(e.getStatus().getDescription().contains("exceeds maximum size"),
        e.getStatus().getDescription());
  }

  @Test
  void searchErrorsCarryRetryInfoOnlyWhenRetrying() {
    StatusRuntimeException e = assertStatus(Status.Code.INVALID_ARGUMENT, "top_k",
        () -> stubs.search().search(search(query(row(0))).setTopK(0).build()));
    assertEquals(null, unpack(StatusProto.fromThrowable(e), RetryInfo.class));
  }

  private static StatusRuntimeException assertThrowsStatus(Executable call) {
    StatusRuntimeException e =
        org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class, call);
    assertNotNull(e.getStatus().getDescription());
    return e;
  }
}
