package dev.codebook.server.grpc;

import dev.codebook.api.v1.AttributeValue;
import dev.codebook.api.v1.DeleteVectorsRequest;
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
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** {@code codebook.v1.VectorService}: upsert, delete and get vectors by id. */
public final class VectorGrpcService extends VectorServiceGrpc.VectorServiceImplBase {

  private final CollectionRegistry registry;

  public VectorGrpcService(CollectionRegistry registry) {
    this.registry = registry;
  }

  @Override
  public void upsertVectors(UpsertVectorsRequest request,
      StreamObserver<UpsertVectorsResponse> responseObserver) {
    Unary.respond(responseObserver, () -> {
      String id = Requests.collectionId("collection", request.getCollection());
      if (request.getVectorsCount() == 0) {
        throw new InvalidFieldException("vectors", InvalidFieldException.MISSING_FIELD,
            "vectors is empty; give at least one vector to upsert");
      }
      Collection c = registry.get(id);
      List<Vector> vectors = request.getVectorsList();
      FloatMatrix values = Requests.vectors(vectors, c.dimension(), c.similarity());
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
    });
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
