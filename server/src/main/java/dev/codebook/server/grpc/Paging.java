package dev.codebook.server.grpc;

import dev.codebook.server.collection.InvalidFieldException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** Page sizes and opaque page tokens of the List calls (AIP-158), shared by the services. */
final class Paging {

  /** Page size when the request leaves it 0. */
  static final int DEFAULT_PAGE_SIZE = 50;

  /** Larger page sizes are lowered to this. */
  static final int MAX_PAGE_SIZE = 1000;

  private Paging() {}

  /** The page size a request asks for: 0 means the default, more than the maximum the maximum. */
  static int pageSize(int requested) {
    if (requested < 0) {
      throw new InvalidFieldException("page_size", InvalidFieldException.OUT_OF_RANGE,
          "page_size must not be negative, got " + requested);
    }
    return requested == 0 ? DEFAULT_PAGE_SIZE : Math.min(requested, MAX_PAGE_SIZE);
  }

  /** A token carrying {@code position} for the listing that {@code kind} names. */
  static String encode(String kind, String position) {
    return Base64.getUrlEncoder().withoutPadding()
        .encodeToString((kind + position).getBytes(StandardCharsets.UTF_8));
  }

  /**
   * The position a token of listing {@code kind} carries; null for an empty token (the first
   * page).
   *
   * @throws InvalidFieldException naming page_token for a token this server did not issue
   */
  static String decode(String kind, String token) {
    if (token.isEmpty()) {
      return null;
    }
    try {
      String s = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
      if (s.startsWith(kind)) {
        return s.substring(kind.length());
      }
    } catch (IllegalArgumentException e) {
      // not base64: fall through
    }
    throw foreignToken();
  }

  static InvalidFieldException foreignToken() {
    return new InvalidFieldException("page_token", InvalidFieldException.INVALID_VALUE,
        "page_token is not one this server issued; pass a next_page_token unchanged, or"
            + " leave it empty for the first page");
  }
}
