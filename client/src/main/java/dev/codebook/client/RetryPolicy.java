package dev.codebook.client;

import io.grpc.Status;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * When a failed call is tried again and after how long: only calls safe to repeat, only on
 * UNAVAILABLE, at most {@code maxRetries} times, waiting for retry n a random time between half
 * and all of {@code min(maxBackoff, initialBackoff * 2^(n-1))} (exponential backoff with jitter,
 * so clients that lost the same server do not come back in step). Immutable.
 */
final class RetryPolicy {

  private final int maxRetries;
  private final long initialBackoffNanos;
  private final long maxBackoffNanos;

  RetryPolicy(int maxRetries, Duration initialBackoff, Duration maxBackoff) {
    this.maxRetries = maxRetries;
    this.initialBackoffNanos = initialBackoff.toNanos();
    this.maxBackoffNanos = Math.max(initialBackoffNanos, maxBackoff.toNanos());
  }

  int maxRetries() {
    return maxRetries;
  }

  /**
   * Whether attempt {@code attempt} (1-based) that failed with {@code status} is tried again.
   * RESOURCE_EXHAUSTED is not: it also means an oversized request.
   */
  boolean retries(boolean idempotent, Status status, int attempt) {
    return idempotent && status.getCode() == Status.Code.UNAVAILABLE && attempt <= maxRetries;
  }

  /** Wait before retry {@code attempt} (1-based): half to all of the capped exponential. */
  long backoffNanos(int attempt) {
    long cap = initialBackoffNanos;
    for (int i = 1; i < attempt && cap < maxBackoffNanos; i++) {
      cap *= 2;
    }
    cap = Math.min(cap, maxBackoffNanos);
    return cap / 2 + ThreadLocalRandom.current().nextLong(cap / 2 + 1);
  }
}
