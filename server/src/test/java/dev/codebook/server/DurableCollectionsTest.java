package dev.codebook.server;

import static dev.codebook.server.ServerTestSupport.assertStatus;
import static dev.codebook.server.ServerTestSupport.create;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.codebook.api.v1.Collection;
import dev.codebook.api.v1.DeleteCollectionRequest;
import dev.codebook.api.v1.DeleteVectorsRequest;
import dev.codebook.api.v1.GetCollectionRequest;
import dev.codebook.api.v1.GetVectorsRequest;
import dev.codebook.api.v1.ListCollectionsRequest;
import dev.codebook.api.v1.Metric;
import dev.codebook.api.v1.SearchResponse;
import dev.codebook.index.collection.CollectionOptions;
import dev.codebook.index.store.Durability;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.server.collection.CollectionRegistry;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Collections outlive the server: restart, and damaged files isolated to their collection. */
class DurableCollectionsTest {

  @TempDir Path data;

  static CollectionOptions options() {
    return CollectionOptions.defaults().withDurability(Durability.group(
        java.time.Duration.ofMillis(2))).withFlushRows(700);
  }

  CodebookServer start() throws Exception {
    return CodebookServer.start(ServerTestSupport.testConfig(),
        CollectionRegistry.open(data, options()));
  }

  static Collection get(ServerTestSupport.Stubs s, String id) {
    return s.collections().getCollection(
        GetCollectionRequest.newBuilder().setName("collections/" + id).build());
  }

  @Test
  void operationsOutliveARestartAndTheirNamesAreNotReused() throws Exception {
    FloatMatrix train = ServerTestSupport.sample().train();
    dev.codebook.api.v1.Operation built;
    try (CodebookServer server = start()) {
      ManagedChannel ch = ServerTestSupport.channel(server);
      ServerTestSupport.Stubs s = ServerTestSupport.Stubs.of(ch);
      create(s, "docs", 384, Metric.COSINE, "IVF16,PQ48x4fs");
      ServerTestSupport.upsertRows(s, "collections/docs", train, 0, 1000);
      built = ServerTestSupport.buildAndWait(s, "collections/docs", 0);
      assertEquals(dev.codebook.api.v1.Operation.State.SUCCEEDED, built.getState());
      ServerTestSupport.close(ch);
    }
    try (CodebookServer server = start()) {
      ManagedChannel ch = ServerTestSupport.channel(server);
      ServerTestSupport.Stubs s = ServerTestSupport.Stubs.of(ch);
      dev.codebook.api.v1.Operation again = s.operations().getOperation(
          dev.codebook.api.v1.GetOperationRequest.newBuilder().setName(built.getName()).build());
      assertEquals(built, again, "the earlier run's operation, result and all");
      assertEquals(built, s.operations().waitOperation(dev.codebook.api.v1.WaitOperationRequest
          .newBuilder().setName(built.getName()).setTimeoutMillis(60_000).build()),
          "final: a wait answers at once");
      assertEquals(built, s.operations().cancelOperation(dev.codebook.api.v1
          .CancelOperationRequest.newBuilder().setName(built.getName()).build()),
          "final: a cancel leaves it as it ended");
      dev.codebook.api.v1.Operation next = ServerTestSupport.buildAndWait(s, "collections/docs", 1);
      assertTrue(!next.getName().equals(built.getName()), next.getName() + " reuses a name");
      assertEquals(List.of(next.getName(), built.getName()), listAll(s),
          "this run's first, newest first, one a page");
      ServerTestSupport.close(ch);
    }
  }

  /** Every operation name, following the pages one operation at a time. */
  static List<String> listAll(ServerTestSupport.Stubs s) {
    List<String> names = new java.util.ArrayList<>();
    String token = "";
    do {
      dev.codebook.api.v1.ListOperationsResponse r = s.operations().listOperations(
          dev.codebook.api.v1.ListOperationsRequest.newBuilder().setPageSize(1)
              .setPageToken(token).build());
      r.getOperationsList().forEach(o -> names.add(o.getName()));
      token = r.getNextPageToken();
    } while (!token.isEmpty());
    return names;
  }

