package dev.codebook.server;

import static dev.codebook.server.ServerTestSupport.assertStatus;
import static dev.codebook.server.ServerTestSupport.create;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.codebook.api.v1.Collection;
import dev.codebook.api.v1.DeleteCollectionRequest;
import dev.codebook.api.v1.GetCollectionRequest;
import dev.codebook.api.v1.ListCollectionsRequest;
import dev.codebook.api.v1.ListCollectionsResponse;
import dev.codebook.api.v1.Metric;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Create, get, list (paged) and delete through the real server. */
class CollectionServiceTest {

  @Test
  void createGetListPagesAndDelete() throws Exception {
    try (CodebookServer server = CodebookServer.start(ServerTestSupport.testConfig())) {
      ManagedChannel channel = ServerTestSupport.channel(server);
      try {
        ServerTestSupport.Stubs s = ServerTestSupport.Stubs.of(channel);
        for (String id : List.of("e", "b", "d", "a", "c")) {
          Collection c = create(s, id, 8, Metric.EUCLIDEAN, "IVF4,PQ2");
          assertEquals("collections/" + id, c.getName());
          assertEquals(8, c.getDimension());
          assertEquals(Metric.EUCLIDEAN, c.getMetric());
          assertEquals("IVF4,PQ2", c.getIndexSpec());
          assertEquals(Collection.State.UNTRAINED, c.getState());
          assertTrue(c.getCreateTime().getSeconds() > 0);
        }
        Collection got = s.collections().getCollection(
            GetCollectionRequest.newBuilder().setName("collections/c").build());
        assertEquals(0, got.getVectorCount());

        List<String> names = new ArrayList<>();
        String token = "";
        int pages = 0;
        do {
          ListCollectionsResponse page = s.collections().listCollections(
              ListCollectionsRequest.newBuilder().setPageSize(2).setPageToken(token).build());
          page.getCollectionsList().forEach(c -> names.add(c.getName()));
          token = page.getNextPageToken();
          pages++;
        } while (!token.isEmpty());
        assertEquals(3, pages);
        assertEquals(List.of("collections/a", "collections/b", "collections/c", "collections/d",
            "collections/e"), names);
        // Exactly one full page: no token.
        assertEquals("", s.collections().listCollections(ListCollectionsRequest.newBuilder()
            .setPageSize(5).build()).getNextPageToken());

        s.collections().deleteCollection(
            DeleteCollectionRequest.newBuilder().setName("collections/c").build());
        assertStatus(Status.Code.NOT_FOUND, null, () -> s.collections().getCollection(
            GetCollectionRequest.newBuilder().setName("collections/c").build()));
        assertEquals(4, s.collections().listCollections(ListCollectionsRequest.getDefaultInstance())
            .getCollectionsCount());
        // The id is free again.
        create(s, "c", 16, Metric.COSINE, "Flat");
        // Every spec IndexFactory builds is accepted, OPQ included (its build is tested in index).
        assertEquals("OPQ16,IVF1024,PQ16x4fsr,RFlat", create(s, "opq", 384, Metric.COSINE,
            "OPQ16,IVF1024,PQ16x4fsr,RFlat").getIndexSpec());
      } finally {
        ServerTestSupport.close(channel);
      }
    }
  }
}
