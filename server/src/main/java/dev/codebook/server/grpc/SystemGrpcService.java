package dev.codebook.server.grpc;

import dev.codebook.api.v1.GetServerInfoRequest;
import dev.codebook.api.v1.ServerInfo;
import dev.codebook.api.v1.SystemServiceGrpc;
import dev.codebook.index.simd.KernelSupport;
import dev.codebook.index.simd.VectorKernels;
import io.grpc.stub.StreamObserver;

/** {@code codebook.v1.SystemService}: who is answering. */
public final class SystemGrpcService extends SystemServiceGrpc.SystemServiceImplBase {

  /** The API package this server implements. */
  public static final String API_VERSION = "codebook.v1";

  @Override
  public void getServerInfo(GetServerInfoRequest request,
      StreamObserver<ServerInfo> responseObserver) {
    KernelSupport k = VectorKernels.support();
    String version = SystemGrpcService.class.getPackage().getImplementationVersion();
    responseObserver.onNext(ServerInfo.newBuilder()
        .setVersion(version != null ? version : "0.1.0-SNAPSHOT")
        .setApiVersion(API_VERSION)
        .setKernels(k.name())
        .setJavaVersion(Runtime.version().toString())
        .setVectorBits(k.vectorBitSize())
        .build());
    responseObserver.onCompleted();
  }
}
