package dev.codebook.server.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import com.google.protobuf.UnknownFieldSet;
import dev.codebook.index.filter.Filter;
import dev.codebook.server.collection.InvalidFieldException;
import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.ProtoUtils;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Lets a service answer INVALID_ARGUMENT for a request that does not parse. grpc-java fails such
 * a call with UNKNOWN ("Application error processing RPC") before the service sees it; the most
 * likely cause here is a search filter nested past protobuf's recursion limit. This marshaller
 * parses with a raised limit ({@value #RECURSION_LIMIT}, so filters up to the API's own depth
 * limit and well past it reach the filter checks, which name the field) and turns a parse failure
 * into a default request carrying the parser's message in unknown field {@value #MARKER_FIELD},
 * which {@link #parseError} reads back.
 */
final class UnparsedRequests {

  /** Message nesting accepted by the parser (protobuf's default is 100). */
  static final int RECURSION_LIMIT = 512;

  /** Unknown field number holding a parse error; the largest field number protobuf allows. */
  static final int MARKER_FIELD = 536_870_911;

  private UnparsedRequests() {}

  /** {@code service} with method {@code method}'s request marshaller replaced as described. */
  static <Q extends Message> ServerServiceDefinition lenient(ServerServiceDefinition service,
      MethodDescriptor<Q, ?> method, Q defaultInstance) {
    ServiceDescriptor old = service.getServiceDescriptor();
    ServiceDescriptor.Builder sd = ServiceDescriptor.newBuilder(old.getName())
        .setSchemaDescriptor(old.getSchemaDescriptor());
    List<ServerMethodDefinition<?, ?>> methods = new ArrayList<>();
    for (ServerMethodDefinition<?, ?> m : service.getMethods()) {
      ServerMethodDefinition<?, ?> kept =
          m.getMethodDescriptor().getFullMethodName().equals(method.getFullMethodName())
              ? replace(m, new Lenient<>(defaultInstance)) : m;
      methods.add(kept);
      sd.addMethod(kept.getMethodDescriptor());
    }
    // The definition must hold the very descriptors of its service descriptor.
    ServerServiceDefinition.Builder def = ServerServiceDefinition.builder(sd.build());
    methods.forEach(def::addMethod);
    return def.build();
  }

  /** The parse error a {@link Lenient} marshaller recorded in {@code request}, or null. */
  static String parseError(Message request) {
    UnknownFieldSet.Field f = request.getUnknownFields().getField(MARKER_FIELD);
    return f == null || f.getLengthDelimitedList().isEmpty() ? null
        : f.getLengthDelimitedList().get(0).toStringUtf8();
  }

  /**
   * Throws INVALID_ARGUMENT for a request that did not parse: naming {@code filter} when it nests
   * too deeply (the likely cause), else the whole request.
   */
  static void check(Message request) {
    String unparsed = parseError(request);
    if (unparsed != null) {
      throw unparsed.contains("nesting")
          ? new InvalidFieldException("filter", InvalidFieldException.INVALID_FILTER,
              "filter nests too deeply to parse (" + unparsed + "); at most "
                  + Filter.MAX_DEPTH + " levels are allowed")
          : new InvalidFieldException("request", InvalidFieldException.INVALID_VALUE,
              "the request is not a valid " + request.getDescriptorForType().getFullName()
                  + ": " + unparsed);
    }
  }

  @SuppressWarnings("unchecked")
  private static <Q, R> ServerMethodDefinition<Q, R> replace(ServerMethodDefinition<Q, R> m,
      MethodDescriptor.Marshaller<?> requests) {
    MethodDescriptor<Q, R> md = m.getMethodDescriptor().toBuilder()
        .setRequestMarshaller((MethodDescriptor.Marshaller<Q>) requests).build();
    return ServerMethodDefinition.create(md, m.getServerCallHandler());
  }

  private static final class Lenient<Q extends Message> implements MethodDescriptor.Marshaller<Q> {
    private final Q defaultInstance;
    private final MethodDescriptor.Marshaller<Q> delegate;

    Lenient(Q defaultInstance) {
      this.defaultInstance = defaultInstance;
      this.delegate = ProtoUtils.marshallerWithRecursionLimit(defaultInstance, RECURSION_LIMIT);
    }

    @Override
    public InputStream stream(Q value) {
      return delegate.stream(value);
    }

    @Override
    @SuppressWarnings("unchecked")
    public Q parse(InputStream stream) {
      try {
        return delegate.parse(stream);
      } catch (StatusRuntimeException e) {
        String why = e.getStatus().getCause() != null ? e.getStatus().getCause().getMessage()
            : e.getStatus().getDescription();
        UnknownFieldSet marker = UnknownFieldSet.newBuilder().addField(MARKER_FIELD,
            UnknownFieldSet.Field.newBuilder().addLengthDelimited(
                ByteString.copyFromUtf8(String.valueOf(why))).build()).build();
        return (Q) defaultInstance.toBuilder().setUnknownFields(marker).build();
      }
    }
  }
}
