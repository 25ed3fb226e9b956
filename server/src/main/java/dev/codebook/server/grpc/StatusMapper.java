package dev.codebook.server.grpc;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import com.google.rpc.PreconditionFailure;
import com.google.rpc.ResourceInfo;
import com.google.rpc.RetryInfo;
import com.google.rpc.Status;
import dev.codebook.index.vector.MalformedVectorFileException;
import dev.codebook.server.collection.CapacityExceededException;
import dev.codebook.server.collection.CollectionAlreadyExistsException;
import dev.codebook.server.collection.CollectionNotFoundException;
import dev.codebook.server.collection.CollectionStateException;
import dev.codebook.server.collection.InvalidFieldException;
import dev.codebook.server.collection.VectorsNotFoundException;
import dev.codebook.server.job.JobNotFoundException;
import dev.codebook.server.search.SearchRejectedException;
import io.grpc.Context;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.RejectedExecutionException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.lucene.index.CorruptIndexException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where exceptions become gRPC statuses (AIP-193): a code, a message a person can
 * act on, and {@code google.rpc} details a program can act on: {@code ErrorInfo} with a reason
 * in the {@value #DOMAIN} domain always, plus {@code BadRequest} field violations, {@code
 * ResourceInfo}, {@code PreconditionFailure} or {@code RetryInfo} where they apply.
 *
 * <table>
 *   <caption>Mapping</caption>
 *   <tr><th>exception</th><th>code</th></tr>
 *   <tr><td>{@link InvalidFieldException}, other IllegalArgumentException</td><td>INVALID_ARGUMENT</td></tr>
 *   <tr><td>{@link CollectionNotFoundException}, {@link VectorsNotFoundException},
 *       {@link JobNotFoundException}</td><td>NOT_FOUND</td></tr>
 *   <tr><td>{@link CollectionAlreadyExistsException}</td><td>ALREADY_EXISTS</td></tr>
 *   <tr><td>{@link CollectionStateException}</td><td>FAILED_PRECONDITION</td></tr>
 *   <tr><td>{@link SearchRejectedException} of a full queue (see {@link #searchQueueFull}),
 *       other RejectedExecutionException,
 *       {@link CapacityExceededException}</td><td>RESOURCE_EXHAUSTED</td></tr>
 *   <tr><td>shutting down ({@link #draining}, a {@link SearchRejectedException} after
 *       shutdown)</td><td>UNAVAILABLE</td></tr>
 *   <tr><td>no or a wrong API key ({@link #unauthenticated})</td><td>UNAUTHENTICATED</td></tr>
 *   <tr><td>CancellationException (see {@link #cancelled})</td><td>CANCELLED or DEADLINE_EXCEEDED</td></tr>
 *   <tr><td>UnsupportedOperationException</td><td>UNIMPLEMENTED</td></tr>
 *   <tr><td>CorruptIndexException, MalformedVectorFileException, or an UncheckedIOException
 *       caused by one (a collection whose files are damaged)</td><td>DATA_LOSS</td></tr>
 *   <tr><td>other UncheckedIOException (storage failed; the write was not applied)</td>
 *       <td>UNAVAILABLE</td></tr>
 *   <tr><td>anything else</td><td>INTERNAL (logged with its stack trace)</td></tr>
 * </table>
 */
public final class StatusMapper {

  private static final Logger LOG = LoggerFactory.getLogger(StatusMapper.class);

  /** The {@code ErrorInfo.domain} of Codebook's errors. */
  public static final String DOMAIN = "codebook.dev";

  /** How long a client should back off after RESOURCE_EXHAUSTED from a full search queue. */
  static final long RETRY_AFTER_MILLIS = 50;

  /**
   * Index messages that name a row of the request: {@code "queries[3] has a non-finite value"},
   * {@code "vectors[2]: vector dimensions differ"}.
   */
  private static final Pattern INDEXED_ROW =
      Pattern.compile("^((?:batches\\[\\d+]\\.)?)(queries|vectors)\\[(\\d+)]");

  private StatusMapper() {}

  /** The status for {@code t}, ready for {@code onError}. */
  public static StatusRuntimeException toStatusException(Throwable t) {
    if (t instanceof StatusRuntimeException e) {
      return e;
    }
    if (t instanceof StatusException e) {
      return new StatusRuntimeException(e.getStatus(), e.getTrailers());
    }
    return StatusProto.toStatusRuntimeException(toStatus(t));
  }

  /** The {@code google.rpc.Status} for {@code t}. */
  static Status toStatus(Throwable t) {
    String msg = t.getMessage() != null ? t.getMessage() : t.toString();
    if (t instanceof InvalidFieldException e) {
      return invalidArgument(e.field(), e.reason(), msg);
    }
    if (t instanceof CollectionNotFoundException e) {
      return status(Code.NOT_FOUND, msg, errorInfo("COLLECTION_NOT_FOUND",
          Map.of("collection", e.name())), resource("codebook.v1.Collection", e.name(), msg));
    }
    if (t instanceof VectorsNotFoundException e) {
      List<String> missing = e.missing();
      return status(Code.NOT_FOUND, msg, errorInfo("VECTOR_NOT_FOUND",
              Map.of("collection", e.collection(), "missing_count", Integer.toString(missing.size()),
                  "first_missing_id", missing.get(0))),
          resource("codebook.v1.Vector", e.collection() + "/vectors/" + missing.get(0), msg));
    }
    if (t instanceof JobNotFoundException e) {
      return status(Code.NOT_FOUND, msg, errorInfo("OPERATION_NOT_FOUND",
          Map.of("operation", e.name())), resource("codebook.v1.Operation", e.name(), msg));
    }
    if (t instanceof CollectionAlreadyExistsException e) {
      return status(Code.ALREADY_EXISTS, msg, errorInfo("COLLECTION_EXISTS",
          Map.of("collection", e.name())), resource("codebook.v1.Collection", e.name(), msg));
    }
    if (t instanceof CollectionStateException e) {
      return status(Code.FAILED_PRECONDITION, msg, errorInfo(e.reason(), Map.of()),
          PreconditionFailure.newBuilder().addViolations(PreconditionFailure.Violation.newBuilder()
              .setType(e.reason()).setDescription(msg)).build());
    }
    if (t instanceof CapacityExceededException) {
      return status(Code.RESOURCE_EXHAUSTED, msg, errorInfo("CAPACITY_EXCEEDED", Map.of()));
    }
    if (t instanceof IllegalArgumentException) {
      return fromIndexMessage(msg);
    }
    if (t instanceof SearchRejectedException e) {
      return e.shutdown() ? drainingStatus() : searchQueueFullStatus(e.threads(), e.queueCapacity());
    }
    if (t instanceof RejectedExecutionException) {
      return status(Code.RESOURCE_EXHAUSTED, "server overloaded: " + msg,
          errorInfo("OVERLOADED", Map.of()), retryInfo());
    }
    if (t instanceof CancellationException) {
      return status(Code.CANCELLED, msg, errorInfo("CANCELLED", Map.of()));
    }
    if (t instanceof UnsupportedOperationException) {
      return status(Code.UNIMPLEMENTED, msg, errorInfo("UNIMPLEMENTED", Map.of()));
    }
    if (t instanceof CorruptIndexException || t instanceof MalformedVectorFileException) {
      LOG.error("data loss", t);
      return status(Code.DATA_LOSS, msg, errorInfo("CORRUPT_DATA", Map.of()));
    }
    if (t instanceof java.io.UncheckedIOException e) {
      for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
        if (c instanceof CorruptIndexException) {
          LOG.error("data loss: {}", msg);
          return status(Code.DATA_LOSS, msg, errorInfo("CORRUPT_DATA", Map.of()));
        }
      }
      // The write-ahead log or a file could not be written: nothing was acknowledged.
      LOG.error("storage failure", t);
      return status(Code.UNAVAILABLE, msg + "; the request was not applied, retry later",
          errorInfo("STORAGE_UNAVAILABLE", Map.of()));
    }
    LOG.error("internal error", t);
    return status(Code.INTERNAL,
        "internal error (" + t.getClass().getSimpleName() + "); the server log has the details",
        errorInfo("INTERNAL", Map.of()));
  }

  /**
   * An IllegalArgumentException from the index library: its message leads with the row it is
   * about when it knows it ({@code queries[3] ...}), which becomes the field violation.
   */
  private static Status fromIndexMessage(String msg) {
    Matcher m = INDEXED_ROW.matcher(msg);
    String reason = msg.contains("dimensions differ") ? InvalidFieldException.DIMENSION_MISMATCH
        : msg.contains("non-finite") ? InvalidFieldException.NON_FINITE_VALUE
        : msg.contains("cannot be normalized") ? InvalidFieldException.ZERO_VECTOR
        : msg.contains("is too large") ? InvalidFieldException.OUT_OF_RANGE
        : InvalidFieldException.INVALID_VALUE;
    if (m.find()) {
      String field = m.group(1) + m.group(2) + "[" + m.group(3) + "]"
          + (m.group(2).equals("queries") ? ".vector" : ".values");
      return invalidArgument(field, reason, msg);
    }
    return status(Code.INVALID_ARGUMENT, msg, errorInfo(reason, Map.of()));
  }

  /** RESOURCE_EXHAUSTED for a search the bounded queue had no room for. */
  public static StatusRuntimeException searchQueueFull(int threads, int queueCapacity) {
    return StatusProto.toStatusRuntimeException(searchQueueFullStatus(threads, queueCapacity));
  }

  private static Status searchQueueFullStatus(int threads, int queueCapacity) {
    return status(Code.RESOURCE_EXHAUSTED,
        "search queue full (" + threads + " search threads, " + queueCapacity
            + " queued searches); retry with backoff, or send fewer concurrent searches",
        errorInfo("SEARCH_QUEUE_FULL", Map.of("queue_capacity", Integer.toString(queueCapacity))),
        retryInfo());
  }

  /** UNAUTHENTICATED: the call carried no API key, or one the server does not accept. */
  public static StatusRuntimeException unauthenticated(String message) {
    return StatusProto.toStatusRuntimeException(status(Code.UNAUTHENTICATED, message,
        errorInfo("API_KEY_INVALID", Map.of())));
  }

  /** UNAVAILABLE while the server shuts down: retry elsewhere or later. */
  public static StatusRuntimeException draining() {
    return StatusProto.toStatusRuntimeException(drainingStatus());
  }

  private static Status drainingStatus() {
    return status(Code.UNAVAILABLE,
        "server is shutting down; retry on another server or after it restarts",
        errorInfo("SERVER_DRAINING", Map.of()));
  }

  /**
   * The status of a call that ended before its work did: DEADLINE_EXCEEDED if its deadline
   * passed, else CANCELLED (the client went away).
   */
  public static StatusRuntimeException cancelled(Context context, String what) {
    boolean expired = context.getDeadline() != null && context.getDeadline().isExpired();
    return StatusProto.toStatusRuntimeException(expired
        ? status(Code.DEADLINE_EXCEEDED, "deadline exceeded: " + what,
            errorInfo("DEADLINE_EXCEEDED", Map.of()))
        : status(Code.CANCELLED, "call cancelled: " + what, errorInfo("CANCELLED", Map.of())));
  }

  private static Status invalidArgument(String field, String reason, String msg) {
    return status(Code.INVALID_ARGUMENT, msg, errorInfo(reason, Map.of("field", field)),
        BadRequest.newBuilder().addFieldViolations(BadRequest.FieldViolation.newBuilder()
            .setField(field).setDescription(msg).setReason(reason)).build());
  }

  private static ErrorInfo errorInfo(String reason, Map<String, String> metadata) {
    return ErrorInfo.newBuilder().setReason(reason).setDomain(DOMAIN).putAllMetadata(metadata)
        .build();
  }

  private static ResourceInfo resource(String type, String name, String description) {
    return ResourceInfo.newBuilder().setResourceType(type).setResourceName(name)
        .setDescription(description).build();
  }

  private static RetryInfo retryInfo() {
    return RetryInfo.newBuilder().setRetryDelay(com.google.protobuf.Duration.newBuilder()
        .setNanos((int) (RETRY_AFTER_MILLIS * 1_000_000))).build();
  }

  private static Status status(Code code, String message, com.google.protobuf.Message... details) {
    Status.Builder b = Status.newBuilder().setCode(code.getNumber()).setMessage(message);
    for (com.google.protobuf.Message d : details) {
      b.addDetails(Any.pack(d));
    }
    return b.build();
  }
}
