package dev.codebook.loadtest.load;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * A server address, {@code HOST:PORT}, and the guard that keeps a load test on this machine
 * unless asked otherwise: a load generator pointed at someone else's server by a typo is an
 * attack, so anything that does not resolve to loopback only needs {@code --allow-remote}.
 *
 * @param host a name, an IPv4 address or an IPv6 address (bracketed in the text form)
 * @param port 1 to 65535
 */
public record Target(String host, int port) {

  public Target {
    if (host == null || host.isBlank()) {
      throw new IllegalArgumentException("--target: the host is empty; expected HOST:PORT");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("--target: port must be 1 to 65535, got " + port);
    }
  }

  /** Parses {@code host:port}, {@code [v6]:port}. */
  public static Target parse(String text) {
    String t = text == null ? "" : text.strip();
    int colon = t.lastIndexOf(':');
    if (colon <= 0 || colon == t.length() - 1 || (t.indexOf(':') != colon && !t.startsWith("["))) {
      throw new IllegalArgumentException("--target '" + text + "' is not HOST:PORT (IPv6 as [::1]:PORT)");
    }
    String host = t.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(t.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--target '" + text + "': port '" + t.substring(colon + 1)
          + "' is not a number");
    }
    return new Target(host, port);
  }

  /** Whether every address the host resolves to is a loopback address. */
  public boolean isLoopback() {
    try {
      InetAddress[] all = InetAddress.getAllByName(host);
      for (InetAddress a : all) {
        if (!a.isLoopbackAddress()) {
          return false;
        }
      }
      return all.length > 0;
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("--target: unknown host '" + host + "'");
    }
  }

  /** Throws unless the target is loopback or {@code allowRemote}. */
  public Target requireLoopback(boolean allowRemote) {
    if (!allowRemote && !isLoopback()) {
      throw new IllegalArgumentException("--target " + this + " is not a loopback address;"
          + " a load test only runs against this machine unless --allow-remote is given");
    }
    return this;
  }

  /** The form gRPC's target parser takes. */
  @Override
  public String toString() {
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }
}