  @Test
  void collectionsTheirVectorsDeletesAndIndexSurviveARestart() throws Exception {
    FloatMatrix train = ServerTestSupport.sample().train();
    FloatMatrix test = ServerTestSupport.sample().test();
    SearchResponse before;
    try (CodebookServer server = start()) {
      ManagedChannel ch = ServerTestSupport.channel(server);
      ServerTestSupport.Stubs s = ServerTestSupport.Stubs.of(ch);
      create(s, "docs", 384, Metric.COSINE, "IVF32,PQ48x4fs,RFlat");
      ServerTestSupport.upsertRows(s, "collections/docs", train, 0, 3000);
      ServerTestSupport.buildAndWait(s, "collections/docs", 0);
      ServerTestSupport.upsertRows(s, "collections/docs", train, 3000, 3500);
      s.vectors().deleteVectors(DeleteVectorsRequest.newBuilder().setCollection("collections/docs")
          .addIds("7").addIds("3100").build());
      ServerTestSupport.close(ch);
    }
    // The graceful stop flushed the buffer into a segment encoded with the trained codebook.
    try (CodebookServer server = start()) {
      ManagedChannel ch = ServerTestSupport.channel(server);
      ServerTestSupport.Stubs s = ServerTestSupport.Stubs.of(ch);
      before = s.search().search(ServerTestSupport.searchRequest("collections/docs", test, 0, 50,
          10).setNprobe(8).setRerank(10).build());
      ServerTestSupport.close(ch);
    }
    try (CodebookServer server = start()) {
      ManagedChannel ch = ServerTestSupport.channel(server);
      ServerTestSupport.Stubs s = ServerTestSupport.Stubs.of(ch);
      Collection c = get(s, "docs");
      assertEquals(3498, c.getVectorCount());
      assertEquals(Collection.State.READY, c.getState());
      assertStatus(Status.Code.NOT_FOUND, null, () -> s.vectors().getVectors(
          GetVectorsRequest.newBuilder().setCollection("collections/docs").addIds("3100").build()));
      SearchResponse after = s.search().search(ServerTestSupport.searchRequest("collections/docs",
          test, 0, 50, 10).setNprobe(8).setRerank(10).build());
      // Same codebook, same codes, same vectors: the same answers.
      for (int q = 0; q < 50; q++) {
        assertEquals(before.getResults(q).getNeighborsList().stream().map(n -> n.getId()).toList(),
            after.getResults(q).getNeighborsList().stream().map(n -> n.getId()).toList());
      }
      ServerTestSupport.close(ch);
    }
  }

  @Test
  void aDamagedSegmentFileFailsItsCollectionWithDataLossNamingTheFileOthersKeepServing()
      throws Exception {
    FloatMatrix train = ServerTestSupport.sample().train();
    try (CodebookServer server = start()) {
      ManagedChannel ch = ServerTestSupport.channel(server);
      ServerTestSupport.Stubs s = ServerTestSupport.Stubs.of(ch);
      create(s, "good", 384, Metric.COSINE, "Flat");
      create(s, "bad", 384, Metric.COSINE, "Flat");
      ServerTestSupport.upsertRows(s, "collections/good", train, 0, 1000);
      ServerTestSupport.upsertRows(s, "collections/bad", train, 0, 1000);
      ServerTestSupport.close(ch);
    }
    Path bad = data.resolve("collections/bad");
    Path vec;
    try (var files = Files.list(bad)) {
      vec = files.filter(p -> p.getFileName().toString().endsWith(".vec")).findFirst()
          .orElseThrow();
    }
    byte[] b = Files.readAllBytes(vec);
    b[b.length / 2] ^= 1;
    Files.write(vec, b);
    try (CodebookServer server = start()) {
      ManagedChannel ch = ServerTestSupport.channel(server);
      ServerTestSupport.Stubs s = ServerTestSupport.Stubs.of(ch);
      StatusRuntimeException e = assertStatus(Status.Code.DATA_LOSS, null, () -> get(s, "bad"));
      assertTrue(e.getStatus().getDescription().contains(vec.getFileName().toString()),
          e.getStatus().getDescription());
      assertStatus(Status.Code.DATA_LOSS, null, () -> s.search().search(
          ServerTestSupport.searchRequest("collections/bad", train, 0, 1, 5).build()));
      assertEquals(1000, get(s, "good").getVectorCount());
      assertEquals("5", s.search().search(ServerTestSupport.searchRequest("collections/good",
          train, 5, 6, 1).build()).getResults(0).getNeighbors(0).getId());
      // Listed, FAILED, with the reason naming the file; one a page pages through both.
      List<Collection> listed = s.collections().listCollections(
          ListCollectionsRequest.newBuilder().build()).getCollectionsList();
      assertEquals(List.of("collections/bad", "collections/good"), listed.stream()
          .map(Collection::getName).toList());
      assertEquals(Collection.State.FAILED, listed.get(0).getState());
      assertTrue(listed.get(0).getFailure().contains(vec.getFileName().toString()),
          listed.get(0).getFailure());
      assertEquals(Collection.State.UNTRAINED, listed.get(1).getState());
      assertEquals("", listed.get(1).getFailure());
      dev.codebook.api.v1.ListCollectionsResponse first = s.collections().listCollections(
          ListCollectionsRequest.newBuilder().setPageSize(1).build());
      assertEquals("collections/bad", first.getCollections(0).getName());
      assertEquals("collections/good", s.collections().listCollections(ListCollectionsRequest
          .newBuilder().setPageSize(1).setPageToken(first.getNextPageToken()).build())
          .getCollections(0).getName());
      // The operator can drop the damaged collection and create it again.
      s.collections().deleteCollection(DeleteCollectionRequest.newBuilder()
          .setName("collections/bad").build());
      create(s, "bad", 384, Metric.COSINE, "Flat");
      assertEquals(0, get(s, "bad").getVectorCount());
      ServerTestSupport.close(ch);
    }
  }
}
