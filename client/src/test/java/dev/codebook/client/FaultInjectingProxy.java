package dev.codebook.client;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Grpc;
import io.grpc.HandlerRegistry;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.Status;
import io.grpc.netty.NettyServerBuilder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A gRPC server on a free loopback port that forwards every call, as bytes, to a real server,
 * except where a test planted a fault for a method: fail the call before it reaches the server,
 * lose the answer of a call the server applied, or cut a stream after some answers. It records
 * every call it saw and the request messages it forwarded, so a test can tell what the client
 * sent on each attempt.
 */
final class FaultInjectingProxy implements AutoCloseable {

  /** A call the proxy saw: its method, its request messages (serialized), how it ended. */
  static final class Call {
    final String method;
    final List<byte[]> requests = new CopyOnWriteArrayList<>();
    volatile Status status;

    Call(String method) {
      this.method = method;
    }
  }

  private sealed interface Fault permits Fail, LoseAnswer, CutAfter {}

  /** Answer {@code status} without forwarding the call. */
  private record Fail(Status status) implements Fault {}

  /** Forward the call; when the server has answered, answer UNAVAILABLE instead. */
  private record LoseAnswer() implements Fault {}

  /** Forward the stream; after {@code responses} answers, end it with UNAVAILABLE. */
  private record CutAfter(int responses) implements Fault {}

  private static final MethodDescriptor.Marshaller<byte[]> BYTES =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
          return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream in) {
          try {
            return in.readAllBytes();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      };

  private final ManagedChannel backend;
  private final Server server;
  private final Map<String, Deque<Fault>> faults = new HashMap<>();
  final List<Call> calls = new CopyOnWriteArrayList<>();

  FaultInjectingProxy(String backendTarget) throws IOException {
    this.backend = Grpc.newChannelBuilder(backendTarget, InsecureChannelCredentials.create())
        .build();
    this.server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .fallbackHandlerRegistry(new HandlerRegistry() {
          @Override
          public ServerMethodDefinition<?, ?> lookupMethod(String method, String authority) {
            MethodDescriptor<byte[], byte[]> md = MethodDescriptor.newBuilder(BYTES, BYTES)
                .setFullMethodName(method).setType(MethodDescriptor.MethodType.UNKNOWN).build();
            return ServerMethodDefinition.create(md, new Forward(md));
          }
        })
        .build().start();
  }

  /** Where clients connect. */
  String target() {
    return "127.0.0.1:" + server.getPort();
  }

  /** The next {@code times} calls of {@code method} get {@code status}, never reaching the server. */
  synchronized void failNext(MethodDescriptor<?, ?> method, Status status, int times) {
    for (int i = 0; i < times; i++) {
      plant(method, new Fail(status));
    }
  }

  /** The next call of {@code method} reaches the server, but its answer is lost: UNAVAILABLE. */
  synchronized void loseNextAnswer(MethodDescriptor<?, ?> method) {
    plant(method, new LoseAnswer());
  }

  /** The next stream of {@code method} ends with UNAVAILABLE after {@code responses} answers. */
  synchronized void cutNextStreamAfter(MethodDescriptor<?, ?> method, int responses) {
    plant(method, new CutAfter(responses));
  }

  /** The calls of {@code method} seen so far, in the order they started. */
  List<Call> calls(MethodDescriptor<?, ?> method) {
    return calls.stream().filter(c -> c.method.equals(method.getFullMethodName())).toList();
  }

  private void plant(MethodDescriptor<?, ?> method, Fault fault) {
    faults.computeIfAbsent(method.getFullMethodName(), m -> new ArrayDeque<>()).add(fault);
  }

  private synchronized Fault take(String method) {
    Deque<Fault> q = faults.get(method);
    return q == null ? null : q.poll();
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdownNow();
    backend.shutdownNow();
    server.awaitTermination(5, TimeUnit.SECONDS);
    backend.awaitTermination(5, TimeUnit.SECONDS);
  }

  /** Forwards one call to the backend; every use of either call holds {@code lock}. */
  private final class Forward implements ServerCallHandler<byte[], byte[]> {
    private final MethodDescriptor<byte[], byte[]> method;

    Forward(MethodDescriptor<byte[], byte[]> method) {
      this.method = method;
    }

    @Override
    public ServerCall.Listener<byte[]> startCall(ServerCall<byte[], byte[]> in, Metadata headers) {
      Call seen = new Call(method.getFullMethodName());
      calls.add(seen);
      Fault fault = take(seen.method);
      if (fault instanceof Fail f) {
        seen.status = f.status();
        in.close(f.status(), new Metadata());
        return new ServerCall.Listener<>() {};
      }
      Object lock = new Object();
      boolean[] closed = {false};
      int[] answers = {0};
      ClientCall<byte[], byte[]> out = backend.newCall(method, CallOptions.DEFAULT);
      synchronized (lock) {
        out.start(new ClientCall.Listener<>() {
          @Override
          public void onHeaders(Metadata h) {
            synchronized (lock) {
              if (!closed[0]) {
                in.sendHeaders(h);
              }
            }
          }

          @Override
          public void onMessage(byte[] message) {
            synchronized (lock) {
              if (closed[0]) {
                return;
              }
              if (!(fault instanceof LoseAnswer)) {
                in.sendMessage(message);
              }
              answers[0]++;
              if (fault instanceof CutAfter cut && answers[0] == cut.responses()) {
                closed[0] = true;
                seen.status = Status.UNAVAILABLE.withDescription("stream cut (test)");
                in.close(seen.status, new Metadata());
                out.cancel("cut by the test", null);
                return;
              }
              out.request(1);
            }
          }

          @Override
          public void onClose(Status status, Metadata trailers) {
            synchronized (lock) {
              if (closed[0]) {
                return;
              }
              closed[0] = true;
              if (fault instanceof LoseAnswer && status.isOk()) {
                seen.status = Status.UNAVAILABLE.withDescription("answer lost (test)");
                in.close(seen.status, new Metadata());
              } else {
                seen.status = status;
                in.close(status, trailers);
              }
            }
          }
        }, headers);
        out.request(1);
        in.request(1);
      }
      return new ServerCall.Listener<>() {
        @Override
        public void onMessage(byte[] message) {
          seen.requests.add(message);
          synchronized (lock) {
            if (!closed[0]) {
              out.sendMessage(message);
              in.request(1);
            }
          }
        }

        @Override
        public void onHalfClose() {
          synchronized (lock) {
            if (!closed[0]) {
              out.halfClose();
            }
          }
        }

        @Override
        public void onCancel() {
          synchronized (lock) {
            out.cancel("the client cancelled", null);
          }
        }
      };
    }
  }
}
