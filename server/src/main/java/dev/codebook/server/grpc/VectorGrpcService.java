package dev.codebook.server.grpc;

import dev.codebook.api.v1.AttributeValue;
import dev.codebook.api.v1.DeleteVectorsRequest;
import dev.codebook.api.v1.StreamVectorsRequest;
import dev.codebook.api.v1.StreamVectorsResponse;
import dev.codebook.api.v1.DeleteVectorsResponse;
import dev.codebook.api.v1.GetVectorsRequest;
import dev.codebook.api.v1.GetVectorsResponse;
import dev.codebook.api.v1.UpsertVectorsRequest;
import dev.codebook.api.v1.UpsertVectorsResponse;
import dev.codebook.api.v1.Vector;
import dev.codebook.api.v1.VectorServiceGrpc;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.server.collection.Collection;
import dev.codebook.server.collection.CollectionRegistry;
import dev.codebook.server.collection.InvalidFieldException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** {@code codebook.v1.VectorService}: upsert (one request or a stream), delete and get by id. */
public final class VectorGrpcService extends VectorServiceGrpc.VectorServiceImplBase {

  private final CollectionRegistry registry;

  public VectorGrpcService(CollectionRegistry registry) {
    this.registry = registry;
  }

  @Override
  public void upsertVectors(UpsertVectorsRequest request,
      StreamObserver<UpsertVectorsResponse> responseObserver) {
    Unary.respond(responseObserver,
        () -> upsert(request.getCollection(), request.getVectorsList(), ""));
  }

  /** One all-or-nothing upsert; field names in errors get {@code prefix} in front. */
  private UpsertVectorsResponse upsert(String collection, List<Vector> vectors, String prefix) {
    String id = Requests.collectionId(prefix + "collection", collection);
    if (vectors.isEmpty()) {
      throw new InvalidFieldException(prefix + "vectors", InvalidFieldException.MISSING_FIELD,
          prefix + "vectors is empty; give at least one vector to upsert");
    }
    Collection c = registry.get(id);
    FloatMatrix values = Requests.vectors(vectors, c.dimension(), c.similarity(), prefix);
    List<String> ids = new ArrayList<>(vectors.size());
    List<Map<String, AttributeValue>> attrs = new ArrayList<>(vectors.size());
    for (Vector v : vectors) {
      ids.add(v.getId());
      attrs.add(v.getAttributesCount() == 0 ? Map.of() : Map.copyOf(v.getAttributesMap()));
    }
    Collection.UpsertResult r = c.upsert(ids, values, attrs);
    return UpsertVectorsResponse.newBuilder()
        .setUpsertedCount(r.upserted())
        .setReplacedCount(r.replaced())
        .setVectorCount(r.vectorCount())
        .build();
  }

  /**
   * Bulk ingest with inbound flow control done by hand: automatic requests are off, one batch is
   * requested at the start and the next only after the previous one is applied and acknowledged.
   * So a client writing faster than the collection absorbs is held back by HTTP/2 flow control
   * (its stream stops being ready) rather than buffered here. Batches are applied on the call
   * executor, one at a time per stream, in order.
   */
  @Override
  public StreamObserver<StreamVectorsRequest> streamVectors(
      StreamObserver<StreamVectorsResponse> responseObserver) {
    ServerCallStreamObserver<StreamVectorsResponse> out =
        (ServerCallStreamObserver<StreamVectorsResponse>) responseObserver;
    out.disableAutoRequest();
    out.request(1);
    return new StreamObserver<>() {
      private String collectionName;
      private long batch;
      private long acknowledged;
      private boolean failed;

      @Override
      public void onNext(StreamVectorsRequest request) {
        if (failed) {
          return;
        }
        String prefix = "batches[" + batch + "].";
        StreamVectorsResponse ack;
        try {
          if (collectionName == null) {
            if (request.getCollection().isEmpty()) {
              throw new InvalidFieldException(prefix + "collection",
                  InvalidFieldException.MISSING_FIELD, prefix + "collection is required in the"
                      + " first batch: a collection name like 'collections/my-vectors'");
            }
            Requests.collectionId(prefix + "collection", request.getCollection());
            collectionName = request.getCollection();
          } else if (!request.getCollection().isEmpty()
              && !request.getCollection().equals(collectionName)) {
            throw new InvalidFieldException(prefix + "collection",
                InvalidFieldException.INVALID_VALUE, prefix + "collection '"
                    + Requests.clip(request.getCollection()) + "' differs from the stream's '"
                    + collectionName + "'; one stream writes one collection");
          }
          UpsertVectorsResponse r = upsert(collectionName, request.getVectorsList(), prefix);
          acknowledged += r.getUpsertedCount();
          ack = StreamVectorsResponse.newBuilder()
              .setBatch(batch)
              .setUpsertedCount(r.getUpsertedCount())
              .setReplacedCount(r.getReplacedCount())
              .setAcknowledged(acknowledged)
              .setVectorCount(r.getVectorCount())
              .build();
        } catch (RuntimeException e) {
          failed = true;
          out.onError(StatusMapper.toStatusException(prefixed(e, prefix)));
          return;
        }
        batch++;
        out.onNext(ack);
        out.request(1);
      }

      @Override
      public void onError(Throwable t) {
        // The client cancelled or the connection broke: the acknowledged batches stay written.
        failed = true;
      }

      @Override
      public void onCompleted() {
        if (!failed) {
          out.onCompleted();
        }
      }
    };
  }

  /**
   * Index messages name rows as {@code vectors[3]}; within a stream the row is in a batch, so
   * the message is re-thrown with {@code batches[7].} in front for the status mapper.
   */
  private static RuntimeException prefixed(RuntimeException e, String prefix) {
    if (e instanceof IllegalArgumentException && !(e instanceof InvalidFieldException)
        && e.getMessage() != null && e.getMessage().startsWith("vectors[")) {
      return new IllegalArgumentException(prefix + e.getMessage(), e);
    }
    return e;
  }

  @Override
  public void deleteVectors(DeleteVectorsRequest request,
      StreamObserver<DeleteVectorsResponse> responseObserver) {
    Unary.respond(responseObserver, () -> {
      String id = Requests.collectionId("collection", request.getCollection());
      checkIds(request.getIdsList());
      Collection.DeleteResult r =
          registry.get(id).delete(request.getIdsList(), request.getAllowMissing());
      return DeleteVectorsResponse.newBuilder()
          .setDeletedCount(r.deleted())
          .setVectorCount(r.vectorCount())
          .build();
    });
  }

  @Override
  public void getVectors(GetVectorsRequest request,
      StreamObserver<GetVectorsResponse> responseObserver) {
    Unary.respond(responseObserver, () -> {
      String id = Requests.collectionId("collection", request.getCollection());
      checkIds(request.getIdsList());
      GetVectorsResponse.Builder b = GetVectorsResponse.newBuilder();
      for (Collection.StoredVector v : registry.get(id).get(request.getIdsList())) {
        Vector.Builder vb = b.addVectorsBuilder().setId(v.id()).putAllAttributes(v.attributes());
        for (float x : v.values()) {
          vb.addValues(x);
        }
      }
      return b.build();
    });
  }

  private static void checkIds(List<String> ids) {
    if (ids.isEmpty()) {
      throw new InvalidFieldException("ids", InvalidFieldException.MISSING_FIELD,
          "ids is empty; give at least one id");
    }
    for (int i = 0; i < ids.size(); i++) {
      Requests.checkId("ids[" + i + "]", ids.get(i));
    }
  }
}
